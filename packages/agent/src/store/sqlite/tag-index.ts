import type Database from 'better-sqlite3';
import { mayContain, type PayloadTagFilters, type TagProbe } from '../tag-filter.js';

/*
 * The embedded store's rows of the tag index (tag-filter.ts): one per payload and shard, keyed by
 * (shard, max_start), so that a search reads the shard its tag hashes to over the window's
 * payloads only. `tag_filter_widest` bounds how far before a payload's last start its first can
 * be, so that a window far back does not read every newer row (as search_widest does for blocks).
 */

export const TAG_INDEX_SCHEMA = `
CREATE TABLE IF NOT EXISTS tag_filters (
  shard     INTEGER NOT NULL,
  max_start INTEGER NOT NULL,
  payload   INTEGER NOT NULL,
  min_start INTEGER NOT NULL,
  bits      BLOB NOT NULL,
  PRIMARY KEY (shard, max_start, payload)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tag_filters_by_payload ON tag_filters (payload);
CREATE TABLE IF NOT EXISTS tag_filter_widest (
  id     INTEGER PRIMARY KEY CHECK (id = 0),
  widest INTEGER NOT NULL
);
INSERT OR IGNORE INTO tag_filter_widest (id, widest) VALUES (0, 0);
`;

const MAX = 2n ** 63n - 1n;

export class TagIndex {
  private readonly insert: Database.Statement;
  /** The writer's own copy of the widest payload (readers read the table). */
  private widest: bigint | undefined;

  constructor(private readonly db: Database.Database, private readonly writer: boolean) {
    this.insert = db.prepare('INSERT OR REPLACE INTO tag_filters (shard, max_start, payload, min_start, bits) VALUES (?, ?, ?, ?, ?)');
  }

  private readWidest(): bigint {
    return (this.db.prepare('SELECT widest FROM tag_filter_widest WHERE id = 0').safeIntegers(true).pluck().get() as bigint | undefined) ?? 0n;
  }

  /** Inside the payload's write transaction. */
  add(payload: bigint, f: PayloadTagFilters): void {
    this.widest ??= this.readWidest();
    if (f.maxStart - f.minStart > this.widest) {
      this.widest = f.maxStart - f.minStart;
      this.db.prepare('UPDATE tag_filter_widest SET widest = ? WHERE id = 0').run(this.widest);
    }
    for (const r of f.rows) this.insert.run(r.shard, f.maxStart, payload, f.minStart, r.bits);
  }

  deleteUpTo(payload: bigint): void {
    this.db.prepare('DELETE FROM tag_filters WHERE payload <= ?').run(payload);
  }

  /** Payloads with a span starting in [start, end) whose filter may hold what is probed, latest last start first. */
  maybe(probe: TagProbe, start: bigint, end: bigint): bigint[] {
    const { shards, probes } = probe;
    const widest = this.writer ? (this.widest ??= this.readWidest()) : this.readWidest();
    const rows = this.db.prepare(`SELECT payload, bits FROM tag_filters WHERE shard IN (?, ?) AND max_start >= ? AND max_start < ? AND min_start < ?
                                  ORDER BY max_start DESC`).safeIntegers(true);
    // All at once: the connection runs nothing else while a statement is being iterated.
    const out: bigint[] = [];
    for (const r of rows.all(shards[0], shards[1], start, end > MAX - widest ? MAX : end + widest, end) as { payload: bigint; bits: Buffer }[]) {
      if (mayContain(r.bits, probes)) out.push(r.payload);
    }
    return out;
  }
}
