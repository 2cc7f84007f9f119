export { RemoteConfig, MAX_CLIENTS, settingsPath, type RemoteConfigStore, type RemoteConfigClient, type ServedSettings, type RemoteConfigOptions } from './remote-config.js';
export { RemoteConfigRequestError, type ConfigState } from './protocol.js';
export { parseTracingSettings, settingsId, TracingSettingsError, type TracingSettings, type SamplingRule } from './tracing-settings.js';
