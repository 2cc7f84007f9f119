import type Database from 'better-sqlite3';
import { encodeSketch } from '../sketch-codec.js';
import { addServiceStats, mergeServiceStats, serviceStatsFromColumns, slotFirstSeen, type ServiceStatsRow } from '../records.js';
import { coverRange, foldIntoSlots } from '../service-rollup.js';
import type { EncodedStatsRow } from './sqlite-store.js';

/* The embedded store's table of the services rollup (store/service-rollup.ts says how it is read). */

export const ROLLUP_SCHEMA = `
CREATE TABLE IF NOT EXISTS service_rollup (
  width          INTEGER NOT NULL,
  slot           INTEGER NOT NULL,
  service        TEXT NOT NULL,
  env            TEXT NOT NULL,
  name           TEXT NOT NULL,
  version        TEXT NOT NULL,
  type           TEXT NOT NULL,
  top_level_hits REAL NOT NULL,
  hits           REAL NOT NULL,
  errors         REAL NOT NULL,
  total_duration REAL NOT NULL,
  ok_sketch      BLOB NOT NULL,
  error_sketch   BLOB NOT NULL,
  last_seen      INTEGER NOT NULL,
  first_seen     INTEGER,
  PRIMARY KEY (width, slot, service, env, name, version)
) WITHOUT ROWID;
`;

export class ServiceRollup {
  private readonly select: Database.Statement;
  private readonly upsert: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.select = db.prepare('SELECT * FROM service_rollup WHERE width = ? AND slot = ? AND service = ? AND env = ? AND name = ? AND version = ?').safeIntegers(true);
    this.upsert = db.prepare(`INSERT OR REPLACE INTO service_rollup (width, slot, service, env, name, version, type, top_level_hits, hits, errors, total_duration, ok_sketch, error_sketch, last_seen, first_seen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  /** Folds new stats rows into their slots of every width; called inside the transaction that stores them. */
  add(rows: EncodedStatsRow[]): void {
    for (const { width, slot, row } of foldIntoSlots(rows)) {
      const existing = this.select.get(width, slot, row.service, row.env, row.name, row.version) as Record<string, unknown> | undefined;
      if (existing) addServiceStats(row, serviceStatsFromColumns(existing, existing['last_seen'] as bigint, slotFirstSeen(existing)));
      this.upsert.run(width, slot, row.service, row.env, row.name, row.version, row.type, row.topLevelHits, row.hits, row.errors, row.totalDuration,
        Buffer.from(encodeSketch(row.okSketch)), Buffer.from(encodeSketch(row.errorSketch)), row.lastSeen, row.firstSeen);
    }
  }

  /** Whole slots from the rollup, the ragged ends from the 10-s rows, merged. */
  query(range: { start: bigint; end: bigint }): ServiceStatsRow[] {
    const { slots, raw } = coverRange(range.start, range.end);
    const rawRows = this.db.prepare(`SELECT service, env, name, version, type, top_level_hits, hits, errors, total_duration, ok_sketch, error_sketch, start + duration AS last_seen, start
      FROM stats WHERE start >= ? AND start < ? AND top_level_hits > 0`).safeIntegers(true);
    const slotRows = this.db.prepare('SELECT * FROM service_rollup WHERE width = ? AND slot >= ? AND slot < ?').safeIntegers(true);
    const out: ServiceStatsRow[] = [];
    for (const [from, to] of raw) for (const r of rawRows.all(from, to) as Record<string, unknown>[]) out.push(serviceStatsFromColumns(r, r['last_seen'] as bigint, r['start'] as bigint));
    for (const { width, from, to } of slots) for (const r of slotRows.all(width, from, to) as Record<string, unknown>[]) out.push(serviceStatsFromColumns(r, r['last_seen'] as bigint, slotFirstSeen(r)));
    return mergeServiceStats(out);
  }

  /** Rebuilds the rollup from the 10-s rows, for a store written before it existed. */
  backfill(): void {
    const empty = this.db.prepare('SELECT 1 FROM service_rollup LIMIT 1').get() === undefined;
    const hasStats = this.db.prepare('SELECT 1 FROM stats WHERE top_level_hits > 0 LIMIT 1').get() !== undefined;
    if (!empty || !hasStats) return;
    const page = this.db.prepare('SELECT rowid AS id, * FROM stats WHERE top_level_hits > 0 AND rowid > ? ORDER BY rowid LIMIT 10000').safeIntegers(true);
    this.db.transaction(() => {
      for (let after = 0n; ;) {
        const rows = page.all(after) as Record<string, unknown>[];
        if (rows.length === 0) break;
        after = rows[rows.length - 1]!['id'] as bigint;
        this.add(rows.map((r) => ({
          start: r['start'] as bigint, durationNs: r['duration'] as bigint, service: r['service'] as string, name: r['name'] as string,
          resource: '', type: r['type'] as string, env: r['env'] as string, version: r['version'] as string, httpStatusCode: 0, spanKind: '',
          isTraceRoot: false, synthetics: false, peerTags: [], hits: Number(r['hits']), topLevelHits: Number(r['top_level_hits']),
          errors: Number(r['errors']), totalDuration: Number(r['total_duration']), okSketch: r['ok_sketch'] as Buffer, errorSketch: r['error_sketch'] as Buffer, source: 'agent' as const,
        })));
      }
    })();
  }

  /**
   * Deletes the slots that ended before the cutoff. A slot the cutoff falls in stays whole until
   * it ends: a range that reaches back past retention may count up to an hour of expired stats.
   */
  deleteBefore(olderThan: bigint): void {
    this.db.prepare('DELETE FROM service_rollup WHERE slot + width <= ?').run(olderThan);
  }
}
