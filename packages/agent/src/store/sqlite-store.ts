import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Span } from '@ecs-trace/protocol';
import { toHex64 } from '@ecs-trace/protocol';
import { findRoot } from '../normalize.js';
import type {
  RetentionResult, ServiceSummary, StoredSpan, StoredTrace, StoreStats, TraceQuery, TraceStore,
  TraceSummary, WriteBatch,
} from './store.js';

/*
 * The embedded store: one SQLite file in WAL mode. Every payload is one transaction, recorded as
 * a segment (its rowid range and time range) so that retention deletes whole segments by rowid,
 * which costs far less than a scan by time. Trace ids are stored as their lower 64 bits in a
 * signed INTEGER (SQLite's only 64-bit type); the upper half (`_dd.p.tid`) stays on the summary.
 */

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS spans (
  trace_id   INTEGER NOT NULL,
  span_id    INTEGER NOT NULL,
  parent_id  INTEGER NOT NULL,
  start      INTEGER NOT NULL,
  duration   INTEGER NOT NULL,
  error      INTEGER NOT NULL,
  service    TEXT NOT NULL,
  name       TEXT NOT NULL,
  resource   TEXT NOT NULL,
  type       TEXT NOT NULL,
  env        TEXT NOT NULL,
  top_level  INTEGER NOT NULL,
  meta       TEXT NOT NULL,
  metrics    TEXT NOT NULL,
  extra      TEXT
);
CREATE INDEX IF NOT EXISTS spans_by_trace ON spans (trace_id);
CREATE INDEX IF NOT EXISTS spans_by_service ON spans (service, start);

CREATE TABLE IF NOT EXISTS traces (
  trace_id      INTEGER PRIMARY KEY,
  trace_id_high TEXT NOT NULL,
  start         INTEGER NOT NULL,
  end           INTEGER NOT NULL,
  root_span_id  INTEGER,
  root_service  TEXT NOT NULL,
  root_name     TEXT NOT NULL,
  root_resource TEXT NOT NULL,
  env           TEXT NOT NULL,
  span_count    INTEGER NOT NULL,
  error_count   INTEGER NOT NULL,
  services      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start);

CREATE TABLE IF NOT EXISTS segments (
  id         INTEGER PRIMARY KEY,
  first_span INTEGER NOT NULL,
  last_span  INTEGER NOT NULL,
  max_end    INTEGER NOT NULL
);
`;

interface TraceRow {
  trace_id: bigint;
  trace_id_high: string;
  start: bigint;
  end: bigint;
  root_span_id: bigint | null;
  root_service: string;
  root_name: string;
  root_resource: string;
  env: string;
  span_count: number;
  error_count: number;
  services: string;
}

interface SpanRow {
  trace_id: bigint;
  span_id: bigint;
  parent_id: bigint;
  start: bigint;
  duration: number;
  error: number;
  service: string;
  name: string;
  resource: string;
  type: string;
  env: string;
  meta: string;
  metrics: string;
  extra: string | null;
}

export interface SqliteStoreOptions {
  /** Directory for `traces.db`; created if missing. `:memory:` keeps everything in memory. */
  dataDir: string;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

function extraOf(span: Span): string | null {
  if (!span.metaStruct && !span.spanLinks && !span.spanEvents) return null;
  return JSON.stringify({ metaStruct: span.metaStruct, spanLinks: span.spanLinks, spanEvents: span.spanEvents }, jsonReplacer);
}

const signed = (v: bigint): bigint => BigInt.asIntN(64, v);
const hex = (v: bigint): string => toHex64(BigInt.asUintN(64, v));

export class SqliteStore implements TraceStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly insertSpan: Database.Statement;
  private readonly selectTrace: Database.Statement;
  private readonly upsertTrace: Database.Statement;
  private readonly insertSegment: Database.Statement;
  private readonly writeTx: (batch: WriteBatch) => void;

  constructor(options: SqliteStoreOptions) {
    if (options.dataDir === ':memory:') this.path = ':memory:';
    else {
      mkdirSync(options.dataDir, { recursive: true });
      this.path = join(options.dataDir, 'traces.db');
    }
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed payload survives a crash of the agent (not of the machine).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('journal_size_limit = 67108864');
    this.db.pragma('cache_size = -32000');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(`${this.path} was written by a newer ecs-trace (schema ${version}); this version reads schema ${SCHEMA_VERSION}`);
    }
    this.db.exec(SCHEMA);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);

    this.insertSpan = this.db.prepare(
      `INSERT INTO spans (trace_id, span_id, parent_id, start, duration, error, service, name, resource, type, env, top_level, meta, metrics, extra)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectTrace = this.db.prepare('SELECT * FROM traces WHERE trace_id = ?').safeIntegers(true);
    this.upsertTrace = this.db.prepare(
      `INSERT OR REPLACE INTO traces (trace_id, trace_id_high, start, end, root_span_id, root_service, root_name, root_resource, env, span_count, error_count, services)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertSegment = this.db.prepare('INSERT INTO segments (first_span, last_span, max_end) VALUES (?, ?, ?)');
    this.writeTx = this.db.transaction((batch: WriteBatch) => this.writeBatch(batch));
  }

  private writeBatch(batch: WriteBatch): void {
    let first = -1n;
    let last = -1n;
    let maxEnd = 0n;
    for (const chunk of batch.chunks) {
      if (chunk.length === 0) continue;
      const traceId = signed(chunk[0]!.traceId);
      let tid = '';
      let chunkStart = chunk[0]!.start;
      let chunkEnd = 0n;
      let errors = 0;
      const services = new Set<string>();
      // A span without env belongs to its chunk's env: the root's, else any span's, else the payload's.
      const env = findRoot(chunk).meta['env'] || chunk.find((s) => s.meta['env'])?.meta['env'] || batch.env;
      for (const s of chunk) {
        const spanEnv = s.meta['env'] || env;
        if (tid === '') tid = s.meta['_dd.p.tid'] ?? '';
        const end = s.start + BigInt(s.duration);
        if (s.start < chunkStart) chunkStart = s.start;
        if (end > chunkEnd) chunkEnd = end;
        if (s.error !== 0) errors++;
        services.add(s.service);
        const info = this.insertSpan.run(
          traceId, signed(s.spanId), signed(s.parentId), s.start, s.duration, s.error !== 0 ? 1 : 0,
          s.service, s.name, s.resource, s.type, spanEnv, s.metrics['_top_level'] === 1 ? 1 : 0,
          JSON.stringify(s.meta), JSON.stringify(s.metrics), extraOf(s),
        );
        const rowid = BigInt(info.lastInsertRowid);
        if (first < 0n) first = rowid;
        last = rowid;
      }
      if (chunkEnd > maxEnd) maxEnd = chunkEnd;
      this.mergeTrace(traceId, tid, chunk, chunkStart, chunkEnd, errors, services, env);
    }
    if (first >= 0n) this.insertSegment.run(first, last, maxEnd);
  }

  private mergeTrace(
    traceId: bigint, tid: string, chunk: Span[], start: bigint, end: bigint, errors: number,
    services: Set<string>, env: string,
  ): void {
    const root = findRoot(chunk);
    const isRoot = root.parentId === 0n;
    const prev = this.selectTrace.get(traceId) as TraceRow | undefined;
    if (prev === undefined) {
      this.upsertTrace.run(
        traceId, tid, start, end, isRoot ? signed(root.spanId) : null, root.service, root.name, root.resource,
        env, chunk.length, errors, [...services].join(','),
      );
      return;
    }
    const merged = new Set(prev.services === '' ? [] : prev.services.split(','));
    for (const s of services) merged.add(s);
    // A chunk holding the real root (parent 0) names the trace; otherwise the earliest chunk does.
    const takeRoot = isRoot || (prev.root_span_id === null && start < prev.start);
    this.upsertTrace.run(
      traceId, prev.trace_id_high || tid,
      start < prev.start ? start : prev.start, end > prev.end ? end : prev.end,
      isRoot ? signed(root.spanId) : prev.root_span_id,
      takeRoot ? root.service : prev.root_service, takeRoot ? root.name : prev.root_name,
      takeRoot ? root.resource : prev.root_resource,
      prev.env || env, Number(prev.span_count) + chunk.length, Number(prev.error_count) + errors, [...merged].join(','),
    );
  }

  async write(batch: WriteBatch): Promise<void> {
    this.writeTx(batch);
  }

  private summary(row: TraceRow): TraceSummary {
    return {
      traceId: (row.trace_id_high || '0000000000000000') + hex(row.trace_id),
      rootService: row.root_service,
      rootName: row.root_name,
      rootResource: row.root_resource,
      start: row.start.toString(),
      duration: Number(row.end - row.start),
      spanCount: Number(row.span_count),
      errorCount: Number(row.error_count),
      services: row.services === '' ? [] : row.services.split(','),
      env: row.env,
      incomplete: row.root_span_id === null,
    };
  }

  async getTrace(traceId: string): Promise<StoredTrace | undefined> {
    const low = signed(BigInt('0x' + traceId.slice(-16)));
    const row = this.selectTrace.get(low) as TraceRow | undefined;
    if (row === undefined) return undefined;
    const high = traceId.length > 16 ? traceId.slice(0, -16).padStart(16, '0') : '';
    // A 128-bit id must match its upper half too, unless the trace only ever had 64 bits.
    if (high !== '' && high !== '0000000000000000' && row.trace_id_high !== '' && row.trace_id_high !== high) return undefined;
    const summary = this.summary(row);
    const rows = this.db.prepare('SELECT * FROM spans WHERE trace_id = ? ORDER BY start, rowid').safeIntegers(true).all(low) as SpanRow[];
    return { summary, spans: rows.map((r) => this.toStoredSpan(r, summary.traceId)) };
  }

  private toStoredSpan(r: SpanRow, traceId: string): StoredSpan {
    const span: StoredSpan = {
      traceId,
      spanId: hex(r.span_id),
      parentId: hex(r.parent_id),
      service: r.service,
      name: r.name,
      resource: r.resource,
      type: r.type,
      env: r.env,
      start: r.start.toString(),
      duration: Number(r.duration),
      error: Number(r.error),
      meta: JSON.parse(r.meta) as Record<string, string>,
      metrics: JSON.parse(r.metrics) as Record<string, number>,
    };
    if (r.extra !== null) {
      const extra = JSON.parse(r.extra) as Pick<StoredSpan, 'metaStruct' | 'spanLinks' | 'spanEvents'>;
      if (extra.metaStruct) span.metaStruct = extra.metaStruct;
      if (extra.spanLinks) span.spanLinks = extra.spanLinks;
      if (extra.spanEvents) span.spanEvents = extra.spanEvents;
    }
    return span;
  }

  async searchTraces(q: TraceQuery): Promise<TraceSummary[]> {
    const params: unknown[] = [];
    const spanLevel = q.service !== undefined || q.resource !== undefined || q.error !== undefined || q.minDurationNs !== undefined;
    let sql: string;
    if (!spanLevel) {
      const where: string[] = [];
      if (q.env !== undefined) { where.push('env = ?'); params.push(q.env); }
      if (q.start !== undefined) { where.push('start >= ?'); params.push(q.start); }
      if (q.end !== undefined) { where.push('start < ?'); params.push(q.end); }
      sql = `SELECT * FROM traces ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY start DESC LIMIT ?`;
    } else {
      // Traces with at least one span matching every span-level condition, newest first.
      const where: string[] = [];
      if (q.service !== undefined) { where.push('s.service = ?'); params.push(q.service); }
      if (q.env !== undefined) { where.push('s.env = ?'); params.push(q.env); }
      if (q.resource !== undefined) { where.push('s.resource = ?'); params.push(q.resource); }
      if (q.error !== undefined) { where.push('s.error = ?'); params.push(q.error ? 1 : 0); }
      if (q.minDurationNs !== undefined) { where.push('s.duration >= ?'); params.push(q.minDurationNs); }
      if (q.start !== undefined) { where.push('s.start >= ?'); params.push(q.start); }
      if (q.end !== undefined) { where.push('s.start < ?'); params.push(q.end); }
      sql = `SELECT t.* FROM traces t WHERE t.trace_id IN (
               SELECT s.trace_id FROM spans s WHERE ${where.join(' AND ')}
               GROUP BY s.trace_id ORDER BY max(s.start) DESC LIMIT ?)
             ORDER BY t.start DESC`;
    }
    params.push(q.limit);
    const rows = this.db.prepare(sql).safeIntegers(true).all(...params) as TraceRow[];
    return rows.map((r) => this.summary(r));
  }

  async services(range: { start?: bigint; end?: bigint }): Promise<ServiceSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (range.start !== undefined) { where.push('start >= ?'); params.push(range.start); }
    if (range.end !== undefined) { where.push('start < ?'); params.push(range.end); }
    const rows = this.db.prepare(
      `SELECT service, env, max(type) AS type, count(*) AS spans, sum(error) AS errors, max(start) AS last_seen
       FROM spans ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       GROUP BY service, env ORDER BY service, env`,
    ).safeIntegers(true).all(...params) as { service: string; env: string; type: string; spans: bigint; errors: bigint; last_seen: bigint }[];
    return rows.map((r) => ({
      service: r.service, env: r.env, type: r.type, spans: Number(r.spans), errors: Number(r.errors), lastSeen: r.last_seen.toString(),
    }));
  }

  /** Bytes the data takes: live pages of the database plus the write-ahead log. */
  private diskBytes(): number {
    if (this.path === ':memory:') {
      const pages = this.db.pragma('page_count', { simple: true }) as number;
      const free = this.db.pragma('freelist_count', { simple: true }) as number;
      return (pages - free) * (this.db.pragma('page_size', { simple: true }) as number);
    }
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    let wal = 0;
    try { wal = statSync(this.path + '-wal').size; } catch { /* no WAL yet */ }
    return (pages - free) * pageSize + wal;
  }

  private deleteSegments(rows: { id: bigint; first_span: bigint; last_span: bigint }[]): { spans: number; traces: number } {
    let spans = 0;
    let traces = 0;
    const delSpans = this.db.prepare('DELETE FROM spans WHERE rowid BETWEEN ? AND ?');
    const delSegment = this.db.prepare('DELETE FROM segments WHERE id = ?');
    // A trace goes when none of its spans is left.
    const delTraces = this.db.prepare('DELETE FROM traces WHERE NOT EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = traces.trace_id)');
    this.db.transaction(() => {
      for (const r of rows) {
        spans += delSpans.run(r.first_span, r.last_span).changes;
        delSegment.run(r.id);
      }
      traces += delTraces.run().changes;
    })();
    return { spans, traces };
  }

  async enforceRetention(olderThan: bigint, maxBytes: number): Promise<RetentionResult> {
    const old = this.db.prepare('SELECT id, first_span, last_span FROM segments WHERE max_end < ? ORDER BY id').safeIntegers(true)
      .all(olderThan) as { id: bigint; first_span: bigint; last_span: bigint }[];
    let deletedSpans = 0;
    let deletedTraces = 0;
    let reason: RetentionResult['reason'] = 'none';
    if (old.length > 0) {
      const r = this.deleteSegments(old);
      deletedSpans += r.spans;
      deletedTraces += r.traces;
      reason = 'age';
    }
    if (maxBytes > 0 && this.diskBytes() > maxBytes) {
      // Checkpoint so the WAL's size reflects what is really left, then drop the oldest tenth
      // at a time until under the limit (freed pages are reused by new writes).
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      while (this.diskBytes() > maxBytes) {
        const total = Number(this.db.prepare('SELECT count(*) FROM segments').pluck().get());
        if (total === 0) break;
        const batch = this.db.prepare('SELECT id, first_span, last_span FROM segments ORDER BY id LIMIT ?').safeIntegers(true)
          .all(Math.max(1, Math.ceil(total / 10))) as { id: bigint; first_span: bigint; last_span: bigint }[];
        const r = this.deleteSegments(batch);
        deletedSpans += r.spans;
        deletedTraces += r.traces;
        reason = 'size';
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      }
    }
    return { deletedSpans, deletedTraces, reason };
  }

  async stats(): Promise<StoreStats> {
    return {
      diskBytes: this.diskBytes(),
      spans: Number(this.db.prepare('SELECT count(*) FROM spans').pluck().get()),
      traces: Number(this.db.prepare('SELECT count(*) FROM traces').pluck().get()),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
