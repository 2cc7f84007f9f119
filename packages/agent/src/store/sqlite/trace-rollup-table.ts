import type Database from 'better-sqlite3';
import {
  expiredEdge, floorTo, foldRollups, mergeByKey, mergeRollupData, pairedEdge, rollupSlots,
  type Half, type HalfData, type RollupData, type RollupKind, type RollupRow,
} from '../trace-rollup.js';

/* The embedded store's tables of the trace rollups and the halves of calls (store/trace-rollup.ts). */

export const TRACE_ROLLUP_SCHEMA = `
CREATE TABLE IF NOT EXISTS trace_rollup (
  width INTEGER NOT NULL,
  slot  INTEGER NOT NULL,
  kind  TEXT NOT NULL,
  key   TEXT NOT NULL,
  data  TEXT NOT NULL,
  PRIMARY KEY (width, slot, kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS call_halves (
  trace_id INTEGER NOT NULL,
  span_id  INTEGER NOT NULL,
  side     TEXT NOT NULL,
  at       INTEGER NOT NULL,
  data     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS call_halves_span ON call_halves (trace_id, span_id);
CREATE INDEX IF NOT EXISTS call_halves_at ON call_halves (at);
`;

const i64 = (v: bigint) => BigInt.asIntN(64, v);

function writeStatements(db: Database.Database) {
  return {
    other: db.prepare('SELECT rowid AS id, data FROM call_halves WHERE trace_id = ? AND span_id = ? AND side <> ? LIMIT 1'),
    dropHalf: db.prepare('DELETE FROM call_halves WHERE rowid = ?'),
    insertHalf: db.prepare('INSERT INTO call_halves (trace_id, span_id, side, at, data) VALUES (?, ?, ?, ?, ?)'),
    select: db.prepare('SELECT data FROM trace_rollup WHERE width = ? AND slot = ? AND kind = ? AND key = ?').pluck(),
    upsert: db.prepare('INSERT OR REPLACE INTO trace_rollup (width, slot, kind, key, data) VALUES (?, ?, ?, ?, ?)'),
  };
}

export class TraceRollupTable {
  // Prepared on first write: a read-only handle may open a store made before these tables.
  private statements: ReturnType<typeof writeStatements> | undefined;

  constructor(private readonly db: Database.Database) {}

  private get s(): ReturnType<typeof writeStatements> {
    return (this.statements ??= writeStatements(this.db));
  }

  /**
   * A batch's rows and halves, inside the transaction that stores its spans: each half meets its
   * other side if it is here already (a call, counted now), else waits for it.
   */
  add(rows: readonly RollupRow[], halves: readonly Half[]): void {
    const all = [...rows];
    for (const h of halves) {
      const found = this.s.other.get(i64(h.traceId), i64(h.spanId), h.side) as { id: number; data: string } | undefined;
      if (found) {
        this.s.dropHalf.run(found.id);
        const other = JSON.parse(found.data) as HalfData;
        all.push(...(h.side === 'client' ? pairedEdge(h.data, other) : pairedEdge(other, h.data)));
      } else {
        this.s.insertHalf.run(i64(h.traceId), i64(h.spanId), h.side, h.at, JSON.stringify(h.data));
      }
    }
    this.merge(all);
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
    const old = this.db.prepare("SELECT data FROM call_halves WHERE at < ? AND side = 'client'").pluck().all(before) as string[];
    this.merge(old.flatMap((d) => expiredEdge(JSON.parse(d) as HalfData)));
    this.db.prepare('DELETE FROM call_halves WHERE at < ?').run(before);
  }

  /** Slots that ended before the cutoff go (as the services rollup's). */
  deleteBefore(olderThan: bigint): void {
    this.db.prepare('DELETE FROM trace_rollup WHERE slot + width <= ?').run(olderThan);
  }
}
