export type {
  RetentionResult, StatsQuery, StatsReader, StatsWriter, StoreStats, TraceQuery, TraceReader, TraceStore, TraceWriter, WriteBatch,
} from './contract.js';
export {
  chunkEnv, newSketch, type GroupKey, type ServiceRecord, type SpanRecord, type StatsRow, type TraceId, type TraceRecord,
  type TraceSummaryRecord,
} from './records.js';
export { openStore } from './factory.js';
export { storeSettings, type StoreConfig } from './settings.js';
export { SqliteStore } from './sqlite/index.js';
