import type Database from 'better-sqlite3';
import {
  expiredEdges, floorTo, foldRollups, meetWaiting, mergeByKey, mergeRollupData, rollupSlots, sumRollups,
  type Half, type HalfData, type RollupData, type RollupKind, type RollupRow,
} from '../trace-rollup.js';
import { WaitingHalves } from '../waiting-halves.js';

/*
 * The embedded store's table of the trace rollups (store/trace-rollup.ts). The halves of calls
 * wait in memory: one agent writes this store, so both sides of a call come through here, and a
 * half lives two minutes at most; a crash loses only pairings not yet made (the traces are
 * stored), where a table cost a fifth of intake (bench: 50,205 vs 64,407 spans/s).
 */

const FLUSH_MS = 1000;

export const TRACE_ROLLUP_SCHEMA = `
CREATE TABLE IF NOT EXISTS trace_rollup (
  width INTEGER NOT NULL,
  slot  INTEGER NOT NULL,
  kind  TEXT NOT NULL,
  key   TEXT NOT NULL,
  data  TEXT NOT NULL,
  PRIMARY KEY (width, slot, kind, key)
) WITHOUT ROWID;
`;

function writeStatements(db: Database.Database) {
  return {
    select: db.prepare('SELECT data FROM trace_rollup WHERE width = ? AND slot = ? AND kind = ? AND key = ?').pluck(),
    upsert: db.prepare('INSERT OR REPLACE INTO trace_rollup (width, slot, kind, key, data) VALUES (?, ?, ?, ?, ?)'),
  };
}

export class TraceRollupTable {
  // Prepared on first write: a read-only handle may open a store made before these tables.
  private statements: ReturnType<typeof writeStatements> | undefined;

  /** Halves waiting for their other side, by trace and span id, oldest first. */
  private readonly halves = new WaitingHalves();
  /** Rows summed since the last flush, by slot and key. */
  private readonly pending = new Map<string, RollupRow>();
  private flushedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Database.Database) {}

  private get s(): ReturnType<typeof writeStatements> {
    return (this.statements ??= writeStatements(this.db));
  }

  /**
   * A batch's rows and halves, inside the transaction that stores its spans: each half meets its
   * other side if it is here already (a call, counted now), else waits for it.
   */
  add(rows: readonly RollupRow[], halves: readonly Half[]): void {
    // Summed in memory, written at most once a second: each written row is a read, a parse and a
    // write (bench/README.md: intake with the rollups 0.98-0.99x of without, 0.78x row by row). A crash
    // loses at most that second of counts, never a trace.
    sumRollups(this.pending, rows);
    sumRollups(this.pending, meetWaiting(this.halves, halves));
    if (Date.now() - this.flushedAt >= FLUSH_MS) this.flush();
    else this.timer ??= setTimeout(() => { this.timer = undefined; if (this.db.open) this.db.transaction(() => this.flush())(); }, FLUSH_MS).unref();
  }

  /** Writes what is summed in memory (inside the caller's transaction, if any). */
  flush(): void {
    this.flushedAt = Date.now();
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending.clear();
    this.merge(rows);
  }

  private merge(rows: readonly RollupRow[]): void {
    for (const r of foldRollups(rows)) {
      const have = this.s.select.get(r.width, r.slot, r.kind, r.key) as string | undefined;
      const data = have === undefined ? r.data : mergeRollupData(JSON.parse(have) as RollupData, r.data);
      this.s.upsert.run(r.width, r.slot, r.kind, r.key, JSON.stringify(data));
    }
  }

  read(kind: RollupKind, range: { start: bigint; end: bigint }): { key: string; data: RollupData }[] {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'trace_rollup'").get() !== undefined;
    if (!exists) return [];
    const q = this.db.prepare('SELECT key, data FROM trace_rollup WHERE width = ? AND kind = ? AND slot >= ? AND slot < ?');
    const rows: { key: string; data: RollupData }[] = [];
    for (const { width, from, to } of rollupSlots(range.start, range.end)) {
      for (const r of q.all(width, kind, from, to) as { key: string; data: string }[]) rows.push({ key: r.key, data: JSON.parse(r.data) as RollupData });
    }
    return mergeByKey(rows);
  }

  /** One width's slots from the one holding `start` to `end`, each apart. */
  readSlots(kind: RollupKind, range: { start: bigint; end: bigint }, width: bigint): { key: string; data: RollupData; slot: bigint }[] {
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'trace_rollup'").get() !== undefined;
    if (!exists) return [];
    const rows = this.db.prepare('SELECT key, data, slot FROM trace_rollup WHERE kind = ? AND width = ? AND slot >= ? AND slot < ?').safeIntegers(true)
      .all(kind, width, floorTo(range.start, width), range.end) as { key: string; data: string; slot: bigint }[];
    return rows.map((r) => ({ key: r.key, data: JSON.parse(r.data) as RollupData, slot: r.slot }));
  }

  /** Halves that waited past their time: a client's becomes a call to its leaf; a server's goes. */
  expire(before: bigint): void {
    const clients: HalfData[] = [];
    for (const h of this.halves.shiftOlderThan(before)) if (h.side === 'client') clients.push(h.data);
    this.flush();
    this.merge(expiredEdges(clients));
  }

  /** Stops the timer; what is pending is written by the caller's flush(). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Slots that ended before the cutoff go (as the services rollup's). */
  deleteBefore(olderThan: bigint): void {
    this.db.prepare('DELETE FROM trace_rollup WHERE slot + width <= ?').run(olderThan);
  }
}
