import { setImmediate as nextTurn } from 'node:timers/promises';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { decodeSketch } from '../sketch-codec.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { prepareWrite, type ChunkRow, type IndexRow, type PreparedWrite } from '../prepare-write.js';
import { decodeSegment, decodeSegmentChunk, readDictionary, segmentTracesMatching } from '../segment-codec.js';
import { ROLLUP_SCHEMA, ServiceRollup } from './service-rollup.js';
import { TRACE_ROLLUP_SCHEMA, TraceRollupTable } from './trace-rollup-table.js';
import { HALF_TTL_NS, type RollupKind } from '../trace-rollup.js';
import type { RollupRead } from '../contract.js';
import { summarizeChunks, type ChunkRecord } from '../chunk-summary.js';
import { chunkRecord, packChunkNames, type NameTuple } from './chunk-names.js';
import { PayloadCache } from './payload-cache.js';
import { Checkpointer } from './checkpointer.js';
import { TRACE_RUNS_SCHEMA, TraceRuns, type TraceRunsOptions } from './trace-runs.js';
import { sqlitePlaceholder, statsQueryWhere, statsSelect } from '../conditions.js';
import { TAG_INDEX_SCHEMA, TagIndex } from './tag-index.js';
import { buildTagFilters, everyOf, tagSearch } from '../tag-filter.js';
import { blockConditions, packSearchBlocks, searchBlocks, type SearchBlock, type StoredBlock } from './search-blocks.js';
import type { ErrorStatus, ErrorStatusRecord, RemoteConfigRecords, RetentionResult, StatsQuery, StoreStats, TraceQuery, TraceStore, WriteBatch } from '../contract.js';
import { encodeSketches, newSketch, type ServiceStatsRow, type SpanRecord, type StatsRow, type TraceId, type TraceRecord, type TraceSummaryRecord, type WithEncodedSketches } from '../records.js';

/*
 * The embedded store: one SQLite file in WAL mode, laid out so that the write path appends
 * (bench/README.md has the measurements behind this shape):
 *  - payloads: one row per accepted payload, its spans in one dictionary-encoded blob;
 *  - trace_runs and trace_pages: the trace-id index, an entry per trace chunk with its summary
 *    and the byte offset of its spans in the payload blob, packed in pages of runs sorted by
 *    trace id (trace-runs.ts: log-structured, since trace ids are random); the summaries'
 *    strings are kept once per payload in chunk_names (chunk-names.ts);
 *  - search_blocks: service entry (top-level) and error spans, for search, packed one block per
 *    payload and service (search-blocks.ts), indexed by (service, max_start) and max_start;
 *  - tag_filters: the tag index, Bloom filters of each payload's key=value pairs (tag-index.ts).
 * Trace summaries are merged from chunk rows when read, so no write updates an earlier row.
 * Retention deletes whole payloads: a rowid range in every table but the trace-id index, whose
 * runs are dropped whole or trimmed (trace-runs.ts).
 */

const SCHEMA_VERSION = 6;
/** How long monitors' changes of state are kept. */
const MONITOR_EVENTS_KEPT_NS = 30n * 86_400_000_000_000n;
/** Schemas this version opens and upgrades in place (migrateFrom2, migrateFrom3, migrateFrom4, migrateFrom5). */
const UPGRADABLE = [2, 3, 4, 5];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS payloads (
  id             INTEGER PRIMARY KEY,
  received       INTEGER NOT NULL,
  max_end        INTEGER NOT NULL,
  first_index    INTEGER NOT NULL,
  last_index     INTEGER NOT NULL,
  span_count     INTEGER NOT NULL,
  lang           TEXT NOT NULL,
  tracer_version TEXT NOT NULL,
  container_id   TEXT NOT NULL,
  hostname       TEXT NOT NULL,
  spans          BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chunk_names (
  payload INTEGER PRIMARY KEY,
  names   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS search_blocks (
  id           INTEGER PRIMARY KEY,
  service      TEXT NOT NULL,
  min_start    INTEGER NOT NULL,
  max_start    INTEGER NOT NULL,
  errors       INTEGER NOT NULL,
  max_duration INTEGER NOT NULL,
  strings      TEXT NOT NULL,
  entries      BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS search_blocks_by_service ON search_blocks (service, max_start);
CREATE INDEX IF NOT EXISTS search_blocks_by_start ON search_blocks (max_start);
CREATE TABLE IF NOT EXISTS search_widest (
  id     INTEGER PRIMARY KEY CHECK (id = 0),
  widest INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS error_status (
  group_id   TEXT PRIMARY KEY,
  status     TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS monitor_mute (
  monitor TEXT PRIMARY KEY,
  until   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS saved_monitors (
  id         TEXT PRIMARY KEY,
  definition TEXT NOT NULL
);
-- Remote configurations (remote-config/); a removed one stays, its definition NULL, so the
-- revision (the greatest version) still goes up at a removal.
CREATE TABLE IF NOT EXISTS remote_configs (
  id         TEXT PRIMARY KEY,
  definition TEXT,
  version    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS monitor_events (
  monitor TEXT NOT NULL,
  at      INTEGER NOT NULL,
  event   TEXT NOT NULL,
  PRIMARY KEY (monitor, at)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS monitor_events_at ON monitor_events (at);
CREATE TABLE IF NOT EXISTS stats (
  start            INTEGER NOT NULL,
  duration         INTEGER NOT NULL,
  service          TEXT NOT NULL,
  name             TEXT NOT NULL,
  resource         TEXT NOT NULL,
  type             TEXT NOT NULL,
  env              TEXT NOT NULL,
  version          TEXT NOT NULL,
  http_status_code INTEGER NOT NULL,
  span_kind        TEXT NOT NULL,
  is_trace_root    INTEGER NOT NULL,
  synthetics       INTEGER NOT NULL,
  peer_tags        TEXT NOT NULL,
  hits             REAL NOT NULL,
  top_level_hits   REAL NOT NULL,
  errors           REAL NOT NULL,
  total_duration   REAL NOT NULL,
  ok_sketch        BLOB NOT NULL,
  error_sketch     BLOB NOT NULL,
  source           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stats_by_service ON stats (service, start);
CREATE INDEX IF NOT EXISTS stats_by_start ON stats (start);
`;

export interface SqliteStoreOptions extends TraceRunsOptions {
  /** Directory for `traces.db`; created if missing. `:memory:` keeps everything in memory. */
  dataDir: string;
  /**
   * A second connection that only reads, beside a writer on another thread: it creates nothing
   * and keeps no cache of payload dictionaries (the writer may delete and reuse payload ids).
   */
  readonly?: boolean;
  /**
   * The disk the store may use (0: no bound). The write-ahead log is checkpointed and truncated
   * at a twentieth of it, so that the log alone can never take the store over its bound.
   */
  maxDiskBytes?: number;
  /**
   * Checkpoints on a thread of their own (checkpointer.ts) rather than in the writer's commits
   * (default true; a file-backed writable store only).
   */
  checkpointThread?: boolean;
}

/** A search's candidate without its summary (TraceQuery.startsOnly). */
const lightRecord = (id: bigint, start: bigint): TraceSummaryRecord => ({
  traceId: { high: 0n, low: BigInt.asUintN(64, id) }, start, rootService: '', rootName: '', rootResource: '', duration: 0, spanCount: 0, errorCount: 0, services: [], env: '', incomplete: false,
});

/** The store could not be opened: the message names the path and the cause. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** What went wrong opening a file, in words a person can act on. */
export function openCause(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'EACCES': case 'EPERM': return 'permission denied (the agent\'s user cannot write there)';
    case 'EROFS': case 'SQLITE_READONLY': return 'the file system is read-only';
    case 'ENOTDIR': case 'EEXIST': return 'a part of the path is a file, not a directory';
    case 'ENOSPC': case 'SQLITE_FULL': return 'no space left on the device';
    case 'SQLITE_CANTOPEN': return 'cannot open the database file (missing, read-only, or not a directory)';
  }
  return e.message ?? String(err);
}

/** Pages of WAL between checkpoints: ~80 MB unbounded (1.75x intake), else a twentieth of the disk bound. */
function walPages(maxDiskBytes: number, pageSize: number): number {
  if (maxDiskBytes <= 0) return 20000;
  return Math.max(100, Math.min(20000, Math.floor(maxDiskBytes / 20 / pageSize)));
}

/** A stats row with its sketches as protobuf bytes (as a writer thread receives them). */
export type EncodedStatsRow = WithEncodedSketches<StatsRow>;

export class SqliteStore implements TraceStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<SqliteStore['prepareStatements']>;
  private readonly applyTx: (w: PreparedWrite) => void;
  /** Decoded payload dictionaries, for trace reads that hit the same payload again. */
  private readonly dictionaries: PayloadCache<string[]>;
  /** Payloads' chunk names (chunk-names.ts), for summaries of recent traces read again and again. */
  private readonly names: PayloadCache<NameTuple[]>;
  private readonly readonly: boolean;
  private readonly rollup: ServiceRollup;
  private readonly traceRollup: TraceRollupTable;
  private readonly runs: TraceRuns;
  private readonly tags: TagIndex;
  /** Copies the WAL into the database on its own thread (checkpointer.ts), for a writable file. */
  private readonly checkpointer: Checkpointer | undefined;
  /** The widest block's span of starts, ns (readWidest); the writer's own copy. */
  private widestBlock = 0n;
  /** Spans and payloads stored, once counted (stats()). */
  private counts: { spans: number; payloads: number } | undefined;

  constructor(options: SqliteStoreOptions) {
    this.readonly = options.readonly === true;
    this.dictionaries = new PayloadCache(this.readonly ? 0 : 64);
    this.names = new PayloadCache(this.readonly ? 0 : 256);
    if (options.dataDir === ':memory:') this.path = ':memory:';
    else {
      this.path = join(options.dataDir, 'traces.db');
      try {
        mkdirSync(options.dataDir, { recursive: true });
      } catch (err) {
        throw new StoreOpenError(`cannot use ${options.dataDir} as the data directory: ${openCause(err)}`);
      }
    }
    try {
      this.db = new Database(this.path, this.readonly ? { readonly: true, fileMustExist: true } : {});
      if (!this.readonly) this.db.pragma('journal_mode = WAL');
    } catch (err) {
      let cause = openCause(err);
      if (this.path !== ':memory:' && !this.readonly) {
        try { accessSync(options.dataDir, constants.W_OK); } catch (e) { cause = openCause(e); }
      }
      throw new StoreOpenError(`cannot open the store ${this.path}: ${cause}`);
    }
    // NORMAL in WAL mode: a committed payload survives a crash of the agent (not of the machine).
    this.db.pragma('synchronous = NORMAL');
    // Checkpoint every ~80 MB of WAL instead of 4 MB: hot index pages are then written to the
    // database once per checkpoint rather than after nearly every payload (1.75x intake). With a
    // disk bound, at a twentieth of it, and the log is truncated to that size after a checkpoint.
    const pages = walPages(options.maxDiskBytes ?? 0, 4096);
    this.db.pragma(`wal_autocheckpoint = ${pages}`);
    this.db.pragma(`journal_size_limit = ${pages * 4096}`);
    // The writer's page cache is 2 MB: intake touches few pages (appends; merges read a page of
    // each run at a time).
    // Against 8 MB: the same spans/s end to end, a commit 1.04x the time on a 120 MB store, and
    // 13 MB less peak RSS; 64 MB gave no intake gain and ~40 MB more (bench/README.md). The query
    // API's read-only connection, whose searches seek, keeps 8 MB.
    this.db.pragma(`cache_size = ${this.readonly ? -8192 : -2048}`);
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version !== 0 && version !== SCHEMA_VERSION && !(UPGRADABLE.includes(version) && !this.readonly)) {
      this.db.close();
      throw new Error(`${this.path} has store schema ${version}; this ecs-trace reads schema ${SCHEMA_VERSION}. Move it away or point --data-dir elsewhere.`);
    }
    if (!this.readonly) {
      this.db.exec(SCHEMA + TRACE_RUNS_SCHEMA + ROLLUP_SCHEMA + TRACE_ROLLUP_SCHEMA + TAG_INDEX_SCHEMA);
      if (version === 0) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      if (version >= 2 && version <= 5) this.migrateFrom5(version);
    }
    this.rollup = new ServiceRollup(this.db);
    if (!this.readonly) this.rollup.backfill();
    this.traceRollup = new TraceRollupTable(this.db);
    this.statements = this.prepareStatements();
    if (!this.readonly) {
      // Counted once over the blocks a store already has (an older schema 4 file), then kept.
      this.db.exec('INSERT OR IGNORE INTO search_widest (id, widest) SELECT 0, coalesce(max(max_start - min_start), 0) FROM search_blocks WHERE NOT EXISTS (SELECT 1 FROM search_widest)');
      this.widestBlock = this.readWidest() ?? 0n;
    }
    this.runs = new TraceRuns(this.db, options);
    this.tags = new TagIndex(this.db, !this.readonly);
    if (version === 2 && !this.readonly) this.migrateFrom2();
    if (version === 3 && !this.readonly) this.migrateFrom3();
    if (version >= 2 && version <= 4 && !this.readonly) this.migrateFrom4();
    this.applyTx = this.db.transaction((w: PreparedWrite) => this.applyRows(w));
    if (!this.readonly && this.path !== ':memory:' && options.checkpointThread !== false) {
      // Should the thread stop on its own, the writer checkpoints again as SQLite does by default.
      this.checkpointer = Checkpointer.start(this.path, pages, () => { if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${pages}`); });
      // Kept as a backstop, at twice the length: the thread copies the log long before.
      if (this.checkpointer) this.db.pragma(`wal_autocheckpoint = ${2 * pages}`);
    }
  }

  /** Checkpoint passes the store's checkpointing thread has made (0 without one). */
  get checkpointPasses(): number {
    return this.checkpointer?.passes ?? 0;
  }

  private prepareStatements() {
    const db = this.db;
    return {
      insertPayload: db.prepare(`INSERT INTO payloads (received, max_end, first_index, last_index, span_count, lang, tracer_version, container_id, hostname, spans)
                                 VALUES (?, ?, 0, 0, ?, ?, ?, ?, ?, ?)`),
      setPayloadIndex: db.prepare('UPDATE payloads SET first_index = ?, last_index = ? WHERE id = ?'),
      insertNames: db.prepare('INSERT OR REPLACE INTO chunk_names (payload, names) VALUES (?, ?)'),
      namesOf: db.prepare('SELECT names FROM chunk_names WHERE payload = ?').pluck(),
      insertBlock: db.prepare('INSERT INTO search_blocks (service, min_start, max_start, errors, max_duration, strings, entries) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      blobOf: db.prepare('SELECT spans FROM payloads WHERE id = ?').pluck(),
    };
  }

  /** Writes rows already prepared (possibly on another thread) in one transaction. */
  applyWrite(w: PreparedWrite): void {
    // Counts of chunks sampled out, without a chunk stored: no payload.
    if (w.chunks.length === 0) {
      this.db.transaction(() => this.traceRollup.add(w.rollups, w.halves))();
      return;
    }
    this.applyTx(w);
    if (this.counts) {
      this.counts.spans += w.spans;
      this.counts.payloads++;
    }
  }

  private applyRows(w: PreparedWrite): void {
    const s = this.statements;
    const payload = BigInt(s.insertPayload.run(w.received, w.maxEnd, w.spans, w.lang, w.tracerVersion, w.containerId, w.hostname, w.blob).lastInsertRowid);
    this.insertChunks(payload, w.chunks);
    const [first, last] = this.insertBlocks(packSearchBlocks(w.index));
    s.setPayloadIndex.run(first, last, payload);
    this.tags.add(payload, w.tags);
    this.traceRollup.add(w.rollups, w.halves);
  }

  private insertChunks(payload: bigint, chunks: readonly ChunkRow[]): void {
    const { names, refs } = packChunkNames(chunks);
    this.statements.insertNames.run(payload, names);
    this.runs.add(payload, chunks, refs);
  }

  /**
   * The widest block's span of starts, so that a search of a window reads only the blocks that
   * can reach into it (`max_start < end + widest`): without it, a window far back read past
   * every newer block through the index on max_start. undefined before a writer has made it.
   */
  private readWidest(): bigint | undefined {
    try {
      return (this.db.prepare('SELECT widest FROM search_widest WHERE id = 0').safeIntegers(true).pluck().get() as bigint | undefined);
    } catch {
      return undefined;
    }
  }

  /** The blocks' first and last row ids, 0 and 0 for none. */
  private insertBlocks(blocks: SearchBlock[]): [bigint, bigint] {
    let first = 0n;
    let last = 0n;
    for (const b of blocks) {
      if (b.maxStart - b.minStart > this.widestBlock) {
        this.widestBlock = b.maxStart - b.minStart;
        this.db.prepare('UPDATE search_widest SET widest = ? WHERE id = 0').run(this.widestBlock);
      }
      last = BigInt(this.statements.insertBlock.run(b.service, b.minStart, b.maxStart, b.errors, b.maxDuration, b.strings, b.entries).lastInsertRowid);
      if (first === 0n) first = last;
    }
    return [first, last];
  }

  /**
   * Schema 2 kept one span_index row per indexed span and each chunk's names in its row: each
   * payload's rows become its blocks and its chunk_names, in one transaction, and the old tables
   * go. On a day of 10M spans this takes about a minute, once.
   */
  private migrateFrom2(): void {
    type OldChunk = Omit<ChunkRecord, 'trace_id' | 'offset' | 'span_count' | 'error_count'> & { trace_id: bigint; offset: bigint; span_count: bigint; error_count: bigint };
    const payloads = this.db.prepare('SELECT id, first_index, last_index FROM payloads ORDER BY id').safeIntegers(true).all() as { id: bigint; first_index: bigint; last_index: bigint }[];
    const rowsOf = this.db.prepare('SELECT service, env, name, resource, type, start, duration, error, trace_id AS traceId FROM span_index WHERE id BETWEEN ? AND ? ORDER BY id').safeIntegers(true);
    const setIndex = this.db.prepare('UPDATE payloads SET first_index = ?, last_index = ? WHERE id = ?');
    this.db.transaction(() => {
      // Old chunks are keyed by trace id: an index by payload for the copy, dropped with them.
      this.db.exec('CREATE INDEX IF NOT EXISTS chunks_by_payload_v2 ON chunks (payload)');
      const chunksOf = this.db.prepare('SELECT * FROM chunks WHERE payload = ?').safeIntegers(true);
      for (const p of payloads) {
        const old = chunksOf.all(p.id) as OldChunk[];
        this.insertChunks(p.id, old.map((c) => ({
          traceId: c.trace_id, traceIdHigh: c.trace_id_high, offset: Number(c.offset), start: c.start, end: c.end, rootSpanId: c.root_span_id,
          rootService: c.root_service, rootName: c.root_name, rootResource: c.root_resource, env: c.env,
          spanCount: Number(c.span_count), errorCount: Number(c.error_count), services: c.services,
        })));
        if (p.last_index === 0n) continue;
        const rows = (rowsOf.all(p.first_index, p.last_index) as (Omit<IndexRow, 'duration' | 'error'> & { duration: bigint; error: bigint })[])
          .map((r) => ({ ...r, duration: Number(r.duration), error: Number(r.error) }));
        const [first, last] = this.insertBlocks(packSearchBlocks(rows));
        setIndex.run(first, last, p.id);
      }
      this.db.exec('DROP TABLE span_index; DROP TABLE chunks');
      this.db.pragma('user_version = 4');
    })();
  }

  /** Schema 3 kept a row per trace chunk: they become packed pages (trace-runs.ts). */
  private migrateFrom3(): void {
    this.db.transaction(() => {
      this.runs.migrateRows();
      this.db.pragma('user_version = 4');
    })();
  }

  /**
   * Schema 5's rollup slots kept no first request: the column is added (before the statements
   * that write it are prepared), and its rows read as from their slot's start.
   */
  private migrateFrom5(version: number): void {
    const columns = this.db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('service_rollup') as string[];
    this.db.transaction(() => {
      if (!columns.includes('first_seen')) this.db.exec('ALTER TABLE service_rollup ADD COLUMN first_seen INTEGER');
      // Older schemas go on to their own steps, the last of which sets the version.
      if (version === 5) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  /** Schema 4 had no tag index: each payload's filters are made from its spans, once. */
  private migrateFrom4(): void {
    const payloads = this.db.prepare('SELECT id FROM payloads ORDER BY id').pluck().safeIntegers(true).all() as bigint[];
    this.db.transaction(() => {
      for (const id of payloads) {
        const blob = this.statements.blobOf.get(id) as Buffer;
        this.tags.add(id, buildTagFilters(decodeSegment(blob).chunks));
      }
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  async write(batch: WriteBatch): Promise<void> {
    const prepared = prepareWrite(batch);
    // A turn of the event loop between preparing and committing: each holds the intake thread
    // for milliseconds on a large payload, and /healthz and other sockets wait for neither.
    await nextTurn();
    this.applyWrite(prepared);
  }

  private chunksOf(traceId: bigint): ChunkRecord[] {
    return this.runs.lookup(traceId).map((c) => chunkRecord(c, this.namesOf(c.payload)));
  }

  private namesOf(payload: bigint): NameTuple[] {
    return this.names.get(payload, () => JSON.parse((this.statements.namesOf.get(payload) as string | undefined) ?? '[]') as NameTuple[]);
  }

  private dictionary(payload: bigint, blob: Buffer): string[] {
    return this.dictionaries.get(payload, () => readDictionary(blob));
  }

  async getTrace(traceId: TraceId): Promise<TraceRecord | undefined> {
    const rows = this.chunksOf(BigInt.asIntN(64, traceId.low));
    if (rows.length === 0) return undefined;
    const summary = summarizeChunks(rows);
    // A 128-bit id must match its upper half too, unless the trace only ever had 64 bits.
    const storedHigh = summary.traceId.high;
    if (traceId.high !== 0n && storedHigh !== 0n && storedHigh !== traceId.high) return undefined;
    const spans: SpanRecord[] = [];
    for (const r of rows) {
      const blob = this.statements.blobOf.get(r.payload) as Buffer | undefined;
      if (blob === undefined) continue;
      for (const span of decodeSegmentChunk(blob, this.dictionary(r.payload, blob), Number(r.offset))) {
        spans.push({ span, env: span.meta['env'] || r.env });
      }
    }
    spans.sort((a, b) => (a.span.start < b.span.start ? -1 : a.span.start > b.span.start ? 1 : 0));
    return { summary, spans };
  }

  async searchTraces(q: TraceQuery): Promise<TraceSummaryRecord[]> {
    if (q.tag !== undefined) return this.searchTagged(q, q.tag);
    const w = blockConditions(q, this.readonly ? this.readWidest() : this.widestBlock);
    const blocks = this.db.prepare(`SELECT max_start, strings, entries FROM search_blocks ${w.sql} ORDER BY max_start DESC`).safeIntegers(true);
    const found = searchBlocks(q, blocks.iterate(...w.params) as IterableIterator<StoredBlock>);
    if (q.startsOnly) return found.map(([id, start]) => lightRecord(id, start));
    const out: TraceSummaryRecord[] = [];
    for (const [trace_id] of found) {
      const rows = this.chunksOf(trace_id);
      if (rows.length > 0) out.push(summarizeChunks(rows));
    }
    return out.sort((a, b) => (b.start > a.start ? 1 : b.start < a.start ? -1 : 0));
  }

  /**
   * Traces with a span carrying the tag (or holding the free text) in the range: the payloads the
   * tag index names, read newest first.
   */
  private searchTagged(q: TraceQuery, tag: { key: string; value: string }): TraceSummaryRecord[] {
    const start = q.start ?? -(2n ** 63n);
    const end = q.end ?? 2n ** 63n - 1n;
    const ids = new Set<bigint>();
    const { probes, match } = tagSearch(tag);
    for (const payload of everyOf(probes.map((p) => this.tags.maybe(p, start, end)))) {
      const blob = this.statements.blobOf.get(payload) as Buffer | undefined;
      if (blob === undefined) continue;
      segmentTracesMatching(blob, match, start, end, ids);
      if (ids.size >= q.limit) break;
    }
    const out: TraceSummaryRecord[] = [];
    for (const id of ids) {
      const rows = this.chunksOf(id);
      if (rows.length > 0) out.push(summarizeChunks(rows));
    }
    return out.sort((a, b) => (b.start > a.start ? 1 : b.start < a.start ? -1 : 0)).slice(0, q.limit);
  }

  async diskUsage(): Promise<number> {
    return this.diskBytes();
  }

  /** Bytes the data takes: live pages of the database plus the write-ahead log. */
  private diskBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    let wal = 0;
    if (this.path !== ':memory:') {
      try { wal = statSync(this.path + '-wal').size; } catch { /* no WAL yet */ }
    }
    return (pages - free) * pageSize + wal;
  }

  /** Deletes payloads with id <= upTo, and their chunks and index rows. */
  private deletePayloadsUpTo(upTo: bigint): { spans: number; payloads: number } {
    const row = this.db.prepare('SELECT count(*) AS n, coalesce(sum(span_count), 0) AS spans, coalesce(max(last_index), 0) AS last FROM payloads WHERE id <= ?')
      .safeIntegers(true).get(upTo) as { n: bigint; spans: bigint; last: bigint };
    if (row.n === 0n) return { spans: 0, payloads: 0 };
    this.db.transaction(() => {
      this.runs.deletePayloadsUpTo(upTo);
      this.db.prepare('DELETE FROM chunk_names WHERE payload <= ?').run(upTo);
      this.db.prepare('DELETE FROM search_blocks WHERE id <= ?').run(row.last);
      this.tags.deleteUpTo(upTo);
      this.db.prepare('DELETE FROM payloads WHERE id <= ?').run(upTo);
    })();
    this.dictionaries.forgetUpTo(upTo);
    this.names.forgetUpTo(upTo);
    if (this.counts) {
      this.counts.spans -= Number(row.spans);
      this.counts.payloads -= Number(row.n);
    }
    return { spans: Number(row.spans), payloads: Number(row.n) };
  }

  async enforceRetention(olderThan: bigint, maxBytes: number): Promise<RetentionResult> {
    let deletedSpans = 0;
    let reason: RetentionResult['reason'] = 'none';
    // Payloads arrive roughly in time order: delete the prefix whose spans all ended before the cutoff.
    const firstYoung = this.db.prepare('SELECT min(id) FROM payloads WHERE max_end >= ?').pluck().safeIntegers(true).get(olderThan) as bigint | null;
    const lastId = this.db.prepare('SELECT max(id) FROM payloads').pluck().safeIntegers(true).get() as bigint | null;
    const upTo = firstYoung === null ? lastId : firstYoung - 1n;
    this.db.prepare('DELETE FROM stats WHERE start < ?').run(olderThan);
    this.rollup.deleteBefore(olderThan);
    this.db.transaction(() => {
      this.traceRollup.expire(BigInt(Date.now()) * 1_000_000n - HALF_TTL_NS);
      this.traceRollup.deleteBefore(olderThan);
    })();
    if (upTo !== null && upTo > 0n) {
      const r = this.deletePayloadsUpTo(upTo);
      if (r.payloads > 0) {
        deletedSpans += r.spans;
        reason = 'age';
      }
    }
    if (maxBytes > 0 && this.diskBytes() > maxBytes) {
      // Checkpoint so the WAL's size reflects what is really left, then drop the oldest tenth at a
      // time until under the limit (freed pages are reused by new writes).
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      while (this.diskBytes() > maxBytes) {
        const ids = this.db.prepare('SELECT min(id) AS lo, max(id) AS hi FROM payloads').safeIntegers(true).get() as { lo: bigint | null; hi: bigint | null };
        if (ids.lo === null || ids.hi === null) break;
        const r = this.deletePayloadsUpTo(ids.lo + (ids.hi - ids.lo) / 10n);
        deletedSpans += r.spans;
        reason = 'size';
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      }
    }
    return { deletedSpans, reason };
  }

  /**
   * Counted once, then kept up to date by this connection's writes and deletions, so /healthz and
   * /metrics cost nothing however large the store (a read-only connection, which others write
   * behind, counts every time).
   */
  async stats(): Promise<StoreStats> {
    let counts = this.counts;
    if (!counts) {
      counts = this.db.prepare('SELECT coalesce(sum(span_count), 0) AS spans, count(*) AS payloads FROM payloads').get() as { spans: number; payloads: number };
      if (!this.readonly) this.counts = counts;
    }
    return { diskBytes: this.diskBytes(), spans: counts.spans, payloads: counts.payloads };
  }

  async setErrorStatus(group: string, status: ErrorStatus, at: bigint): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO error_status (group_id, status, changed_at) VALUES (?, ?, ?)').run(group, status, at);
  }

  async errorStatuses(): Promise<ErrorStatusRecord[]> {
    try {
      const rows = this.db.prepare('SELECT group_id, status, changed_at FROM error_status').safeIntegers(true).all() as { group_id: string; status: ErrorStatus; changed_at: bigint }[];
      return rows.map((r) => ({ group: r.group_id, status: r.status, changedAt: r.changed_at }));
    } catch {
      // A read-only connection to a file its writer has not upgraded yet.
      return [];
    }
  }

  async setMonitorMute(monitor: string, until: bigint | null): Promise<void> {
    if (until === null) this.db.prepare('DELETE FROM monitor_mute WHERE monitor = ?').run(monitor);
    else this.db.prepare('INSERT OR REPLACE INTO monitor_mute (monitor, until) VALUES (?, ?)').run(monitor, until);
  }

  async saveMonitor(id: string, definition: string | null): Promise<void> {
    if (definition === null) this.db.prepare('DELETE FROM saved_monitors WHERE id = ?').run(id);
    else this.db.prepare('INSERT OR REPLACE INTO saved_monitors (id, definition) VALUES (?, ?)').run(id, definition);
  }

  async savedMonitors(): Promise<{ id: string; definition: string }[]> {
    try {
      return this.db.prepare('SELECT id, definition FROM saved_monitors ORDER BY id').all() as { id: string; definition: string }[];
    } catch {
      return [];
    }
  }

  async saveRemoteConfig(id: string, definition: string | null): Promise<void> {
    // A removal of what is not there changes nothing (and bumps no revision).
    if (definition === null && !this.db.prepare('SELECT 1 FROM remote_configs WHERE id = ? AND definition IS NOT NULL').get(id)) return;
    this.db.prepare(`INSERT INTO remote_configs (id, definition, version) VALUES (?, ?, (SELECT COALESCE(MAX(version), 0) + 1 FROM remote_configs))
      ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, version = excluded.version`).run(id, definition);
  }

  async remoteConfigs(): Promise<RemoteConfigRecords> {
    try {
      const rows = this.db.prepare('SELECT id, definition, version FROM remote_configs ORDER BY id').all() as { id: string; definition: string | null; version: number }[];
      return { revision: rows.reduce((m, r) => Math.max(m, r.version), 0), configs: rows.flatMap((r) => (r.definition === null ? [] : [{ id: r.id, definition: r.definition, version: r.version }])) };
    } catch {
      // A read-only connection to a file its writer has not opened since the table came.
      return { revision: 0, configs: [] };
    }
  }

  async saveMonitorEvent(monitor: string, at: bigint, event: string): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO monitor_events (monitor, at, event) VALUES (?, ?, ?)').run(monitor, at, event);
    this.db.prepare('DELETE FROM monitor_events WHERE at < ?').run(at - MONITOR_EVENTS_KEPT_NS);
  }

  async monitorEvents(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]> {
    try {
      return this.db.prepare('SELECT monitor, at, event FROM monitor_events ORDER BY at DESC LIMIT ?').safeIntegers(true).all(limit) as { monitor: string; at: bigint; event: string }[];
    } catch {
      return [];
    }
  }

  async monitorMutes(): Promise<{ monitor: string; until: bigint }[]> {
    try {
      return this.db.prepare('SELECT monitor, until FROM monitor_mute').safeIntegers(true).all() as { monitor: string; until: bigint }[];
    } catch {
      // A read-only connection to a file its writer has not opened since the table came.
      return [];
    }
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    this.insertStats(encodeSketches(rows));
  }

  /** Stats rows whose sketches are already serialized (as a writer thread receives them). */
  insertStats(rows: EncodedStatsRow[]): void {
    if (rows.length === 0) return;
    const insert = this.db.prepare(`INSERT INTO stats (start, duration, service, name, resource, type, env, version, http_status_code, span_kind,
      is_trace_root, synthetics, peer_tags, hits, top_level_hits, errors, total_duration, ok_sketch, error_sketch, source)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      for (const r of rows) {
        insert.run(r.start, r.durationNs, r.service, r.name, r.resource, r.type, r.env, r.version, r.httpStatusCode, r.spanKind,
          r.isTraceRoot ? 1 : 0, r.synthetics ? 1 : 0, r.peerTags.join(','), r.hits, r.topLevelHits, r.errors, r.totalDuration,
          r.okSketch, r.errorSketch, r.source);
      }
      this.rollup.add(rows);
    })();
  }

  async queryStats(q: StatsQuery): Promise<StatsRow[]> {
    const w = statsQueryWhere(q, sqlitePlaceholder);
    const { columns, groupBy } = statsSelect(q, (c) => `max(${c})`);
    const rows = this.db.prepare(`SELECT ${columns} FROM stats ${w.sql} ${groupBy} ORDER BY start`).safeIntegers(true).all(...w.params) as Record<string, unknown>[];
    return rows.map((r) => ({
      start: r['start'] as bigint, durationNs: r['duration'] as bigint, service: r['service'] as string, name: r['name'] as string,
      resource: r['resource'] as string, type: r['type'] as string, env: r['env'] as string, version: r['version'] as string,
      httpStatusCode: Number(r['http_status_code']), spanKind: r['span_kind'] as string, isTraceRoot: r['is_trace_root'] === 1n,
      synthetics: r['synthetics'] === 1n, peerTags: (r['peer_tags'] as string) === '' ? [] : (r['peer_tags'] as string).split(','),
      hits: Number(r['hits']), topLevelHits: Number(r['top_level_hits']), errors: Number(r['errors']), totalDuration: Number(r['total_duration']),
      okSketch: q.countsOnly ? newSketch() : decodeSketch(r['ok_sketch'] as Buffer), errorSketch: q.countsOnly ? newSketch() : decodeSketch(r['error_sketch'] as Buffer),
      source: r['source'] as 'agent' | 'client',
    }));
  }

  async readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]> {
    if (!this.readonly) this.flushRollups();
    return width === undefined ? this.traceRollup.read(kind, range) : this.traceRollup.readSlots(kind, range, width);
  }

  async serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> {
    return this.rollup.query(range);
  }

  /** Writes the rollup counts summed in memory (they are written at most once a second otherwise). */
  flushRollups(): void {
    this.db.transaction(() => this.traceRollup.flush())();
  }

  async close(): Promise<void> {
    // First, so that this connection is the last and its close leaves no WAL behind.
    await this.checkpointer?.stop();
    this.traceRollup.stop();
    if (this.db.open && !this.readonly) this.db.transaction(() => this.traceRollup.flush())();
    if (this.db.open) this.db.close();
  }
}
