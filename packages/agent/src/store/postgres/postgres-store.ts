import { DDSketch } from '@datadog/sketches-js';
import pg from 'pg';
import { summarizeChunks, type ChunkRecord } from '../chunk-summary.js';
import type { RetentionResult, StatsQuery, StoreStats, TraceQuery, TraceStore, WriteBatch } from '../contract.js';
import { prepareWrite } from '../prepare-write.js';
import { mergeServiceStats, serviceStatsFromColumns, type ServiceStatsRow, type SpanRecord, type StatsRow, type TraceId, type TraceRecord, type TraceSummaryRecord } from '../records.js';
import { postgresPlaceholder, statsQueryWhere, traceQueryWhere } from '../conditions.js';
import { decodeSegmentChunk, readDictionary } from '../segment-codec.js';
import { migrate, schemaStatus } from './migrations.js';

/*
 * The store in PostgreSQL, for a whole cluster: the same layout as the embedded store (a payload's
 * spans in one dictionary-compressed blob, a row per chunk keyed by trace id, an index of entry
 * and error spans, stats rows with their sketches), written in one transaction per payload, so a
 * payload is acknowledged once PostgreSQL has committed it. Ids are stored as signed bigint.
 *
 * Not yet (issue #11): time partitions, the services rollup (services are summed from the stats
 * rows of the range), the local spool that keeps acknowledging during an outage, and a meaning
 * for --max-disk (PostgreSQL frees disk only on VACUUM; size retention is left to the operator).
 */

const { Pool } = pg;

/** bigint columns as bigint, not strings; everything else as pg reads it. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => BigInt(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL; `?sslmode=` as libpq reads it. */
  url: string;
  /** Connections at most. */
  poolSize?: number;
  /** When neither the URL nor PGPASSWORD holds it (ECS_TRACE_STORE_PASSWORD_FILE). */
  password?: string;
}

export class PostgresStore implements TraceStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects and applies the schema's migrations (one agent at a time, under an advisory lock). */
  static async open(o: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new Pool({ connectionString: o.url, max: o.poolSize ?? 4, types: TYPES, ...(o.password ? { password: o.password } : {}) });
    // An idle connection the server ends (a restart, a failover) is an 'error' on the pool, which
    // would end the process unhandled; the pool drops that connection and the next query opens
    // another, and what failed meanwhile is retried from the spool.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool);
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

  /** A connection held for a transaction; a server that ends it fails the transaction, not the process. */
  private async connect(): Promise<{ client: pg.PoolClient; done: () => void }> {
    const client = await this.pool.connect();
    const ignore = () => undefined;
    client.on('error', ignore);
    return { client, done: () => { client.off('error', ignore); client.release(); } };
  }

  async write(batch: WriteBatch): Promise<void> {
    const w = prepareWrite(batch);
    const { client, done } = await this.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: bigint }>(
        `INSERT INTO payloads (received, max_end, span_count, lang, tracer_version, container_id, hostname, spans)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [w.received, w.maxEnd, w.spans, w.lang, w.tracerVersion, w.containerId, w.hostname, w.blob]);
      const payload = rows[0]!.id;
      if (w.chunks.length > 0) {
        const c = w.chunks;
        await client.query(
          `INSERT INTO chunks (trace_id, payload, "offset", trace_id_high, start, "end", root_span_id, root_service, root_name, root_resource, env, span_count, error_count, services)
           SELECT trace_id, $2, "offset", trace_id_high, start, "end", root_span_id, root_service, root_name, root_resource, env, span_count, error_count, services
           FROM unnest($1::bigint[], $3::int[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::int[], $14::text[])
             AS u(trace_id, "offset", trace_id_high, start, "end", root_span_id, root_service, root_name, root_resource, env, span_count, error_count, services)`,
          [c.map((r) => s64(r.traceId)), payload, c.map((r) => r.offset), c.map((r) => r.traceIdHigh), c.map((r) => r.start), c.map((r) => r.end),
            c.map((r) => (r.rootSpanId === null ? null : s64(r.rootSpanId))), c.map((r) => r.rootService), c.map((r) => r.rootName), c.map((r) => r.rootResource),
            c.map((r) => r.env), c.map((r) => r.spanCount), c.map((r) => r.errorCount), c.map((r) => r.services)]);
      }
      if (w.index.length > 0) {
        const x = w.index;
        await client.query(
          `INSERT INTO span_index (payload, service, env, name, resource, type, start, duration, error, trace_id)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::int[], $10::bigint[])`,
          [payload, x.map((r) => r.service), x.map((r) => r.env), x.map((r) => r.name), x.map((r) => r.resource), x.map((r) => r.type),
            x.map((r) => r.start), x.map((r) => BigInt(r.duration)), x.map((r) => r.error), x.map((r) => s64(r.traceId))]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      done();
    }
  }

  async getTrace(traceId: TraceId): Promise<TraceRecord | undefined> {
    const { rows } = await this.pool.query<ChunkRecord & { spans: Buffer }>(
      `SELECT c.trace_id, c.payload, c."offset"::bigint AS "offset", c.trace_id_high, c.start, c."end", c.root_span_id, c.root_service, c.root_name,
              c.root_resource, c.env, c.span_count::bigint AS span_count, c.error_count::bigint AS error_count, c.services, p.spans
       FROM chunks c JOIN payloads p ON p.id = c.payload WHERE c.trace_id = $1 ORDER BY c.start`, [s64(traceId.low)]);
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
    const w = traceQueryWhere(q, postgresPlaceholder);
    const { rows: ids } = await this.pool.query<{ trace_id: bigint }>(
      `SELECT trace_id, max(start) AS latest FROM span_index ${w.sql}
       GROUP BY trace_id ORDER BY latest DESC LIMIT $${w.params.length + 1}`, [...w.params, q.limit]);
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<ChunkRecord>(
      `SELECT trace_id, payload, "offset"::bigint AS "offset", trace_id_high, start, "end", root_span_id, root_service, root_name, root_resource, env,
              span_count::bigint AS span_count, error_count::bigint AS error_count, services
       FROM chunks WHERE trace_id = ANY($1::bigint[]) ORDER BY start`, [ids.map((r) => r.trace_id)]);
    const byTrace = new Map<bigint, ChunkRecord[]>();
    for (const r of rows) {
      const list = byTrace.get(r.trace_id);
      if (list) list.push(r);
      else byTrace.set(r.trace_id, [r]);
    }
    return [...byTrace.values()].map(summarizeChunks).sort((a, b) => (b.start > a.start ? 1 : b.start < a.start ? -1 : 0));
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <T>(f: (r: StatsRow) => T) => rows.map(f);
    await this.pool.query(
      `INSERT INTO stats (start, duration, service, name, resource, type, env, version, http_status_code, span_kind, is_trace_root, synthetics,
                          peer_tags, hits, top_level_hits, errors, total_duration, ok_sketch, error_sketch, source)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[],
                            $11::bool[], $12::bool[], $13::text[], $14::float8[], $15::float8[], $16::float8[], $17::float8[], $18::bytea[], $19::bytea[], $20::text[])`,
      [col((r) => r.start), col((r) => r.durationNs), col((r) => r.service), col((r) => r.name), col((r) => r.resource), col((r) => r.type), col((r) => r.env),
        col((r) => r.version), col((r) => r.httpStatusCode), col((r) => r.spanKind), col((r) => r.isTraceRoot), col((r) => r.synthetics),
        col((r) => r.peerTags.join(',')), col((r) => r.hits), col((r) => r.topLevelHits), col((r) => r.errors), col((r) => r.totalDuration),
        col((r) => Buffer.from(r.okSketch.toProto())), col((r) => Buffer.from(r.errorSketch.toProto())), col((r) => r.source)]);
  }

  async queryStats(q: StatsQuery): Promise<StatsRow[]> {
    const w = statsQueryWhere(q, postgresPlaceholder);
    const { rows } = await this.pool.query<Record<string, unknown>>(`SELECT * FROM stats ${w.sql} ORDER BY start`, w.params);
    return rows.map((r) => ({
      start: r['start'] as bigint, durationNs: r['duration'] as bigint, service: r['service'] as string, name: r['name'] as string,
      resource: r['resource'] as string, type: r['type'] as string, env: r['env'] as string, version: r['version'] as string,
      httpStatusCode: r['http_status_code'] as number, spanKind: r['span_kind'] as string, isTraceRoot: r['is_trace_root'] as boolean,
      synthetics: r['synthetics'] as boolean, peerTags: (r['peer_tags'] as string) === '' ? [] : (r['peer_tags'] as string).split(','),
      hits: r['hits'] as number, topLevelHits: r['top_level_hits'] as number, errors: r['errors'] as number, totalDuration: r['total_duration'] as number,
      okSketch: DDSketch.fromProto(r['ok_sketch'] as Buffer), errorSketch: DDSketch.fromProto(r['error_sketch'] as Buffer),
      source: r['source'] as 'agent' | 'client',
    }));
  }

  async serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> {
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT service, env, name, version, type, top_level_hits, hits, errors, total_duration, ok_sketch, error_sketch, start + duration AS last_seen
       FROM stats WHERE start >= $1 AND start < $2 AND top_level_hits > 0`, [range.start, range.end]);
    return mergeServiceStats(rows.map((r) => serviceStatsFromColumns(r, r['last_seen'] as bigint)));
  }

  /** Age only: PostgreSQL gives disk back on VACUUM, not on DELETE, so a size bound here would not hold. */
  async enforceRetention(olderThan: bigint): Promise<RetentionResult> {
    const { client, done } = await this.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: bigint; span_count: number }>('DELETE FROM payloads WHERE max_end < $1 RETURNING id, span_count', [olderThan]);
      const ids = rows.map((r) => r.id);
      if (ids.length > 0) {
        await client.query('DELETE FROM chunks WHERE payload = ANY($1::bigint[])', [ids]);
        await client.query('DELETE FROM span_index WHERE payload = ANY($1::bigint[])', [ids]);
      }
      await client.query('DELETE FROM stats WHERE start < $1', [olderThan]);
      await client.query('COMMIT');
      const deletedSpans = rows.reduce((n, r) => n + r.span_count, 0);
      return { deletedSpans, reason: deletedSpans > 0 ? 'age' : 'none' };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      done();
    }
  }

  async diskUsage(): Promise<number> {
    const { rows } = await this.pool.query<{ bytes: bigint }>(
      "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c WHERE c.relname IN ('payloads', 'chunks', 'span_index', 'stats') AND c.relkind = 'r'");
    return Number(rows[0]!.bytes);
  }

  /**
   * Exact while the store is small; past 100,000 payloads, estimated from PostgreSQL's own row
   * count and the last thousand payloads, so /healthz and /metrics never scan a cluster's table.
   */
  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.query<{ spans: bigint; payloads: bigint }>(
      `WITH est AS (SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE relname = 'payloads' AND relkind = 'r')
       SELECT CASE WHEN (SELECT n FROM est) > 100000
                   THEN ((SELECT n FROM est) * (SELECT coalesce(avg(span_count), 0) FROM (SELECT span_count FROM payloads ORDER BY id DESC LIMIT 1000) recent))::bigint
                   ELSE (SELECT coalesce(sum(span_count), 0) FROM payloads)::bigint END AS spans,
              CASE WHEN (SELECT n FROM est) > 100000 THEN (SELECT n FROM est) ELSE (SELECT count(*) FROM payloads) END AS payloads`);
    return { diskBytes: await this.diskUsage(), spans: Number(rows[0]!.spans), payloads: Number(rows[0]!.payloads) };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
