export { startAgent, type RunningAgent, type StartOptions } from './agent.js';
export { startupBanner } from './banner.js';
export { loadConfig, configMarkdownTable, SETTINGS, type AgentConfig, type LoadOptions } from './config.js';
export { ConfigError, createLogger, isOrchestrated, AGENT_VERSION, ECS_TRACE_VERSION, agentMetrics, settingSource, type Setting, type Logger, type AgentMetrics } from './runtime/index.js';
export { receiverHost, ENDPOINTS } from './intake/index.js';
export { createPipeline, normalizeChunk, Obfuscator, obfuscationConfig, Pipeline, type IntakePayload, type CreatedPipeline } from './process/index.js';
export { maskedStoreUrl, openStore, postgresStore, storeSchema, SqliteStore, type TraceStore, type TraceReader, type TraceWriter, type WriteBatch } from './store/index.js';
export { Concentrator } from './stats/index.js';
