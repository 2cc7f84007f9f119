export { Instances, TelemetryError, MAX_INSTANCES, type Instance } from './instances.js';
