import type { RollupKind } from './trace-rollup.js';
import type { RollupRead } from './contract.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import Database from 'better-sqlite3';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import type { ErrorStatus, ErrorStatusRecord, RemoteConfigRecords, RetentionResult, StatsQuery, StoreCondition, StoreStats, TraceQuery, TraceStore, WriteBatch } from './contract.js';
import { decodeSketches, encodeSketches, type ServiceStatsRow, type StatsRow, type TraceId, type TraceRecord, type TraceSummaryRecord, type WithEncodedSketches } from './records.js';

/*
 * A remote store (PostgreSQL) behind a local spool: a payload is acknowledged once it is
 * committed to `spool.db` in the data directory (WAL: it survives kill -9), and a shipper sends
 * what is spooled to the remote store in order, one entry per transaction there, retrying with
 * backoff while it is unreachable and resuming after a restart. Only when the spool passes its
 * bound is the oldest dropped, counted and logged. Stats buckets go the same way. Reads go to the
 * remote store: what is still spooled shows up once shipped.
 */

type Entry = { kind: 'traces'; batch: WriteBatch } | { kind: 'stats'; rows: WithEncodedSketches<StatsRow>[] };

const MAX_BACKOFF_MS = 5000;
/** Spooled entries shipped in one write at most (bench/store.bench.js: see bench/README.md). */
const SHIP_BATCH = 32;
const SHIP_BYTES = 16 * 1024 * 1024;

export interface SpoolOptions {
  dataDir: string;
  /** Bytes the spool may hold; past it the oldest entries go, counted. */
  maxBytes: number;
  metrics: AgentMetrics;
  logOnce: LogOnce;
}

export class SpooledStore implements TraceStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly oldest: Database.Statement;
  private readonly pending: Database.Statement;
  private readonly body: Database.Statement;
  private readonly remove: Database.Statement;
  private bytes: number;
  private shipping: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  /** Why the last shipment failed; undefined once one succeeds. */
  private shipFailure: string | undefined;
  /** Entries were dropped at the bound and the spool has not drained below it since. */
  private full = false;

  constructor(private readonly remote: TraceStore, private readonly o: SpoolOptions) {
    mkdirSync(o.dataDir, { recursive: true });
    this.db = new Database(join(o.dataDir, 'spool.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, body BLOB NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO spool (size, body) VALUES (?, ?)');
    this.oldest = this.db.prepare('SELECT id, size FROM spool ORDER BY id LIMIT 1');
    this.pending = this.db.prepare(`SELECT id, size FROM spool ORDER BY id LIMIT ${SHIP_BATCH}`);
    this.body = this.db.prepare('SELECT body FROM spool WHERE id = ?').pluck();
    this.remove = this.db.prepare('DELETE FROM spool WHERE id = ?');
    this.bytes = (this.db.prepare('SELECT coalesce(sum(size), 0) AS n FROM spool').get() as { n: number }).n;
    o.metrics.spoolBytes.set(this.bytes);
    this.shipping = this.ship();
  }

  /** Durable in the spool when it resolves; shipped later. */
  async write(batch: WriteBatch): Promise<void> {
    this.add({ kind: 'traces', batch });
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.add({ kind: 'stats', rows: encodeSketches(rows) });
  }

  private add(entry: Entry): void {
    const body = serialize(entry);
    this.insert.run(body.length, body);
    this.bytes += body.length;
    this.trim();
    this.o.metrics.spoolBytes.set(this.bytes);
    this.wake?.();
  }

  /** Past the bound, the oldest entries go: counted and logged, never silently. */
  private trim(): void {
    while (this.bytes > this.o.maxBytes) {
      const row = this.oldest.get() as { id: number; size: number } | undefined;
      if (!row) break;
      this.remove.run(row.id);
      this.bytes -= row.size;
      this.o.metrics.spoolDropped.inc();
      this.full = true;
      this.o.logOnce.warn('spool-full', { maxBytes: this.o.maxBytes }, 'the spool is full while the store is unreachable: the oldest spooled payload was dropped');
    }
  }

  private async ship(): Promise<void> {
    let backoff = 100;
    while (!this.closed && this.db.open) {
      const rows = this.nextRows();
      if (rows.length === 0) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
        continue;
      }
      // What has piled up goes in runs of one kind, each run one write to the store.
      const entries = rows.map((r) => ({ row: r, entry: deserialize(r.body) as Entry }));
      rows.length = 0;
      let shipped = 0;
      try {
        while (shipped < entries.length) {
          const kind = entries[shipped]!.entry.kind;
          let end = shipped;
          while (end < entries.length && entries[end]!.entry.kind === kind) end++;
          const run = entries.slice(shipped, end);
          await this.send(run.map((e) => e.entry));
          // Shipped: only now does it leave the spool (a crash in between ships it twice, never zero times).
          if (!this.db.open) return;
          for (const { row } of run) {
            // The bound may have dropped this entry while it was being shipped: count it out once.
            if (this.remove.run(row.id).changes > 0) this.bytes -= row.size;
          }
          this.o.metrics.spoolBytes.set(this.bytes);
          shipped = end;
        }
        backoff = 100;
        this.shipFailure = undefined;
        if (this.bytes < this.o.maxBytes * 0.9) this.full = false;
      } catch (err) {
        this.shipFailure = (err as Error).message;
        this.o.metrics.spoolErrors.inc();
        this.o.logOnce.warn('spool-ship', { err: (err as Error).message, spooledBytes: this.bytes }, 'cannot ship to the store; retrying (acknowledged payloads wait in the spool)');
        await new Promise((r) => setTimeout(r, backoff).unref());
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  /** The oldest entries, up to SHIP_BATCH of them and SHIP_BYTES (at least one). */
  private nextRows(): { id: number; size: number; body: Buffer }[] {
    const out: { id: number; size: number; body: Buffer }[] = [];
    let bytes = 0;
    for (const head of this.pending.all() as { id: number; size: number }[]) {
      if (out.length > 0 && bytes + head.size > SHIP_BYTES) break;
      const body = this.body.get(head.id) as Buffer | undefined;
      if (!body) continue; // dropped by the bound meanwhile
      out.push({ ...head, body });
      bytes += head.size;
    }
    return out;
  }

  private async send(entries: Entry[]): Promise<void> {
    const batches = entries.flatMap((e) => (e.kind === 'traces' ? [e.batch] : []));
    if (batches.length > 0) {
      if (this.remote.writeMany) await this.remote.writeMany(batches);
      else for (const b of batches) await this.remote.write(b);
    }
    const stats = entries.flatMap((e) => (e.kind === 'stats' ? decodeSketches(e.rows) : []));
    if (stats.length > 0) await this.remote.writeStats(stats);
  }

  /**
   * Healthy while the spool has room, reached or not: intake goes on and nothing acknowledged is
   * lost. Unhealthy once the bound drops payloads.
   */
  condition(): StoreCondition {
    const remote = this.remote.condition?.() ?? { ok: true, status: 'ok' };
    const problem = remote.problem ?? (this.shipFailure === undefined ? undefined : `cannot ship to the store: ${this.shipFailure}`);
    const reached = problem === undefined ? 'ok' : 'unreachable';
    if (this.full) {
      return { ok: false, status: `${reached}, spool full, ${this.bytes} bytes`, problem: `the spool is full (${this.o.maxBytes} bytes): the oldest acknowledged payloads are being dropped${problem ? `; ${problem}` : ''}` };
    }
    if (problem !== undefined) return { ok: true, status: `unreachable, spooling, ${this.bytes} bytes`, problem };
    return { ok: true, status: this.bytes > 0 ? `ok, shipping, ${this.bytes} bytes` : 'ok' };
  }

  /** Bytes waiting to be shipped (tests, /metrics). */
  get spooledBytes(): number {
    return this.bytes;
  }

  getTrace(traceId: TraceId): Promise<TraceRecord | undefined> { return this.remote.getTrace(traceId); }
  getTraces(traceIds: TraceId[]): Promise<(TraceRecord | undefined)[]> { return this.remote.getTraces ? this.remote.getTraces(traceIds) : Promise.all(traceIds.map((id) => this.remote.getTrace(id))); }
  searchTraces(query: TraceQuery): Promise<TraceSummaryRecord[]> { return this.remote.searchTraces(query); }
  // What people set is written to the shared store at once (not spooled): it answers or fails.
  setErrorStatus(group: string, status: ErrorStatus, at: bigint): Promise<void> { return this.remote.setErrorStatus ? this.remote.setErrorStatus(group, status, at) : Promise.reject(new Error('this store keeps no error statuses')); }
  errorStatuses(): Promise<ErrorStatusRecord[]> { return this.remote.errorStatuses ? this.remote.errorStatuses() : Promise.resolve([]); }
  setMonitorMute(monitor: string, until: bigint | null): Promise<void> { return this.remote.setMonitorMute ? this.remote.setMonitorMute(monitor, until) : Promise.reject(new Error('this store keeps no monitor mutes')); }
  monitorMutes(): Promise<{ monitor: string; until: bigint }[]> { return this.remote.monitorMutes ? this.remote.monitorMutes() : Promise.resolve([]); }
  saveMonitor(id: string, definition: string | null): Promise<void> { return this.remote.saveMonitor ? this.remote.saveMonitor(id, definition) : Promise.reject(new Error('this store keeps no monitors')); }
  savedMonitors(): Promise<{ id: string; definition: string }[]> { return this.remote.savedMonitors ? this.remote.savedMonitors() : Promise.resolve([]); }
  saveRemoteConfig(id: string, definition: string | null): Promise<void> { return this.remote.saveRemoteConfig ? this.remote.saveRemoteConfig(id, definition) : Promise.reject(new Error('this store keeps no remote configuration')); }
  remoteConfigs(): Promise<RemoteConfigRecords> { return this.remote.remoteConfigs ? this.remote.remoteConfigs() : Promise.resolve({ revision: 0, configs: [] }); }
  saveMonitorEvent(monitor: string, at: bigint, event: string): Promise<void> { return this.remote.saveMonitorEvent ? this.remote.saveMonitorEvent(monitor, at, event) : Promise.resolve(); }
  monitorEvents(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]> { return this.remote.monitorEvents ? this.remote.monitorEvents(limit) : Promise.resolve([]); }
  queryStats(q: StatsQuery): Promise<StatsRow[]> { return this.remote.queryStats(q); }
  serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> { return this.remote.serviceStats(range); }
  readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]> { return this.remote.readRollups(kind, range, width); }
  stats(): Promise<StoreStats> { return this.remote.stats(); }
  enforceRetention(olderThan: bigint, maxBytes: number): Promise<RetentionResult> { return this.remote.enforceRetention(olderThan, maxBytes); }
  diskUsage(): Promise<number> { return this.remote.diskUsage(); }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    // What is not shipped stays in the spool for the next start.
    await Promise.race([this.shipping, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.db.close();
    await this.remote.close();
  }
}
