import type Database from 'better-sqlite3';
import type { ChunkRow } from '../prepare-write.js';
import { highToInt, type StoredChunk } from './chunk-names.js';

/*
 * The embedded store's trace-id index, log-structured. Trace ids are random, so in one B-tree
 * keyed by trace id each of a payload's ~300 chunk rows lands on a page of its own: a commit
 * wrote ~400 pages (2.2 MB for a 64 KB payload) once the tree outgrew a commit, and that bound
 * intake (bench/store-growth.bench.js). Here rows are keyed by (run, trace id):
 *  - new rows go into the open run, which is sealed at `runRows` rows, so a commit only touches
 *    the pages of a small subtree;
 *  - `fanIn` sealed runs of a level are merged, in the writing transaction, into one run of the
 *    next level, written in key order at the end of the table (each page once); runs of
 *    `maxLevel` are not merged further, which bounds a merge (16 x 32k rows by default);
 *  - the open run is small (2048 rows, ~32 pages): 8192 rows took 1.6x the bytes written a
 *    payload and 1.04-1.10x the time end to end; a fan-in of 16 over two levels rewrites a row
 *    twice where 8 over three did three times (1.04-1.07x intake; bench/README.md);
 *  - a lookup seeks each live run (a few dozen at most on a bounded disk);
 *  - retention drops the runs whose payloads are all gone and trims the few that straddle.
 * Everything is in the store's transactions: a crash leaves the index as the last commit did.
 */

export const TRACE_RUNS_SCHEMA = `
CREATE TABLE IF NOT EXISTS trace_runs (
  id          INTEGER PRIMARY KEY,
  level       INTEGER NOT NULL,
  rows        INTEGER NOT NULL,
  min_payload INTEGER NOT NULL,
  max_payload INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trace_chunks (
  run           INTEGER NOT NULL,
  trace_id      INTEGER NOT NULL,
  payload       INTEGER NOT NULL,
  offset        INTEGER NOT NULL,
  trace_id_high INTEGER NOT NULL,
  start         INTEGER NOT NULL,
  end           INTEGER NOT NULL,
  root_span_id  INTEGER,
  span_count    INTEGER NOT NULL,
  error_count   INTEGER NOT NULL,
  names         INTEGER NOT NULL,
  PRIMARY KEY (run, trace_id, payload, offset)
) WITHOUT ROWID;
`;

/** The open run's level: sealed runs have 0 and up. */
const OPEN = -1;

export interface TraceRunsOptions {
  /** Rows before the open run is sealed (default 2048: about 32 pages). */
  runRows?: number;
  /** Sealed runs of a level merged at once (default 16). */
  fanIn?: number;
  /** Runs of this level are not merged further (default 2: 2048 x 16^2 = 512k rows). */
  maxLevel?: number;
}

interface RunRow { id: bigint; level: number; rows: number; min_payload: bigint; max_payload: bigint }
type StoredRun = { [K in keyof RunRow]: bigint };

/** A run as read with safe integers, its counts as numbers. */
const runOf = (r: StoredRun): RunRow => ({ id: r.id, level: Number(r.level), rows: Number(r.rows), min_payload: r.min_payload, max_payload: r.max_payload });

const COLUMNS = 'trace_id, payload, offset, trace_id_high, start, end, root_span_id, span_count, error_count, names';

export class TraceRuns {
  private readonly runRows: number;
  private readonly fanIn: number;
  private readonly maxLevel: number;
  private readonly s: ReturnType<TraceRuns['prepare']>;

  constructor(private readonly db: Database.Database, options: TraceRunsOptions = {}) {
    this.runRows = options.runRows ?? 2048;
    this.fanIn = Math.max(2, options.fanIn ?? 16);
    this.maxLevel = options.maxLevel ?? 2;
    this.s = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare(`INSERT OR REPLACE INTO trace_chunks (run, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      openRun: db.prepare(`SELECT * FROM trace_runs WHERE level = ${OPEN}`).safeIntegers(true),
      newRun: db.prepare('INSERT INTO trace_runs (level, rows, min_payload, max_payload) VALUES (?, ?, ?, ?)'),
      setRun: db.prepare('UPDATE trace_runs SET level = ?, rows = ?, min_payload = ?, max_payload = ? WHERE id = ?'),
      runsOfLevel: db.prepare('SELECT * FROM trace_runs WHERE level = ? ORDER BY id LIMIT ?').safeIntegers(true),
      countOfLevel: db.prepare('SELECT count(*) FROM trace_runs WHERE level = ?').pluck(),
      // One seek per live run: the run is the key's first column.
      lookup: db.prepare(`SELECT ${COLUMNS} FROM trace_chunks WHERE run IN (SELECT id FROM trace_runs) AND trace_id = ? ORDER BY start`).safeIntegers(true),
      reaching: db.prepare('SELECT * FROM trace_runs WHERE min_payload <= ? AND rows > 0').safeIntegers(true),
      deleteRunRows: db.prepare('DELETE FROM trace_chunks WHERE run = ?'),
      deleteRun: db.prepare('DELETE FROM trace_runs WHERE id = ?'),
      trimRun: db.prepare('DELETE FROM trace_chunks WHERE run = ? AND payload <= ?'),
      // Its run ids are the largest: the merged rows go, in key order, at the table's end.
      merge: db.prepare(`INSERT INTO trace_chunks (run, ${COLUMNS}) SELECT ?, ${COLUMNS} FROM trace_chunks WHERE run IN (${Array(this.fanIn).fill('?').join(',')}) ORDER BY trace_id, payload, offset`),
      runStats: db.prepare('SELECT count(*) AS rows, coalesce(min(payload), 0) AS min_payload, coalesce(max(payload), 0) AS max_payload FROM trace_chunks WHERE run = ?').safeIntegers(true),
    };
  }

  /** A payload's chunk rows, `names[i]` being chunk i's index into the payload's names. Call inside a transaction. */
  add(payload: bigint, chunks: readonly ChunkRow[], names: readonly number[]): void {
    if (chunks.length === 0) return;
    // Read from the table each time rather than kept: a write that rolls back takes its changes
    // to the open run with it, and a few dozen run rows cost nothing beside a payload's inserts.
    const stored = this.s.openRun.get() as StoredRun | undefined;
    let open = stored === undefined ? undefined : runOf(stored);
    if (open === undefined) {
      const id = BigInt(this.s.newRun.run(OPEN, 0, 0, 0).lastInsertRowid);
      open = { id, level: OPEN, rows: 0, min_payload: 0n, max_payload: 0n };
    }
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      this.s.insert.run(open.id, c.traceId, payload, c.offset, highToInt(c.traceIdHigh), c.start, c.end, c.rootSpanId, c.spanCount, c.errorCount, names[i]!);
    }
    const next: RunRow = { ...open, rows: open.rows + chunks.length, min_payload: open.rows === 0 ? payload : open.min_payload, max_payload: payload };
    if (next.rows >= this.runRows) {
      this.s.setRun.run(0, next.rows, next.min_payload, next.max_payload, next.id);
      this.compact();
    } else {
      this.s.setRun.run(OPEN, next.rows, next.min_payload, next.max_payload, next.id);
    }
  }

  /** Merges full levels, lowest first. */
  private compact(): void {
    for (let level = 0; level < this.maxLevel; level++) {
      if ((this.s.countOfLevel.get(level) as number) < this.fanIn) break;
      const runs = (this.s.runsOfLevel.all(level, this.fanIn) as StoredRun[]).map(runOf);
      const ids = runs.map((r) => r.id);
      const id = BigInt(this.s.newRun.run(level + 1, 0, 0, 0).lastInsertRowid);
      this.s.merge.run(id, ...ids);
      for (const r of ids) {
        this.s.deleteRunRows.run(r);
        this.s.deleteRun.run(r);
      }
      const rows = runs.reduce((n, r) => n + Number(r.rows), 0);
      const min = runs.reduce((m, r) => (r.min_payload < m ? r.min_payload : m), runs[0]!.min_payload);
      const max = runs.reduce((m, r) => (r.max_payload > m ? r.max_payload : m), runs[0]!.max_payload);
      this.s.setRun.run(level + 1, rows, min, max, id);
    }
  }

  /** The chunk rows of a trace, oldest start first. */
  lookup(traceId: bigint): StoredChunk[] {
    return this.s.lookup.all(traceId) as StoredChunk[];
  }

  /** Removes the rows of payloads with id <= upTo. Call inside a transaction. */
  deletePayloadsUpTo(upTo: bigint): void {
    for (const r of (this.s.reaching.all(upTo) as StoredRun[]).map(runOf)) {
      if (r.max_payload <= upTo && r.level !== OPEN) {
        this.s.deleteRunRows.run(r.id);
        this.s.deleteRun.run(r.id);
        continue;
      }
      // A run that straddles the cutoff (or the open one) keeps its newer rows.
      this.s.trimRun.run(r.id, upTo);
      const left = this.s.runStats.get(r.id) as { rows: bigint; min_payload: bigint; max_payload: bigint };
      if (left.rows === 0n && r.level !== OPEN) {
        this.s.deleteRun.run(r.id);
        continue;
      }
      this.s.setRun.run(r.level, Number(left.rows), left.min_payload, left.max_payload, r.id);
    }
  }
}
