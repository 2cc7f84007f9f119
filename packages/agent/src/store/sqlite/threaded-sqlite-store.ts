import type { RollupKind } from '../trace-rollup.js';
import type { RollupRead } from '../contract.js';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { ErrorStatus, ErrorStatusRecord, RemoteConfigRecords, RetentionResult, StatsQuery, StoreStats, TraceQuery, TraceStore, WriteBatch } from '../contract.js';
import { encodeSketches, type ServiceStatsRow, type StatsRow, type TraceId, type TraceRecord, type TraceSummaryRecord } from '../records.js';
import { packBatch } from '../batch-segment.js';
import { SqliteStore } from './sqlite-store.js';
import type { WriterRequest, WriterResponse } from './sqlite-writer-worker.js';

/*
 * The embedded store with its writes on a worker thread (sqlite-writer-worker.ts) and its reads on
 * this thread. A write resolves once the worker has committed it, so acknowledging a payload still
 * means it is stored, and a read after it sees it (WAL: readers see every committed transaction).
 */

// The compiled worker, also when this module runs from its TypeScript source (tests).
const WORKER = fileURLToPath(new URL('../../../dist/store/sqlite/sqlite-writer-worker.js', import.meta.url));

type Request = WriterRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class ThreadedSqliteStore implements TraceStore {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;

  private constructor(private readonly worker: Worker, private readonly reader: SqliteStore) {
    worker.on('message', (m: WriterResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.message));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => { if (!this.closed) this.failAll(new Error(`the store's writer thread stopped (exit ${code})`)); });
  }

  static async open(dataDir: string, maxDiskBytes = 0): Promise<ThreadedSqliteStore> {
    if (dataDir === ':memory:') throw new Error('a threaded store needs a data directory; use SqliteStore for :memory:');
    const worker = new Worker(WORKER, { workerData: { dataDir, maxDiskBytes } });
    // The writer creates the schema (or refuses a foreign one) before the reader opens.
    // (Only these listeners are removed afterwards: Worker keeps internal ones of its own.)
    let onMessage: (m: WriterResponse) => void = () => {};
    let onError: (e: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (m) => (m.ok ? resolve() : reject(new Error(m.message)));
        onError = reject;
        onExit = (code) => reject(new Error(`the store's writer thread stopped (exit ${code})`));
        worker.once('message', onMessage);
        worker.once('error', onError);
        worker.once('exit', onExit);
      });
    } finally {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    }
    return new ThreadedSqliteStore(worker, new SqliteStore({ dataDir, readonly: true }));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private call<T>(req: Request, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async write(batch: WriteBatch): Promise<void> {
    // Only the segment blob crosses (transferred): the writer decodes it and makes the rows, so
    // this thread's share of a write is encoding the segment, which forwarding reuses.
    const packed = packBatch(batch);
    return this.call({ op: 'write', batch: packed }, [packed.blob.buffer as ArrayBuffer]);
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    return this.call({ op: 'stats', rows: encodeSketches(rows) });
  }

  enforceRetention(olderThan: bigint, maxBytes: number): Promise<RetentionResult> {
    return this.call({ op: 'retention', olderThan, maxBytes });
  }

  setErrorStatus(group: string, status: ErrorStatus, at: bigint): Promise<void> {
    return this.call({ op: 'errorStatus', group, status, at });
  }

  errorStatuses(): Promise<ErrorStatusRecord[]> {
    return this.reader.errorStatuses();
  }

  setMonitorMute(monitor: string, until: bigint | null): Promise<void> {
    return this.call({ op: 'monitorMute', monitor, until });
  }

  monitorMutes(): Promise<{ monitor: string; until: bigint }[]> {
    return this.reader.monitorMutes();
  }

  saveMonitor(id: string, definition: string | null): Promise<void> {
    return this.call({ op: 'saveMonitor', id_: id, definition });
  }

  savedMonitors(): Promise<{ id: string; definition: string }[]> {
    return this.reader.savedMonitors();
  }

  saveRemoteConfig(id: string, definition: string | null): Promise<void> {
    return this.call({ op: 'saveRemoteConfig', id_: id, definition });
  }

  remoteConfigs(): Promise<RemoteConfigRecords> {
    return this.reader.remoteConfigs();
  }

  saveMonitorEvent(monitor: string, at: bigint, event: string): Promise<void> {
    return this.call({ op: 'monitorEvent', monitor, at, event });
  }

  monitorEvents(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]> {
    return this.reader.monitorEvents(limit);
  }

  getTrace(traceId: TraceId): Promise<TraceRecord | undefined> {
    return this.reader.getTrace(traceId);
  }

  searchTraces(query: TraceQuery): Promise<TraceSummaryRecord[]> {
    return this.reader.searchTraces(query);
  }

  queryStats(q: StatsQuery): Promise<StatsRow[]> {
    return this.reader.queryStats(q);
  }

  async readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]> {
    // The writer sums rollup counts in memory for up to a second: written first, then read.
    await this.call({ op: 'flushRollups' });
    return this.reader.readRollups(kind, range, width);
  }

  serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> {
    return this.reader.serviceStats(range);
  }

  stats(): Promise<StoreStats> {
    return this.reader.stats();
  }

  diskUsage(): Promise<number> {
    return this.reader.diskUsage();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call({ op: 'close' });
    this.closed = true;
    await this.reader.close();
    await this.worker.terminate();
  }
}
