export { startAgent, type RunningAgent, type StartOptions } from './agent.js';
export { loadConfig, receiverHost, isContainerized, configMarkdownTable, ConfigError, SETTINGS, type AgentConfig, type Setting } from './config.js';
export { SqliteStore } from './store/sqlite-store.js';
export type {
  TraceStore, WriteBatch, StoredSpan, StoredTrace, TraceSummary, TraceQuery, ServiceSummary, RetentionResult, StoreStats,
} from './store/store.js';
export { createLogger } from './log.js';
export { AGENT_VERSION } from './info.js';
export { Pipeline, type IntakePayload, type PipelineOptions } from './pipeline.js';
export { TraceSampler } from './sampler/sampler.js';
export { Obfuscator } from './obfuscate/obfuscator.js';
export { StatsService } from './stats/stats-service.js';
export { agentMetrics } from './metrics.js';
export { traceFilters, obfuscationConfig } from './config.js';
