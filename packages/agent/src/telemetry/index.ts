export { Instances, TelemetryError, MAX_INSTANCES, type Instance, type DependencyUse } from './instances.js';
