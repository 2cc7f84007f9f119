import type { AgentMetrics, Logger } from '../runtime/index.js';
import { StoreUnavailableError, type StatsQuery, type StatsReader, type StatsWriter, type TraceStore, type TraceWriter, type WriteBatch } from './contract.js';
import type { ServiceStatsRow, StatsRow } from './records.js';

/*
 * Keeping the store inside its bounds and saying how it is. Retention runs every 30 s, and also
 * as soon as a write finds the store near its disk bound or the disk full, so `--max-disk` holds
 * between passes; it deletes down to 90% of the bound. Writes go through here so that a failing
 * store shows on /healthz (not ok, and why) until a write succeeds again.
 */

const INTERVAL_MS = 30_000;
/** Retention starts when the store passes this share of its bound... */
const TRIGGER = 0.95;
/** ...and deletes until under this share. */
const TARGET = 0.9;

export interface StoreHealth {
  ok: boolean;
  /** Why not, when not. */
  problem?: string;
}

export interface MaintenanceOptions {
  store: TraceStore;
  retentionMs: number;
  maxDiskBytes: number;
  dataDir: string;
  metrics: AgentMetrics;
  log: Logger;
  /** false: never delete (a UI replica leaves retention to the agents). */
  retention?: boolean;
}

function isDiskFull(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'SQLITE_FULL' || e.code === 'ENOSPC' || /disk is full|no space left/i.test(e.message ?? '');
}

export class StoreMaintenance implements TraceWriter, StatsWriter, StatsReader {
  private readonly timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failure: string | undefined;

  constructor(private readonly o: MaintenanceOptions) {
    if (o.retention !== false) {
      this.timer = setInterval(() => { void this.run(); }, INTERVAL_MS);
      this.timer.unref();
    }
  }

  health(): StoreHealth {
    return this.failure === undefined ? { ok: true } : { ok: false, problem: this.failure };
  }

  async write(batch: WriteBatch): Promise<void> {
    await this.guard(() => this.o.store.write(batch));
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    await this.guard(() => this.o.store.writeStats(rows));
  }

  queryStats(q: StatsQuery): Promise<StatsRow[]> {
    return this.o.store.queryStats(q);
  }

  serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> {
    return this.o.store.serviceStats(range);
  }

  private async guard(write: () => Promise<void>): Promise<void> {
    try {
      await write();
      this.failure = undefined;
    } catch (err) {
      if (isDiskFull(err)) {
        this.failure = `disk full: the store in ${this.o.dataDir} cannot write (${(err as Error).message}); intake answers 503 until space is back, and the oldest data is being deleted`;
        void this.run();
      } else this.failure = `store writes fail: ${(err as Error).message}`;
      throw err;
    }
    // Asked after every write (a few pragmas and a stat), so the bound holds at every payload.
    if (this.o.maxDiskBytes > 0 && (await this.o.store.diskUsage()) > this.o.maxDiskBytes * TRIGGER) void this.run();
  }

  /** One retention pass (age and size); a pass already running is joined, not repeated. */
  run(): Promise<void> {
    if (this.o.retention === false) return Promise.resolve();
    this.running ??= this.pass().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { store, metrics, log } = this.o;
    const cutoff = (BigInt(Date.now()) - BigInt(this.o.retentionMs)) * 1_000_000n;
    try {
      const r = await store.enforceRetention(cutoff, Math.floor(this.o.maxDiskBytes * TARGET));
      if (r.deletedSpans > 0) {
        metrics.retentionDeleted.inc({ reason: r.reason }, r.deletedSpans);
        log.info(r, 'retention deleted old traces');
      }
    } catch (err) {
      // A shared store that is down says so once a minute itself (reconnecting.ts).
      if (!(err instanceof StoreUnavailableError)) log.error({ err }, 'retention failed');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
