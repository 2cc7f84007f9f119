import type { RollupKind } from './trace-rollup.js';
import type { RollupRead } from './contract.js';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StatsQuery, StoreReader, StoreStats, TraceQuery } from './contract.js';
import { StoreTimeoutError } from './contract.js';
import { decodeSketches, type ServiceStatsRow, type StatsRow, type TraceId, type TraceRecord, type TraceSummaryRecord, type WithEncodedSketches } from './records.js';

/*
 * Reads of the embedded store on a worker thread, each with a deadline. A query past its deadline
 * is ended by ending the thread (SQLite cannot be interrupted from another thread), its callers get
 * a StoreTimeoutError, and the next read starts a fresh thread. Intake never waits on a query.
 */

// The compiled worker, also when this module runs from its TypeScript source (tests).
const WORKER = fileURLToPath(new URL('../../dist/store/reader-worker.js', import.meta.url));

export type ReaderRequest = { id: number } & (
  | { op: 'getTrace'; traceId: TraceId }
  | { op: 'searchTraces'; query: TraceQuery }
  | { op: 'queryStats'; query: StatsQuery }
  | { op: 'serviceStats'; range: { start: bigint; end: bigint } }
  | { op: 'readRollups'; kind: RollupKind; range: { start: bigint; end: bigint }; width?: bigint }
  | { op: 'stats' }
);
export type ReaderResponse = { id: number; ok: true; value?: unknown } | { id: number; ok: false; message: string };

type Op = ReaderRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class ReaderThread implements StoreReader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly dataDir: string, private readonly timeoutMs: number) {}

  private spawn(): Worker {
    const worker = new Worker(WORKER, { workerData: { dataDir: this.dataDir } });
    worker.on('message', (m: ReaderResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.message));
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the query thread stopped (exit ${code})`)));
    worker.unref();
    return worker;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  private call<T>(op: Op): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    this.worker ??= this.spawn();
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // End the thread and whatever it was running; every read on it fails the same way.
        this.worker = undefined;
        this.failAll(new StoreTimeoutError(`the query took longer than ${this.timeoutMs} ms and was stopped: narrow the time range or the query`));
        void worker.terminate();
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.postMessage({ ...op, id });
    });
  }

  getTrace(traceId: TraceId): Promise<TraceRecord | undefined> {
    return this.call({ op: 'getTrace', traceId });
  }

  searchTraces(query: TraceQuery): Promise<TraceSummaryRecord[]> {
    return this.call({ op: 'searchTraces', query });
  }

  async queryStats(query: StatsQuery): Promise<StatsRow[]> {
    return decodeSketches(await this.call<WithEncodedSketches<StatsRow>[]>({ op: 'queryStats', query }));
  }

  readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]> {
    return this.call<RollupRead[]>({ op: 'readRollups', kind, range, ...(width !== undefined ? { width } : {}) });
  }

  async serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> {
    return decodeSketches(await this.call<WithEncodedSketches<ServiceStatsRow>[]>({ op: 'serviceStats', range }));
  }

  stats(): Promise<StoreStats> {
    return this.call({ op: 'stats' });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the store is closed'));
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
