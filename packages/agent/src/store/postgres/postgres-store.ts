import { randomUUID } from 'node:crypto';
import { decodeSketch, encodeSketch } from '../sketch-codec.js';
import pg from 'pg';
import { summarizeChunks, summarizeTraces, type ChunkRecord } from '../chunk-summary.js';
import type { ErrorStatus, ErrorStatusRecord, RemoteConfigRecords, RetentionResult, StatsQuery, StoreStats, TraceQuery, TraceStore, WriteBatch } from '../contract.js';
import { prepareWrite, type PreparedWrite } from '../prepare-write.js';
import {
  addServiceStats, encodeSketches, newSketch, mergeServiceStats, serviceStatsFromColumns, slotFirstSeen,
  type ServiceStatsRow, type SpanRecord, type StatsRow, type TraceId, type TraceRecord, type TraceSummaryRecord, type WithEncodedSketches,
} from '../records.js';
import { coverRange, foldIntoSlots, slotKey, type SlotRow } from '../service-rollup.js';
import { postgresPlaceholder, statsQueryWhere, statsSelect, traceQueryWhere } from '../conditions.js';
import { decodeSegment, decodeSegmentChunk, readDictionary, segmentTracesMatching } from '../segment-codec.js';
import { buildTagFilters, everyOf, tagSearch, type TagProbe } from '../tag-filter.js';
import { newestTraceIds } from '../newest-traces.js';
import { maintainRollups, PendingRollups, readRollups, readRollupSlots } from './trace-rollup-table.js';
import { HALF_TTL_NS, type RollupKind } from '../trace-rollup.js';
import type { RollupRead } from '../contract.js';
import { dayOf, DAY_NS, migrate, PARTITIONED_TABLES, RETENTION_LOCK_KEY, schemaStatus } from './migrations.js';

/*
 * The store in PostgreSQL, for a whole cluster: the same layout as the embedded store (a payload's
 * spans in one dictionary-compressed blob, a row per chunk keyed by trace id, an index of entry
 * and error spans, stats rows with their sketches), written in one transaction per payload, so a
 * payload is acknowledged once PostgreSQL has committed it. Ids are stored as signed bigint.
 *
 * Tables are partitioned by day (migrations.ts): retention drops whole days. A trace is found by
 * id through each day's index on chunks(trace_id): one b-tree probe a day kept.
 */

const { Pool } = pg;

/** bigint columns as bigint, not strings; everything else as pg reads it. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => BigInt(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

type EncodedStatsRow = WithEncodedSketches<StatsRow>;

function statsFromColumns(r: Record<string, unknown>): StatsRow {
  return {
    start: r['start'] as bigint, durationNs: r['duration'] as bigint, service: r['service'] as string, name: r['name'] as string,
    resource: r['resource'] as string, type: r['type'] as string, env: r['env'] as string, version: r['version'] as string,
    httpStatusCode: r['http_status_code'] as number, spanKind: r['span_kind'] as string, isTraceRoot: r['is_trace_root'] as boolean,
    synthetics: r['synthetics'] as boolean, peerTags: (r['peer_tags'] as string) === '' ? [] : (r['peer_tags'] as string).split(','),
    hits: r['hits'] as number, topLevelHits: r['top_level_hits'] as number, errors: r['errors'] as number, totalDuration: r['total_duration'] as number,
    okSketch: r['ok_sketch'] === undefined ? newSketch() : decodeSketch(r['ok_sketch'] as Buffer),
    errorSketch: r['error_sketch'] === undefined ? newSketch() : decodeSketch(r['error_sketch'] as Buffer),
    source: r['source'] as 'agent' | 'client',
  };
}

/** The tag index's rows of payloads, as the columns of tag_filters (payload, received, shard, min_start, max_start, bits). */
function tagColumns(ps: { id: bigint; received: bigint; tags: PreparedWrite['tags'] }[]): unknown[][] {
  const f = ps.flatMap((p) => p.tags.rows.map((r) => ({ p, r })));
  return [f.map((e) => e.p.id), f.map((e) => e.p.received), f.map((e) => e.r.shard), f.map((e) => e.p.tags.minStart), f.map((e) => e.p.tags.maxStart), f.map((e) => e.r.bits)];
}

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL; `?sslmode=` as libpq reads it. */
  url: string;
  /** Connections at most. */
  poolSize?: number;
  /** When neither the URL nor PGPASSWORD holds it (ECS_TRACE_STORE_PASSWORD_FILE). */
  password?: string;
}

export class PostgresStore implements TraceStore {
  /** This process's name on its rows of the services rollup. */
  private readonly writer = randomUUID();

  /** Rollup counts summed in memory, written once a second. */
  private readonly rollups: PendingRollups;

  private constructor(private readonly pool: pg.Pool) {
    this.rollups = new PendingRollups(pool, this.writer, () => undefined);
  }

  /** Connects and applies the schema's migrations (one agent at a time, under an advisory lock). */
  static async open(o: PostgresStoreOptions): Promise<PostgresStore> {
    // A server that does not answer (a host gone, a security group) fails a connection in 5 s, not never.
    const pool = new Pool({ connectionString: o.url, max: o.poolSize ?? 4, connectionTimeoutMillis: 5000, types: TYPES, ...(o.password ? { password: o.password } : {}) });
    // An idle connection the server ends (a restart, a failover) is an 'error' on the pool, which
    // would end the process unhandled; the pool drops that connection and the next query opens
    // another, and what failed meanwhile is retried from the spool.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool);
    try {
      await migrate(pool);
      await store.backfill();
      await store.backfillTags();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  /** `ecs-trace store status`: the schema version of the database, without changing it. */
  static async status(o: PostgresStoreOptions): Promise<{ current: number; latest: number }> {
    const pool = new Pool({ connectionString: o.url, max: 1, types: TYPES, ...(o.password ? { password: o.password } : {}) });
    pool.on('error', () => undefined);
    try {
      return await schemaStatus(pool);
    } finally {
      await pool.end();
    }
  }

  /** `work` in one transaction on a connection of its own: committed, or rolled back and thrown. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const { client, done } = await this.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      done();
    }
  }

  /** A connection held for a transaction; a server that ends it fails the transaction, not the process. */
  private async connect(): Promise<{ client: pg.PoolClient; done: () => void }> {
    const client = await this.pool.connect();
    const ignore = () => undefined;
    client.on('error', ignore);
    return { client, done: () => { client.off('error', ignore); client.release(); } };
  }

  /** One payload: see writeMany. */
  async write(batch: WriteBatch): Promise<void> {
    await this.writeMany([batch]);
  }

  /**
   * Payloads in one statement: their rows of payloads, chunks and index go in as arrays
   * (unnest), in data-modifying CTEs that commit together. The spool's shipper hands over what
   * has piled up, so a cluster's write rate is not bounded by a round trip per payload.
   */
  async writeMany(batches: WriteBatch[]): Promise<void> {
    const all = batches.map(prepareWrite);
    // Counts of chunks sampled out come without chunks: no payload for them.
    const ws = all.filter((w) => w.chunks.length > 0);
    if (ws.length > 0) {
      await this.widenTags(ws);
      await this.inDays(ws.map((w) => dayOf(w.received)), () => this.insertPrepared(ws));
    }
    // Counted once the spans are stored (a failed write is retried whole, and counted then).
    for (const w of all) this.rollups.add(w.rollups, w.halves);
  }

  private async insertPrepared(ws: PreparedWrite[]): Promise<void> {
    {
      const client = this.pool;
      const { rows: idRows } = await client.query<{ id: bigint }>('SELECT nextval(\'payload_ids\') AS id FROM generate_series(1, $1)', [ws.length]);
      const ids = idRows.map((r) => r.id);
      const c = ws.flatMap((w, i) => w.chunks.map((r) => ({ r, id: ids[i]!, received: w.received })));
      const x = ws.flatMap((w, i) => w.index.map((r) => ({ r, id: ids[i]!, received: w.received })));
      await client.query(
        `WITH p AS (
           INSERT INTO payloads (id, received, max_end, span_count, lang, tracer_version, container_id, hostname, spans)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[])),
         c AS (
           INSERT INTO chunks (trace_id, payload, received, "offset", trace_id_high, start, "end", root_span_id, root_service, root_name, root_resource, env, span_count, error_count, services)
           SELECT * FROM unnest($10::bigint[], $11::bigint[], $12::bigint[], $13::int[], $14::text[], $15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::text[],
                                $20::text[], $21::text[], $22::int[], $23::int[], $24::text[])),
         t AS (
           INSERT INTO tag_filters (payload, received, shard, min_start, max_start, bits)
           SELECT * FROM unnest($36::bigint[], $37::bigint[], $38::smallint[], $39::bigint[], $40::bigint[], $41::bytea[]))
         INSERT INTO span_index (payload, received, service, env, name, resource, type, start, duration, error, trace_id)
         SELECT * FROM unnest($25::bigint[], $26::bigint[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[], $32::bigint[], $33::bigint[], $34::int[], $35::bigint[])`,
        [ids, ws.map((w) => w.received), ws.map((w) => w.maxEnd), ws.map((w) => w.spans), ws.map((w) => w.lang), ws.map((w) => w.tracerVersion),
          ws.map((w) => w.containerId), ws.map((w) => w.hostname), ws.map((w) => w.blob),
          c.map((e) => s64(e.r.traceId)), c.map((e) => e.id), c.map((e) => e.received), c.map((e) => e.r.offset), c.map((e) => e.r.traceIdHigh),
          c.map((e) => e.r.start), c.map((e) => e.r.end), c.map((e) => (e.r.rootSpanId === null ? null : s64(e.r.rootSpanId))), c.map((e) => e.r.rootService),
          c.map((e) => e.r.rootName), c.map((e) => e.r.rootResource), c.map((e) => e.r.env), c.map((e) => e.r.spanCount), c.map((e) => e.r.errorCount),
          c.map((e) => e.r.services),
          x.map((e) => e.id), x.map((e) => e.received), x.map((e) => e.r.service), x.map((e) => e.r.env), x.map((e) => e.r.name), x.map((e) => e.r.resource),
          x.map((e) => e.r.type), x.map((e) => e.r.start), x.map((e) => BigInt(e.r.duration)), x.map((e) => e.r.error), x.map((e) => s64(e.r.traceId)),
          ...tagColumns(ws.map((w, i) => ({ id: ids[i]!, received: w.received, tags: w.tags })))]);
    }
  }

  /** The widest payload's first-to-last start this process knows of (tag_filter_widest). */
  private tagWidest: bigint | undefined;

  private async widenTags(ws: PreparedWrite[]): Promise<void> {
    let widest = 0n;
    for (const w of ws) if (w.tags.maxStart - w.tags.minStart > widest) widest = w.tags.maxStart - w.tags.minStart;
    if (this.tagWidest !== undefined && widest <= this.tagWidest) return;
    // Before the payloads are written, so that no reader sees a payload wider than the bound.
    const { rows } = await this.pool.query<{ widest: bigint }>('UPDATE tag_filter_widest SET widest = greatest(widest, $1) WHERE id = 0 RETURNING widest', [widest]);
    this.tagWidest = rows[0]!.widest;
  }

  /** Days whose partitions this process has made or seen; forgotten when retention drops one. */
  private readonly days = new Set<bigint>();

  private async ensureDays(days: Iterable<bigint>): Promise<void> {
    for (const day of new Set(days)) {
      if (this.days.has(day)) continue;
      await this.pool.query('SELECT ecs_trace_ensure_day($1)', [day]);
      this.days.add(day);
    }
  }

  /**
   * Writes once the days' partitions exist. Another agent's retention may have dropped a day this
   * one still writes to (a late stats bucket): PostgreSQL then finds no partition for the row
   * (23514); the day is made again and the write tried once more.
   */
  private async inDays(days: bigint[], write: () => Promise<void>): Promise<void> {
    await this.ensureDays(days);
    try {
      await write();
    } catch (err) {
      if ((err as { code?: string }).code !== '23514') throw err;
      this.days.clear();
      await this.ensureDays(days);
      await write();
    }
  }

  async getTrace(traceId: TraceId): Promise<TraceRecord | undefined> {
    const { rows } = await this.pool.query<ChunkRecord & { spans: Buffer }>(
      `SELECT c.trace_id, c.payload, c."offset"::bigint AS "offset", c.trace_id_high, c.start, c."end", c.root_span_id, c.root_service, c.root_name,
              c.root_resource, c.env, c.span_count::bigint AS span_count, c.error_count::bigint AS error_count, c.services, p.spans
       FROM chunks c JOIN payloads p ON p.id = c.payload AND p.received = c.received WHERE c.trace_id = $1 ORDER BY c.start`, [s64(traceId.low)]);
    if (rows.length === 0) return undefined;
    const summary = summarizeChunks(rows);
    if (traceId.high !== 0n && summary.traceId.high !== 0n && summary.traceId.high !== traceId.high) return undefined;
    const spans: SpanRecord[] = [];
    const dictionaries = new Map<bigint, string[]>();
    for (const r of rows) {
      let dict = dictionaries.get(r.payload);
      if (!dict) dictionaries.set(r.payload, dict = readDictionary(r.spans));
      for (const span of decodeSegmentChunk(r.spans, dict, Number(r.offset))) spans.push({ span, env: span.meta['env'] || r.env });
    }
    spans.sort((a, b) => (a.span.start < b.span.start ? -1 : a.span.start > b.span.start ? 1 : 0));
    return { summary, spans };
  }

  async searchTraces(q: TraceQuery): Promise<TraceSummaryRecord[]> {
    if (q.tag !== undefined) return this.searchTagged(q, q.tag);
    const w = traceQueryWhere(q, postgresPlaceholder);
    const n = w.params.length;
    const ids = await newestTraceIds(q.limit,
      async (offset, count) => (await this.pool.query<{ trace_id: bigint }>(
        `SELECT trace_id FROM span_index ${w.sql} ORDER BY start DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...w.params, count, offset])).rows.map((r) => r.trace_id),
      async () => (await this.pool.query<{ trace_id: bigint }>(
        `SELECT trace_id FROM span_index ${w.sql} GROUP BY trace_id ORDER BY max(start) DESC LIMIT $${n + 1}`, [...w.params, q.limit])).rows.map((r) => r.trace_id));
    return this.summariesOf(ids);
  }

  /**
   * Traces with a span carrying the tag (or holding the free text) in the range: the filters are tested in the server
   * (get_bit at each probe), and the payloads that may hold it are decoded here, newest first, a
   * few at a time until `limit` traces are found.
   */
  private async searchTagged(q: TraceQuery, tag: { key: string; value: string }): Promise<TraceSummaryRecord[]> {
    const start = q.start ?? -(2n ** 63n);
    const end = q.end ?? 2n ** 63n - 1n;
    const { probes: wanted, match } = tagSearch(tag);
    const widest = (await this.pool.query<{ widest: bigint }>('SELECT widest FROM tag_filter_widest WHERE id = 0')).rows[0]?.widest ?? 0n;
    const upTo = end > 2n ** 63n - 1n - widest ? 2n ** 63n - 1n : end + widest;
    const maybeOf = async ({ shards, probes }: TagProbe) => {
      const bitTests = probes.map((_, i) => `get_bit(bits, ($${i + 5}::bigint % (length(bits)::bigint * 8))::int) = 1`).join(' AND ');
      return (await this.pool.query<{ payload: bigint; received: bigint }>(
        `SELECT payload, received FROM tag_filters WHERE shard = ANY($1::smallint[]) AND max_start >= $2 AND max_start < $3 AND min_start < $4 AND ${bitTests}
         ORDER BY max_start DESC`, [shards, start, upTo, end, ...probes])).rows;
    };
    // The payloads whose filters hold every probe (free text: every trigram of it).
    const maybe = everyOf(await Promise.all(wanted.map(maybeOf)), (r) => r.payload);
    const ids = new Set<bigint>();
    for (let i = 0; i < maybe.length && ids.size < q.limit; i += 8) {
      const some = maybe.slice(i, i + 8);
      const { rows } = await this.pool.query<{ id: bigint; spans: Buffer }>(
        'SELECT p.id, p.spans FROM payloads p JOIN unnest($1::bigint[], $2::bigint[]) AS w(id, received) ON p.id = w.id AND p.received = w.received',
        [some.map((m) => m.payload), some.map((m) => m.received)]);
      const blobs = new Map(rows.map((r) => [r.id, r.spans]));
      for (const m of some) {
        const blob = blobs.get(m.payload);
        if (blob !== undefined) segmentTracesMatching(blob, match, start, end, ids);
        if (ids.size >= q.limit) break;
      }
    }
    return (await this.summariesOf([...ids])).slice(0, q.limit);
  }

  private async summariesOf(ids: bigint[]): Promise<TraceSummaryRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<ChunkRecord>(
      `SELECT trace_id, payload, "offset"::bigint AS "offset", trace_id_high, start, "end", root_span_id, root_service, root_name, root_resource, env,
              span_count::bigint AS span_count, error_count::bigint AS error_count, services
       FROM chunks WHERE trace_id = ANY($1::bigint[]) ORDER BY start`, [ids]);
    return summarizeTraces(rows);
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    if (rows.length === 0) return;
    const encoded = encodeSketches(rows);
    await this.inDays(rows.map((r) => dayOf(r.start)), () => this.transaction(async (client) => {
      await this.insertStats(client, encoded);
      await this.addToRollup(client, encoded);
    }));
  }

  private async insertStats(client: pg.PoolClient, rows: EncodedStatsRow[]): Promise<void> {
    const col = <T>(f: (r: EncodedStatsRow) => T) => rows.map(f);
    await client.query(
      `INSERT INTO stats (start, duration, service, name, resource, type, env, version, http_status_code, span_kind, is_trace_root, synthetics,
                          peer_tags, hits, top_level_hits, errors, total_duration, ok_sketch, error_sketch, source)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[],
                            $11::bool[], $12::bool[], $13::text[], $14::float8[], $15::float8[], $16::float8[], $17::float8[], $18::bytea[], $19::bytea[], $20::text[])`,
      [col((r) => r.start), col((r) => r.durationNs), col((r) => r.service), col((r) => r.name), col((r) => r.resource), col((r) => r.type), col((r) => r.env),
        col((r) => r.version), col((r) => r.httpStatusCode), col((r) => r.spanKind), col((r) => r.isTraceRoot), col((r) => r.synthetics),
        col((r) => r.peerTags.join(',')), col((r) => r.hits), col((r) => r.topLevelHits), col((r) => r.errors), col((r) => r.totalDuration),
        col((r) => Buffer.from(r.okSketch)), col((r) => Buffer.from(r.errorSketch)), col((r) => r.source)]);
  }

  /**
   * Folds stats rows into this writer's slots: its rows there are read, merged in (sketches merge
   * here, not in SQL) and written back. Only this process writes them, one stats write at a time
   * (the spool ships in order), so nothing else changes them in between.
   */
  private async addToRollup(client: pg.PoolClient, rows: EncodedStatsRow[]): Promise<void> {
    const slots = foldIntoSlots(rows);
    if (slots.length === 0) return;
    const { rows: existing } = await client.query<Record<string, unknown>>(
      `SELECT r.* FROM service_rollup r JOIN unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS k(width, slot, service, env, name, version)
         USING (width, slot, service, env, name, version) WHERE r.writer = $1`,
      [this.writer, slots.map((x) => x.width), slots.map((x) => x.slot), slots.map((x) => x.row.service), slots.map((x) => x.row.env),
        slots.map((x) => x.row.name), slots.map((x) => x.row.version)]);
    const have = new Map(existing.map((r) => [slotKey({ width: r['width'] as bigint, slot: r['slot'] as bigint, row: serviceStatsFromColumns(r, r['last_seen'] as bigint, slotFirstSeen(r)) }), r]));
    for (const x of slots) {
      const r = have.get(slotKey(x));
      if (r) addServiceStats(x.row, serviceStatsFromColumns(r, r['last_seen'] as bigint, slotFirstSeen(r)));
    }
    const v = <T>(f: (x: SlotRow) => T) => slots.map(f);
    await client.query(
      `INSERT INTO service_rollup (width, slot, writer, service, env, name, version, type, top_level_hits, hits, errors, total_duration, ok_sketch, error_sketch, last_seen, first_seen)
       SELECT u.width, u.slot, $1, u.service, u.env, u.name, u.version, u.type, u.tlh, u.hits, u.errors, u.td, u.ok, u.err, u.last_seen, u.first_seen
       FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::float8[], $11::float8[],
                   $12::float8[], $13::bytea[], $14::bytea[], $15::bigint[], $16::bigint[]) AS u(width, slot, service, env, name, version, type, tlh, hits, errors, td, ok, err, last_seen, first_seen)
       ON CONFLICT (width, slot, service, env, name, version, writer) DO UPDATE SET type = EXCLUDED.type, top_level_hits = EXCLUDED.top_level_hits,
         hits = EXCLUDED.hits, errors = EXCLUDED.errors, total_duration = EXCLUDED.total_duration, ok_sketch = EXCLUDED.ok_sketch,
         error_sketch = EXCLUDED.error_sketch, last_seen = EXCLUDED.last_seen, first_seen = EXCLUDED.first_seen`,
      [this.writer, v((x) => x.width), v((x) => x.slot), v((x) => x.row.service), v((x) => x.row.env), v((x) => x.row.name), v((x) => x.row.version),
        v((x) => x.row.type), v((x) => x.row.topLevelHits), v((x) => x.row.hits), v((x) => x.row.errors), v((x) => x.row.totalDuration),
        v((x) => Buffer.from(encodeSketch(x.row.okSketch))), v((x) => Buffer.from(encodeSketch(x.row.errorSketch))), v((x) => x.row.lastSeen), v((x) => x.row.firstSeen)]);
  }

  /**
   * Fills the rollup from stats rows stored before it existed (schema 2 and older), once, by the
   * first store that opens the database at schema 3; the others find it done.
   */
  private async backfill(): Promise<void> {
    await this.transaction(async (client) => {
      const { rows } = await client.query<{ done: boolean }>("SELECT done FROM ecs_trace_backfill WHERE what = 'service_rollup' FOR UPDATE");
      if (rows[0]?.done !== false) return;
      const cursor = 'ecs_trace_backfill_rows';
      await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT * FROM stats WHERE top_level_hits > 0`);
      for (;;) {
        const { rows: page } = await client.query<Record<string, unknown>>(`FETCH 10000 FROM ${cursor}`);
        if (page.length === 0) break;
        await this.addToRollup(client, page.map((r) => ({ ...statsFromColumns(r), okSketch: r['ok_sketch'] as Buffer, errorSketch: r['error_sketch'] as Buffer })));
      }
      await client.query(`CLOSE ${cursor}`);
      await client.query("UPDATE ecs_trace_backfill SET done = true WHERE what = 'service_rollup'");
    });
  }

  /** Filters for the payloads stored before the tag index (schema 5 and older), once, by the first store at schema 6. */
  private async backfillTags(): Promise<void> {
    await this.transaction(async (client) => {
      const { rows } = await client.query<{ done: boolean }>("SELECT done FROM ecs_trace_backfill WHERE what = 'tag_filters' FOR UPDATE");
      if (rows[0]?.done !== false) return;
      const cursor = 'ecs_trace_backfill_tags';
      await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT id, received, spans FROM payloads`);
      for (;;) {
        const { rows: page } = await client.query<{ id: bigint; received: bigint; spans: Buffer }>(`FETCH 200 FROM ${cursor}`);
        if (page.length === 0) break;
        const ps = page.map((p) => ({ id: p.id, received: p.received, tags: buildTagFilters(decodeSegment(p.spans).chunks) }));
        let widest = 0n;
        for (const p of ps) if (p.tags.maxStart - p.tags.minStart > widest) widest = p.tags.maxStart - p.tags.minStart;
        await client.query('UPDATE tag_filter_widest SET widest = greatest(widest, $1) WHERE id = 0', [widest]);
        await client.query(
          `INSERT INTO tag_filters (payload, received, shard, min_start, max_start, bits)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::bigint[], $5::bigint[], $6::bytea[])`, tagColumns(ps));
      }
      await client.query(`CLOSE ${cursor}`);
      await client.query("UPDATE ecs_trace_backfill SET done = true WHERE what = 'tag_filters'");
    });
  }

  async setErrorStatus(group: string, status: ErrorStatus, at: bigint): Promise<void> {
    await this.pool.query(
      'INSERT INTO error_status (group_id, status, changed_at) VALUES ($1, $2, $3) ON CONFLICT (group_id) DO UPDATE SET status = $2, changed_at = $3', [group, status, at]);
  }

  async setMonitorMute(monitor: string, until: bigint | null): Promise<void> {
    if (until === null) await this.pool.query('DELETE FROM monitor_mute WHERE monitor = $1', [monitor]);
    else await this.pool.query('INSERT INTO monitor_mute (monitor, until) VALUES ($1, $2) ON CONFLICT (monitor) DO UPDATE SET until = $2', [monitor, until]);
  }

  async saveMonitor(id: string, definition: string | null): Promise<void> {
    if (definition === null) await this.pool.query('DELETE FROM saved_monitors WHERE id = $1', [id]);
    else await this.pool.query('INSERT INTO saved_monitors (id, definition) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET definition = $2', [id, definition]);
  }

  async savedMonitors(): Promise<{ id: string; definition: string }[]> {
    return (await this.pool.query<{ id: string; definition: string }>('SELECT id, definition FROM saved_monitors ORDER BY id')).rows;
  }

  async saveRemoteConfig(id: string, definition: string | null): Promise<void> {
    // The version from a sequence: two replicas saving at once still get two versions.
    if (definition === null) await this.pool.query("UPDATE remote_configs SET definition = NULL, version = nextval('remote_config_version') WHERE id = $1 AND definition IS NOT NULL", [id]);
    else await this.pool.query("INSERT INTO remote_configs (id, definition, version) VALUES ($1, $2, nextval('remote_config_version')) ON CONFLICT (id) DO UPDATE SET definition = $2, version = nextval('remote_config_version')", [id, definition]);
  }

  async remoteConfigs(): Promise<RemoteConfigRecords> {
    const rows = (await this.pool.query<{ id: string; definition: string | null; version: string }>('SELECT id, definition, version FROM remote_configs ORDER BY id')).rows;
    return { revision: rows.reduce((m, r) => Math.max(m, Number(r.version)), 0), configs: rows.flatMap((r) => (r.definition === null ? [] : [{ id: r.id, definition: r.definition, version: Number(r.version) }])) };
  }

  async saveMonitorEvent(monitor: string, at: bigint, event: string): Promise<void> {
    await this.pool.query('INSERT INTO monitor_events (monitor, at, event) VALUES ($1, $2, $3) ON CONFLICT (monitor, at) DO UPDATE SET event = $3', [monitor, at, event]);
    await this.pool.query('DELETE FROM monitor_events WHERE at < $1', [at - 30n * 86_400_000_000_000n]);
  }

  async monitorEvents(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]> {
    return (await this.pool.query<{ monitor: string; at: bigint; event: string }>('SELECT monitor, at, event FROM monitor_events ORDER BY at DESC LIMIT $1', [limit])).rows;
  }

  async monitorMutes(): Promise<{ monitor: string; until: bigint }[]> {
    return (await this.pool.query<{ monitor: string; until: bigint }>('SELECT monitor, until FROM monitor_mute')).rows;
  }

  async errorStatuses(): Promise<ErrorStatusRecord[]> {
    const { rows } = await this.pool.query<{ group_id: string; status: ErrorStatus; changed_at: bigint }>('SELECT group_id, status, changed_at FROM error_status');
    return rows.map((r) => ({ group: r.group_id, status: r.status, changedAt: r.changed_at }));
  }

  async queryStats(q: StatsQuery): Promise<StatsRow[]> {
    const w = statsQueryWhere(q, postgresPlaceholder);
    const { columns, groupBy } = statsSelect(q, (c) => `bool_or(${c})`);
    const { rows } = await this.pool.query<Record<string, unknown>>(`SELECT ${columns} FROM stats ${w.sql} ${groupBy} ORDER BY start`, w.params);
    return rows.map(statsFromColumns);
  }

  async readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]> {
    // This agent's own counts first (other agents' reach the table within a second).
    await this.rollups.flush(true);
    return width === undefined ? readRollups(this.pool, kind, range) : readRollupSlots(this.pool, kind, range, width);
  }

  /** Whole slots from the rollup (every writer's rows), the ragged ends from the 10-s rows, merged. */
  async serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> {
    const { slots, raw } = coverRange(range.start, range.end);
    const out: ServiceStatsRow[] = [];
    for (const [from, to] of raw) {
      const { rows } = await this.pool.query<Record<string, unknown>>(
        `SELECT service, env, name, version, type, top_level_hits, hits, errors, total_duration, ok_sketch, error_sketch, start + duration AS last_seen, start
         FROM stats WHERE start >= $1 AND start < $2 AND top_level_hits > 0`, [from, to]);
      for (const r of rows) out.push(serviceStatsFromColumns(r, r['last_seen'] as bigint, r['start'] as bigint));
    }
    if (slots.length > 0) {
      const { rows } = await this.pool.query<Record<string, unknown>>(
        `SELECT r.* FROM service_rollup r JOIN unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS p(width, "from", "to")
           ON r.width = p.width AND r.slot >= p."from" AND r.slot < p."to"`,
        [slots.map((x) => x.width), slots.map((x) => x.from), slots.map((x) => x.to)]);
      for (const r of rows) out.push(serviceStatsFromColumns(r, r['last_seen'] as bigint, slotFirstSeen(r)));
    }
    return mergeServiceStats(out);
  }

  /**
   * Age only: PostgreSQL gives disk back on VACUUM, not on DELETE, so a size bound here would not
   * hold (with PostgreSQL, `--max-disk` bounds the agent's local spool). Days wholly before the
   * cutoff are dropped as partitions, their disk back at once, and nothing else of the spans and
   * stats is deleted: a row-by-row DELETE of a moving cutoff's day was a billion statements a day
   * at 1B spans/day (issue 32), so data is kept until its whole day is past the retention (up to a
   * day longer). The rollups, a few rows a minute, are trimmed to the cutoff. One agent of the
   * cluster at a time: the others find the lock held and skip.
   */
  async enforceRetention(olderThan: bigint): Promise<RetentionResult> {
    const { client, done } = await this.connect();
    try {
      const { rows: locked } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK_KEY]);
      if (!locked[0]!.ok) return { deletedSpans: 0, reason: 'none' };
      try {
        let deletedSpans = 0;
        const { rows: parts } = await client.query<{ table: string; name: string }>(
          `SELECT p.relname AS table, c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           WHERE p.relname = ANY($1::text[]) AND c.relkind = 'r' AND c.relname ~ '_d-?[0-9]+$'`, [[...PARTITIONED_TABLES]]);
        const oldDays = new Set<bigint>();
        for (const { name } of parts) {
          const day = BigInt(name.slice(name.lastIndexOf('_d') + 2));
          if ((day + 1n) * DAY_NS <= olderThan) oldDays.add(day);
        }
        for (const day of [...oldDays].sort((a, b) => (a < b ? -1 : 1))) {
          await client.query('BEGIN');
          const names = parts.filter((p) => p.name.endsWith(`_d${day}`)).map((p) => p.name);
          if (names.includes(`payloads_d${day}`)) {
            const { rows } = await client.query<{ n: bigint }>(`SELECT coalesce(sum(span_count), 0)::bigint AS n FROM "payloads_d${day}"`);
            deletedSpans += Number(rows[0]!.n);
          }
          await client.query(`DROP TABLE ${names.map((n) => `"${n}"`).join(', ')}`);
          await client.query('COMMIT');
          this.days.delete(day);
        }
        await client.query('BEGIN');
        // A slot the cutoff falls in stays whole until it ends, as in the embedded store.
        await client.query('DELETE FROM service_rollup WHERE slot + width <= $1', [olderThan]);
        await maintainRollups(client, `${this.writer}:maintenance`, BigInt(Date.now()) * 1_000_000n - HALF_TTL_NS, olderThan);
        await client.query('COMMIT');
        return { deletedSpans, reason: deletedSpans > 0 ? 'age' : 'none' };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]).catch(() => undefined);
      }
    } finally {
      done();
    }
  }

  async diskUsage(): Promise<number> {
    const { rows } = await this.pool.query<{ bytes: bigint }>(
      `SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0)::bigint AS bytes
       FROM unnest($1::text[]) AS p(name), LATERAL pg_partition_tree(p.name::regclass) t WHERE t.isleaf`, [[...PARTITIONED_TABLES]]);
    return Number(rows[0]!.bytes);
  }

  /**
   * Exact while the store is small; past 100,000 payloads, estimated from PostgreSQL's own row
   * count and the last thousand payloads, so /healthz and /metrics never scan a cluster's table.
   */
  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.query<{ spans: bigint; payloads: bigint }>(
      `WITH est AS (SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint AS n FROM pg_partition_tree('payloads') t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf)
       SELECT CASE WHEN (SELECT n FROM est) > 100000
                   THEN ((SELECT n FROM est) * (SELECT coalesce(avg(span_count), 0) FROM (SELECT span_count FROM payloads ORDER BY id DESC LIMIT 1000) recent))::bigint
                   ELSE (SELECT coalesce(sum(span_count), 0) FROM payloads)::bigint END AS spans,
              CASE WHEN (SELECT n FROM est) > 100000 THEN (SELECT n FROM est) ELSE (SELECT count(*) FROM payloads) END AS payloads`);
    return { diskBytes: await this.diskUsage(), spans: Number(rows[0]!.spans), payloads: Number(rows[0]!.payloads) };
  }

  async close(): Promise<void> {
    await this.rollups.close();
    await this.pool.end();
  }
}
