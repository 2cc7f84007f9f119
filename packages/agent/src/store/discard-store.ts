import type { RollupRead } from './contract.js';
import type { RetentionResult, StatsQuery, StoreStats, TraceQuery, TraceStore, WriteBatch } from './contract.js';
import type { ServiceStatsRow, StatsRow, TraceId, TraceRecord, TraceSummaryRecord } from './records.js';

/**
 * `ECS_TRACE_STORE=none`: the agent keeps nothing and only forwards to Datadog. Writes succeed at
 * once (the forwarder has them by then), reads find nothing.
 */
export class DiscardStore implements TraceStore {
  async write(_batch: WriteBatch): Promise<void> {}
  async writeStats(_rows: StatsRow[]): Promise<void> {}
  async getTrace(_id: TraceId): Promise<TraceRecord | undefined> { return undefined; }
  async searchTraces(_q: TraceQuery): Promise<TraceSummaryRecord[]> { return []; }
  async queryStats(_q: StatsQuery): Promise<StatsRow[]> { return []; }
  async serviceStats(_range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> { return []; }
  async readRollups(): Promise<RollupRead[]> { return []; }
  async enforceRetention(): Promise<RetentionResult> { return { deletedSpans: 0, reason: 'none' }; }
  async diskUsage(): Promise<number> { return 0; }
  async stats(): Promise<StoreStats> { return { diskBytes: 0, spans: 0, payloads: 0 }; }
  async close(): Promise<void> {}
}
