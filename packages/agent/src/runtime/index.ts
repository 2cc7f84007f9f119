export { ConfigError, parseSetting, readSettings, settingSource, settingsMarkdownTable, type Setting, type SettingSource, type SettingSources, type SettingType, type SettingValue } from './settings.js';
export { cpuBudget, isOrchestrated, isFargate } from './environment.js';
export { createLogger, LogOnce, runtimeSettings, type Logger, type RuntimeConfig } from './log.js';
export { agentMetrics, Counter, Gauge, Registry, type AgentMetrics } from './metrics.js';
export { AGENT_BUILD, AGENT_VERSION, ECS_TRACE_VERSION } from './version.js';

