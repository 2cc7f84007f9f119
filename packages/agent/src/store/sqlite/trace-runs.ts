import type Database from 'better-sqlite3';
import type { ChunkRow } from '../prepare-write.js';
import type { StoredChunk } from './chunk-names.js';
import { ENTRY_BYTES, Entries, entriesOfStored, idFilter, packEntries, pageColumns } from './trace-entries.js';

/*
 * The embedded store's trace-id index, log-structured and packed. Trace ids are random, so in
 * one B-tree keyed by trace id each of a payload's ~300 chunk rows landed on a page of its own;
 * and a row of its own, even in a small run, cost SQLite 3.5-4 µs to insert and as much again
 * each time a merge rewrote it (a quarter of the intake thread; bench/README.md). So:
 *  - a payload's chunk rows are one run: its entries (trace-entries.ts, 64 bytes each) sorted
 *    by trace id, in pages of `pageEntries` entries keyed by (run, first trace id), each with a
 *    filter of the ids it holds (trace-entries.ts);
 *  - a run's level is its size: 0 below `baseRows` entries, then one more each `fanIn` times
 *    that (256, 2,048, 16,384 entries by default); `fanIn` runs of a level are merged, in the
 *    writing transaction, into one (a k-way merge in JS, a page of each run in memory at a
 *    time, written at the end of the table), as are the runs of a level that together reach
 *    `mergeRows` entries (256k). A merge takes at most that many, the oldest runs of the level
 *    that fit. A run of half of it or more is final, and is not merged again: the store is
 *    final runs of 128k-256k entries and, below them, at most fanIn - 1 runs a level (and a few
 *    at the top level that fill a merge). Tried: final runs of 77k entries left lookups on a
 *    large store seeking hundreds of runs; of 512k, a merge held a commit 0.66 s
 *    (bench/README.md);
 *  - a lookup reads, in one statement, the page of each live run that can hold the trace id and
 *    whose filter has it (and, when the id's entries may start on an earlier page, the pages
 *    before it);
 *  - retention drops the runs whose payloads are all gone and rewrites the pages of the few that
 *    straddle the cutoff.
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
CREATE TABLE IF NOT EXISTS trace_pages (
  id      INTEGER PRIMARY KEY,
  run     INTEGER NOT NULL,
  first   INTEGER NOT NULL,
  f0      INTEGER NOT NULL,
  f1      INTEGER NOT NULL,
  entries BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS trace_pages_by_key ON trace_pages (run, first);
`;

/** The level of runs not merged again. */
export const FINAL_LEVEL = 1000;

export interface TraceRunsOptions {
  /** Runs of a level merged at once (default 8: as few rewrites of an entry as 16 for dd-trace's payloads, and a lookup seeks 15 runs instead of 21; 4 cost 1.2x the commit time for 9). */
  fanIn?: number;
  /** Entries a merge writes at most (default 256k: 16 MB, about 0.3 s). */
  mergeRows?: number;
  /** A run of fewer entries is of level 0 (default 256). */
  baseRows?: number;
  /** Entries a page holds (default 32: its filter passes 15% of the ids it lacks; 16 gave 3% for no faster lookups, and twice the rows). */
  pageEntries?: number;
}

interface RunRow { id: number; level: number; rows: number; min_payload: number; max_payload: number }

export class TraceRuns {
  private readonly fanIn: number;
  private readonly mergeRows: number;
  private readonly baseRows: number;
  private readonly pageEntries: number;
  private readonly s: ReturnType<TraceRuns['prepare']>;

  constructor(private readonly db: Database.Database, options: TraceRunsOptions = {}) {
    this.fanIn = Math.max(2, options.fanIn ?? 8);
    this.mergeRows = Math.max(2, options.mergeRows ?? 256 * 1024);
    this.baseRows = Math.max(1, options.baseRows ?? 256);
    this.pageEntries = Math.max(1, options.pageEntries ?? 32);
    this.s = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      newRun: db.prepare('INSERT INTO trace_runs (level, rows, min_payload, max_payload) VALUES (?, ?, ?, ?)'),
      setRun: db.prepare('UPDATE trace_runs SET rows = ?, min_payload = ?, max_payload = ? WHERE id = ?'),
      runsOfLevel: db.prepare('SELECT * FROM trace_runs WHERE level = ? ORDER BY id LIMIT ?'),
      fullLevels: db.prepare(`SELECT level FROM trace_runs WHERE level < ${FINAL_LEVEL} GROUP BY level
        HAVING count(*) >= @fanIn OR (count(*) >= 2 AND sum(rows) >= @mergeRows) ORDER BY level`).pluck(),
      setLevel: db.prepare('UPDATE trace_runs SET level = ? WHERE id = ?'),
      reaching: db.prepare('SELECT * FROM trace_runs WHERE min_payload <= ?'),
      deleteRun: db.prepare('DELETE FROM trace_runs WHERE id = ?'),
      insertPage: db.prepare('INSERT INTO trace_pages (run, first, f0, f1, entries) VALUES (?, ?, ?, ?, ?)'),
      pageIds: db.prepare('SELECT id FROM trace_pages WHERE run = ? ORDER BY first, id').pluck(),
      page: db.prepare('SELECT entries FROM trace_pages WHERE id = ?').pluck(),
      setPage: db.prepare('UPDATE trace_pages SET first = ?, f0 = ?, f1 = ?, entries = ? WHERE id = ?'),
      deletePage: db.prepare('DELETE FROM trace_pages WHERE id = ?'),
      deletePages: db.prepare('DELETE FROM trace_pages WHERE run = ?'),
      // Each run's last page whose first id is at most the id: the page that holds the id's
      // entries, or the last of them.
      candidates: db.prepare(`SELECT r.id AS run, p.first, p.entries FROM trace_runs r, trace_pages p
        WHERE p.id = (SELECT id FROM trace_pages WHERE run = r.id AND first <= @id ORDER BY first DESC, id DESC LIMIT 1)
          AND (p.f0 & @f0) = @f0 AND (p.f1 & @f1) = @f1`).safeIntegers(true),
      // Newest key first: the pages that can hold the id are those from the last whose first id
      // is below it on (entries of one id may straddle pages).
      pagesAtOrBefore: db.prepare('SELECT first, entries FROM trace_pages WHERE run = ? AND first <= ? ORDER BY first DESC, id DESC').safeIntegers(true),
    };
  }

  /** A payload's chunk rows, `names[i]` being chunk i's index into the payload's names. Call inside a transaction. */
  add(payload: bigint, chunks: readonly ChunkRow[], names: readonly number[]): void {
    if (chunks.length === 0) return;
    const run = Number(this.s.newRun.run(this.levelOf(chunks.length), chunks.length, payload, payload).lastInsertRowid);
    this.writePages(run, packEntries(payload, chunks, names));
    this.compact();
  }

  private levelOf(rows: number): number {
    // Half a merge's bound or more: it would only ever merge with smaller runs.
    if (2 * rows >= this.mergeRows) return FINAL_LEVEL;
    let level = 0;
    for (let size = this.baseRows; rows >= size; size *= this.fanIn) level++;
    return level;
  }

  /** Writes a run's entries, already in key order, as pages of at most `pageEntries`. */
  private writePages(run: number, bytes: Buffer): void {
    const step = this.pageEntries * ENTRY_BYTES;
    for (let at = 0; at < bytes.length; at += step) {
      this.insertPage(run, bytes.subarray(at, Math.min(at + step, bytes.length)));
    }
  }

  private insertPage(run: number, bytes: Buffer): void {
    this.s.insertPage.run(run, ...pageColumns(new Entries(bytes)), bytes);
  }

  /** Merges full levels, lowest first (a payload's run may start above level 0). */
  private compact(): void {
    for (const level of this.s.fullLevels.all({ fanIn: this.fanIn, mergeRows: this.mergeRows }) as number[]) {
      const runs = this.s.runsOfLevel.all(level, this.fanIn) as RunRow[];
      let take = 0;
      let rows = 0;
      while (take < runs.length && rows + runs[take]!.rows <= this.mergeRows) rows += runs[take++]!.rows;
      if (take >= 2) this.merge(runs.slice(0, take));
      else this.s.setLevel.run(FINAL_LEVEL, runs[0]!.id);
    }
  }

  private merge(runs: readonly RunRow[]): void {
    const rows = runs.reduce((n, r) => n + r.rows, 0);
    const min = Math.min(...runs.map((r) => r.min_payload));
    const max = Math.max(...runs.map((r) => r.max_payload));
    const run = Number(this.s.newRun.run(this.levelOf(rows), rows, min, max).lastInsertRowid);
    const cursors = runs.map((r) => new RunCursor(this.s.pageIds.all(r.id) as number[], (id) => this.s.page.get(id) as Buffer)).filter((c) => !c.done);
    const out = Buffer.alloc(this.pageEntries * ENTRY_BYTES);
    const outWords = new Int32Array(out.buffer, out.byteOffset, out.byteLength / 4);
    let n = 0;
    for (;;) {
      // A linear scan for the least head: fanIn is small.
      let least: RunCursor | undefined;
      for (const c of cursors) if (!c.done && (least === undefined || c.before(least))) least = c;
      if (least === undefined) break;
      least.page.copyTo(least.at, out, outWords, n);
      least.next();
      if (++n === this.pageEntries) {
        this.writePages(run, out);
        n = 0;
      }
    }
    if (n > 0) this.writePages(run, out.subarray(0, n * ENTRY_BYTES));
    for (const r of runs) {
      this.s.deletePages.run(r.id);
      this.s.deleteRun.run(r.id);
    }
  }

  /** The chunk rows of a trace, oldest start first. */
  lookup(traceId: bigint): StoredChunk[] {
    const found: StoredChunk[] = [];
    const [f0, f1] = idFilter(traceId);
    for (const c of this.s.candidates.all({ id: traceId, f0, f1 }) as { run: bigint; first: bigint; entries: Buffer }[]) {
      new Entries(c.entries).find(traceId, found);
      if (c.first < traceId) continue;
      // The page starts with the id: its entries may start on pages before it (the first page
      // this reads is the candidate, already searched).
      let seen = false;
      for (const p of this.s.pagesAtOrBefore.iterate(c.run, traceId) as IterableIterator<{ first: bigint; entries: Buffer }>) {
        if (seen) new Entries(p.entries).find(traceId, found);
        seen = true;
        if (p.first < traceId) break;
      }
    }
    return found.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** Removes the entries of payloads with id <= upTo. Call inside a transaction. */
  deletePayloadsUpTo(upTo: bigint): void {
    const cutoff = Number(upTo);
    for (const r of this.s.reaching.all(upTo) as RunRow[]) {
      if (r.max_payload <= cutoff) {
        this.s.deletePages.run(r.id);
        this.s.deleteRun.run(r.id);
        continue;
      }
      // A run that straddles the cutoff keeps its newer entries, page by page.
      let rows = 0;
      let min = Infinity;
      for (const id of this.s.pageIds.all(r.id) as number[]) {
        const page = new Entries(this.s.page.get(id) as Buffer);
        const kept: number[] = [];
        for (let i = 0; i < page.count; i++) if (page.payload(i) > cutoff) kept.push(i);
        rows += kept.length;
        for (const i of kept) min = Math.min(min, page.payload(i));
        if (kept.length === page.count) continue;
        if (kept.length === 0) {
          this.s.deletePage.run(id);
          continue;
        }
        const bytes = Buffer.concat(kept.map((i) => page.bytes.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES)));
        this.s.setPage.run(...pageColumns(new Entries(bytes)), bytes, id);
      }
      if (rows === 0) this.s.deleteRun.run(r.id);
      else this.s.setRun.run(rows, min, r.max_payload, r.id);
    }
  }

  /**
   * Schema 3 kept a row per chunk in trace_chunks, keyed by (run, trace id, payload, offset):
   * each run's rows, read in key order a page at a time, become its pages, its level that of its
   * size, and the table goes. Call inside a transaction.
   */
  migrateRows(): void {
    const next = this.db.prepare(`SELECT * FROM trace_chunks WHERE run = ? AND (trace_id, payload, offset) > (?, ?, ?)
      ORDER BY trace_id, payload, offset LIMIT ${this.pageEntries}`).safeIntegers(true);
    // Schema 3's open run may be empty.
    this.db.prepare('DELETE FROM trace_runs WHERE rows = 0').run();
    for (const { id: run, rows: count } of this.db.prepare('SELECT id, rows FROM trace_runs').all() as RunRow[]) {
      this.s.setLevel.run(this.levelOf(count), run);
      let rows = next.all(run, -(2n ** 63n), 0, 0) as StoredChunk[];
      while (rows.length > 0) {
        this.insertPage(run, entriesOfStored(rows));
        const last = rows[rows.length - 1]!;
        rows = next.all(run, last.trace_id, last.payload, last.offset) as StoredChunk[];
      }
    }
    this.db.exec('DROP TABLE trace_chunks');
  }
}

/** A run's pages read in key order, one in memory at a time, its head entry's key at hand. */
class RunCursor {
  page: Entries = EMPTY;
  at = 0;
  private high = 0;
  private low = 0;
  private payload = 0;
  private offset = 0;
  private nextPage = 0;

  constructor(private readonly pageIds: readonly number[], private readonly read: (id: number) => Buffer) {
    this.load();
  }

  get done(): boolean {
    return this.at >= this.page.count;
  }

  /** Whether this head comes before the other's in key order (trace id, payload, offset). */
  before(o: RunCursor): boolean {
    if (this.high !== o.high) return this.high < o.high;
    if (this.low !== o.low) return this.low < o.low;
    if (this.payload !== o.payload) return this.payload < o.payload;
    return this.offset < o.offset;
  }

  next(): void {
    if (++this.at >= this.page.count) this.load();
    else this.readHead();
  }

  private load(): void {
    this.at = 0;
    this.page = EMPTY;
    while (this.page.count === 0 && this.nextPage < this.pageIds.length) this.page = new Entries(this.read(this.pageIds[this.nextPage++]!));
    if (!this.done) this.readHead();
  }

  private readHead(): void {
    this.high = this.page.idHigh(this.at);
    this.low = this.page.idLow(this.at);
    this.payload = this.page.payload(this.at);
    this.offset = this.page.offset(this.at);
  }
}

const EMPTY = new Entries(new Uint8Array(0));
