export { parseMonitor, parseMonitors, monitorToFile, MonitorDefinitionError, METRICS, ERROR_MONITORS, type Monitor, type MonitorsFile, type Channel } from './definition.js';
export { nextState, STATES, type MonitorState, type Reading } from './evaluate.js';
export { MonitorReader, readMonitor, type ReadingSources } from './readings.js';
export { requestFor, send, summaryOf, type SendResult, type Transition } from './notify.js';
export { MonitorRunner, type MonitorEvent, type MonitorStatus, type RunnerOptions } from './runner.js';
export { loadMonitors, monitorsSettings, type MonitorsConfig } from './settings.js';
