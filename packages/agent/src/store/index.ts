export type {
  ErrorStatus, ErrorStatusRecord, RemoteConfigRecords, RetentionResult, RollupRead, StoreCondition, RollupReader, StatsQuery, StatsReader, StatsWriter, StoreReader, StoreStats, TraceQuery, TraceReader, TraceStore, TraceWriter, WriteBatch,
} from './contract.js';
export {
  addServiceStats, chunkEnv, decodeSketches, encodeSketches, mergeServiceStats, newSketch, type WithEncodedSketches, type GroupKey, type ServiceStatsRow, type SpanRecord, type StatsRow, type TraceId, type TraceRecord,
  type TraceSummaryRecord,
} from './records.js';
export { decodeSketch } from './sketch-codec.js';
export { packBatch, unpackBatch, type PackedBatch } from './batch-segment.js';
export { openReader, openStore, postgresStore, sharedLease, storeSchema, type StoreTransports } from './factory.js';
export type { PostgresStore } from './postgres/postgres-store.js';
export { ERROR_STATUSES, StoreTimeoutError, StoreUnavailableError } from './contract.js';
export { DataDirLock, DataDirLockedError } from './lock.js';
export { StoreMaintenance, type StoreHealth } from './maintenance.js';
export { StoreOpenError } from './sqlite/index.js';
export { maskedStoreUrl, sharedStore, storeKind, storeSettings, type StoreConfig } from './settings.js';
export { SqliteStore } from './sqlite/index.js';
export { SLOT_WIDTHS } from './service-rollup.js';
export { indexedTag, indexedText, TEXT_KEY } from './tag-filter.js';
export { histPercentile, mergeRollupData, rollupsOf, type EdgeData, type ErrorData, type RollupData, type RollupKind } from './trace-rollup.js';
