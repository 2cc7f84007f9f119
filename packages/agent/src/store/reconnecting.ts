import type { LogOnce } from '../runtime/index.js';
import { StoreUnavailableError, type ErrorStatus, type ErrorStatusRecord, type RemoteConfigRecords, type RetentionResult, type RollupRead, type StatsQuery, type StoreCondition, type StoreStats, type TraceQuery, type TraceStore, type WriteBatch } from './contract.js';
import type { ServiceStatsRow, StatsRow, TraceId, TraceRecord, TraceSummaryRecord } from './records.js';
import type { RollupKind } from './trace-rollup.js';

/*
 * A shared store (PostgreSQL) that may be down when the agent starts, or go down later. Opening
 * it (connecting, migrating) is retried in the background with backoff, logged once a minute,
 * so that an agent started during an outage runs on its spool instead of refusing to start, and
 * a UI replica answers 503 with the reason instead of exiting. While it cannot be reached, every
 * call fails fast with StoreUnavailableError, which the API answers 503 and the spool retries.
 */

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** Whether an error says the server could not be reached, rather than that a statement failed. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  // SQLSTATE class 08 (connection exception) and 57P01-57P03 (shutdown, cannot connect now).
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code)) return true;
  // Node's AggregateError when every address of a host refused (IPv4 and IPv6).
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true;
  return typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(e.message);
}

export interface ReconnectingOptions {
  /** The store's name for messages, with no secret in it (maskedStoreUrl). */
  what: string;
  logOnce: LogOnce;
}

export class ReconnectingStore implements TraceStore {
  private remote: TraceStore | undefined;
  /** Why the store is not reached now; undefined while it answers. */
  private failure: string | undefined = 'not connected yet';
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private opening: Promise<void> | undefined;

  private constructor(private readonly open: () => Promise<TraceStore>, private readonly o: ReconnectingOptions) {}

  /** Tries once before it resolves, so a store that is up is ready at start; then keeps trying. */
  static async start(open: () => Promise<TraceStore>, o: ReconnectingOptions): Promise<ReconnectingStore> {
    const s = new ReconnectingStore(open, o);
    await s.attempt(FIRST_BACKOFF_MS);
    return s;
  }

  private attempt(backoffMs: number): Promise<void> {
    this.opening = (async () => {
      try {
        const remote = await this.open();
        if (this.closed) { await remote.close(); return; }
        this.remote = remote;
        if (this.failure !== 'not connected yet') this.o.logOnce.warn('store-reconnected', { store: this.o.what }, 'the store is reachable again');
        this.failure = undefined;
      } catch (err) {
        this.failure = (err as Error).message;
        this.o.logOnce.warn('store-unreachable', { store: this.o.what, err: this.failure, retryInMs: backoffMs }, 'cannot open the store; retrying in the background (an agent spools what it acknowledges meanwhile; queries answer 503)');
        if (!this.closed) {
          this.timer = setTimeout(() => { void this.attempt(Math.min(MAX_BACKOFF_MS, backoffMs * 2)); }, backoffMs);
          this.timer.unref();
        }
      }
    })();
    return this.opening;
  }

  condition(): StoreCondition {
    if (this.failure === undefined) return { ok: true, status: 'ok' };
    return { ok: false, status: 'unreachable', problem: `the store at ${this.o.what} is unreachable: ${this.failure}` };
  }

  /** A call on the open store; a connection failure marks it unreachable and says so. */
  private async call<T>(f: (s: TraceStore) => Promise<T>): Promise<T> {
    const remote = this.remote;
    if (remote === undefined) throw new StoreUnavailableError(`the store at ${this.o.what} is unreachable (${this.failure}); retrying in the background`);
    try {
      const v = await f(remote);
      this.failure = undefined;
      return v;
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.failure = (err as Error).message;
      throw new StoreUnavailableError(`the store at ${this.o.what} is unreachable (${this.failure})`);
    }
  }

  write(batch: WriteBatch): Promise<void> { return this.call((s) => s.write(batch)); }
  writeMany(batches: WriteBatch[]): Promise<void> {
    return this.call(async (s) => {
      if (s.writeMany) return s.writeMany(batches);
      for (const b of batches) await s.write(b);
    });
  }
  writeStats(rows: StatsRow[]): Promise<void> { return this.call((s) => s.writeStats(rows)); }
  getTrace(traceId: TraceId): Promise<TraceRecord | undefined> { return this.call((s) => s.getTrace(traceId)); }
  getTraces(traceIds: TraceId[]): Promise<(TraceRecord | undefined)[]> { return this.call((s) => (s.getTraces ? s.getTraces(traceIds) : Promise.all(traceIds.map((id) => s.getTrace(id))))); }
  searchTraces(query: TraceQuery): Promise<TraceSummaryRecord[]> { return this.call((s) => s.searchTraces(query)); }
  setErrorStatus(group: string, status: ErrorStatus, at: bigint): Promise<void> { return this.call((s) => (s.setErrorStatus ? s.setErrorStatus(group, status, at) : Promise.reject(new Error('this store keeps no error statuses')))); }
  errorStatuses(): Promise<ErrorStatusRecord[]> { return this.call((s) => (s.errorStatuses ? s.errorStatuses() : Promise.resolve([]))); }
  setMonitorMute(monitor: string, until: bigint | null): Promise<void> { return this.call((s) => (s.setMonitorMute ? s.setMonitorMute(monitor, until) : Promise.reject(new Error('this store keeps no monitor mutes')))); }
  monitorMutes(): Promise<{ monitor: string; until: bigint }[]> { return this.call((s) => (s.monitorMutes ? s.monitorMutes() : Promise.resolve([]))); }
  saveMonitor(id: string, definition: string | null): Promise<void> { return this.call((s) => (s.saveMonitor ? s.saveMonitor(id, definition) : Promise.reject(new Error('this store keeps no monitors')))); }
  savedMonitors(): Promise<{ id: string; definition: string }[]> { return this.call((s) => (s.savedMonitors ? s.savedMonitors() : Promise.resolve([]))); }
  saveRemoteConfig(id: string, definition: string | null): Promise<void> { return this.call((s) => (s.saveRemoteConfig ? s.saveRemoteConfig(id, definition) : Promise.reject(new Error('this store keeps no remote configuration')))); }
  remoteConfigs(): Promise<RemoteConfigRecords> { return this.call((s) => (s.remoteConfigs ? s.remoteConfigs() : Promise.resolve({ revision: 0, configs: [] }))); }
  saveMonitorEvent(monitor: string, at: bigint, event: string): Promise<void> { return this.call((s) => (s.saveMonitorEvent ? s.saveMonitorEvent(monitor, at, event) : Promise.resolve())); }
  monitorEvents(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]> { return this.call((s) => (s.monitorEvents ? s.monitorEvents(limit) : Promise.resolve([]))); }
  queryStats(q: StatsQuery): Promise<StatsRow[]> { return this.call((s) => s.queryStats(q)); }
  serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> { return this.call((s) => s.serviceStats(range)); }
  readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]> { return this.call((s) => s.readRollups(kind, range, width)); }
  stats(): Promise<StoreStats> { return this.call((s) => s.stats()); }
  enforceRetention(olderThan: bigint, maxBytes: number): Promise<RetentionResult> { return this.call((s) => s.enforceRetention(olderThan, maxBytes)); }
  diskUsage(): Promise<number> { return this.call((s) => s.diskUsage()); }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.opening;
    await this.remote?.close();
  }
}
