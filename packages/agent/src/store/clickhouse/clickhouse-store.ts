import { createHash, randomUUID } from 'node:crypto';
import { findRoot, type Span } from '@ecs-trace/protocol';
import { decodeSketch, sketchBins, sketchFromBins } from '../sketch-codec.js';
import { summarizeChunks, summarizeTraces, type ChunkRecord } from '../chunk-summary.js';
import { statsSelect } from '../conditions.js';
import { chunkRowOf, indexedSpan } from '../prepare-write.js';
import { spanExtras, withSpanExtras } from '../segment-codec.js';
import type { ErrorStatus, ErrorStatusRecord, RemoteConfigRecords, RetentionResult, RollupRead, StatsQuery, StoreStats, TraceQuery, TraceStore, WriteBatch } from '../contract.js';
import {
  addServiceStats, chunkEnv, encodeSketches, mergeServiceStats, newSketch, serviceStatsFromColumns,
  type ServiceStatsRow, type SpanRecord, type StatsRow, type TraceId, type TraceRecord, type TraceSummaryRecord,
} from '../records.js';
import { coverRange, foldIntoSlots, slotKey } from '../service-rollup.js';
import { TEXT_KEY } from '../tag-filter.js';
import {
  expiredEdges, HALF_TTL_NS, meetWaiting, mergeByKey, mergeBySlotAndKey, mergeRollupData, pairedEdge, rollupRowKey, rollupSlots, rollupsOf, sumRollups,
  floorTo, type Half, type HalfData, type RollupData, type RollupKind, type RollupRow,
} from '../trace-rollup.js';
import { WaitingHalves } from '../waiting-halves.js';
import { DAY_NS, migrate, MIGRATIONS } from './migrations.js';
import type { ClickHouseTransport } from './transport.js';

/*
 * The store in ClickHouse, for clusters past one PostgreSQL: one span a row (migrations.ts),
 * chunk rows for the summaries a search lists, the agent's exact stats beside them. A payload is
 * one insert per table, acknowledged once ClickHouse has it (async_insert with
 * wait_for_async_insert: many agents' small inserts are batched by the server); a retried payload
 * carries the same deduplication token, so a write that failed halfway and is sent again is not
 * counted twice. Retention drops whole days.
 *
 * Rollups (the services list's slots, the service map's calls, error groups) are each writer's
 * rows, replaced as they grow (ReplacingMergeTree, read FINAL) and merged across writers when read.
 * Calls whose two sides reach different agents meet in call_halves: the agent holding the client
 * side pairs it, so a call is counted once without locks (ClickHouse has none). The price: a
 * client side still waiting when its agent restarts is not counted (PostgreSQL's shared table,
 * deleted from under a lock, has no such gap).
 */

const u64 = (v: bigint): string => BigInt.asUintN(64, v).toString();
const big = (v: unknown): bigint => BigInt(v as string | number);
/** A value inside a query, for the ids and times written in it (digits only). */
const lit = (v: bigint): string => v.toString();

const FLUSH_MS = 1000;
const HALF_LOCAL_MS = 5000;
/** Rollup rows of slots ended longer ago than this are let go from memory (a late one starts a row of its own). */
const KEEP_SLOTS_NS = 2n * 3600n * 1_000_000_000n;

export interface ClickHouseStoreOptions {
  transport: ClickHouseTransport;
}

interface SpanRow { [k: string]: unknown }

/** A batch's rows: its spans and its chunks' summaries. */
function rowsOf(batch: WriteBatch, first: boolean): { spans: SpanRow[]; chunks: SpanRow[] } {
  const spans: SpanRow[] = [];
  const chunks: SpanRow[] = [];
  let payloadFirst = first;
  for (const chunk of batch.chunks) {
    if (chunk.length === 0) continue;
    const root = findRoot(chunk);
    const env = chunkEnv(chunk, root, batch.env);
    const c = chunkRowOf(chunk, root, env);
    const high = c.traceIdHigh === '' ? '0' : BigInt(`0x${c.traceIdHigh}`).toString();
    for (const s of chunk) {
      const extras = spanExtras(s);
      const extra = extras ? Buffer.from(extras).toString('base64') : '';
      spans.push({
        trace_id: u64(s.traceId), trace_id_high: high, span_id: u64(s.spanId), parent_id: u64(s.parentId), start: s.start.toString(), duration: s.duration,
        received: batch.receivedAt.toString(), service: s.service, name: s.name, resource: s.resource, type: s.type, env: s.meta['env'] || env,
        error: s.error !== 0 ? 1 : 0, indexed: indexedSpan(s, root) ? 1 : 0, payload_first: payloadFirst ? 1 : 0,
        meta: s.meta, metrics: s.metrics, extra,
      });
      payloadFirst = false;
    }
    chunks.push({
      trace_id: u64(c.traceId), trace_id_high: c.traceIdHigh, start: c.start.toString(), end: c.end.toString(), received: batch.receivedAt.toString(),
      root_span_id: c.rootSpanId === null ? null : u64(c.rootSpanId), root_service: c.rootService, root_name: c.rootName, root_resource: c.rootResource,
      env, span_count: c.spanCount, error_count: c.errorCount, services: c.services,
    });
  }
  return { spans, chunks };
}

function spanOf(r: Record<string, unknown>): SpanRecord {
  const span: Span = {
    service: r['service'] as string, name: r['name'] as string, resource: r['resource'] as string, type: r['type'] as string,
    traceId: big(r['trace_id']), spanId: big(r['span_id']), parentId: big(r['parent_id']), start: big(r['start']), duration: Number(r['duration']),
    error: Number(r['error']), meta: r['meta'] as Record<string, string>, metrics: r['metrics'] as Record<string, number>,
  };
  const extra = r['extra'] as string;
  if (extra !== '') withSpanExtras(span, Buffer.from(extra, 'base64'));
  return { span, env: r['env'] as string };
}

function chunkOf(r: Record<string, unknown>): ChunkRecord {
  return {
    trace_id: big(r['trace_id']), payload: 0n, offset: 0n, trace_id_high: r['trace_id_high'] as string, start: big(r['start']), end: big(r['end']),
    root_span_id: r['root_span_id'] === null ? null : big(r['root_span_id']), root_service: r['root_service'] as string, root_name: r['root_name'] as string,
    root_resource: r['root_resource'] as string, env: r['env'] as string, span_count: big(r['span_count']), error_count: big(r['error_count']), services: r['services'] as string,
  };
}

function statsOf(r: Record<string, unknown>): StatsRow {
  return {
    start: big(r['start']), durationNs: big(r['duration']), service: r['service'] as string, name: r['name'] as string, resource: r['resource'] as string,
    type: r['type'] as string, env: r['env'] as string, version: r['version'] as string, httpStatusCode: Number(r['http_status_code']), spanKind: r['span_kind'] as string,
    isTraceRoot: Number(r['is_trace_root']) !== 0, synthetics: Number(r['synthetics']) !== 0, peerTags: (r['peer_tags'] as string) === '' ? [] : (r['peer_tags'] as string).split(','),
    hits: Number(r['hits']), topLevelHits: Number(r['top_level_hits']), errors: Number(r['errors']), totalDuration: Number(r['total_duration']),
    okSketch: r['ok_sketch'] === undefined ? newSketch() : decodeSketch(Buffer.from(r['ok_sketch'] as string, 'base64')),
    errorSketch: r['error_sketch'] === undefined ? newSketch() : decodeSketch(Buffer.from(r['error_sketch'] as string, 'base64')),
    source: r['source'] as 'agent' | 'client',
  };
}

/** Conditions with their parameters, typed as ClickHouse binds them. */
class Conditions {
  readonly parts: string[] = [];
  readonly params: Record<string, unknown> = {};
  add(sql: string, value?: unknown, type = 'String'): this {
    if (value === undefined) { this.parts.push(sql); return this; }
    const name = `p${Object.keys(this.params).length}`;
    this.params[name] = typeof value === 'bigint' ? value.toString() : value;
    this.parts.push(sql.replace('?', `{${name}:${type}}`));
    return this;
  }
  get where(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** A rollup row this writer keeps growing: replaced whole in the table as it does. */
interface Grown<T> { value: T; writer: string; end: bigint }

export class ClickHouseStore implements TraceStore {
  /** This process's name on its rollup rows; a generation is added when a row had to be let go from memory. */
  private readonly writer = randomUUID();
  private generation = 0;
  private seq = 0;
  private readonly serviceRows = new Map<string, Grown<{ width: bigint; slot: bigint; row: ServiceStatsRow }>>();
  private readonly traceRows = new Map<string, Grown<RollupRow>>();
  private readonly pendingRows = new Map<string, RollupRow>();
  private readonly waiting = new WaitingHalves();
  /** Client halves written to call_halves, waiting here for a server side another agent writes. */
  private remote: Half[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private statsChain: Promise<void> = Promise.resolve();

  private constructor(private readonly t: ClickHouseTransport) {
    this.timer = setInterval(() => { void this.flush(false).catch(() => undefined); }, FLUSH_MS);
    this.timer.unref();
  }

  static async open(o: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    await migrate(o.transport);
    return new ClickHouseStore(o.transport);
  }

  /** `ecs-trace store status`: the schema version of the database. */
  static async status(t: ClickHouseTransport): Promise<{ current: number; latest: number }> {
    const exists = await t.query<{ n: string }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'ecs_trace_migrations'");
    const current = Number(exists[0]?.n ?? 0) === 0 ? 0 : Number((await t.query<{ v: string }>('SELECT max(version) AS v FROM ecs_trace_migrations'))[0]?.v ?? 0);
    return { current, latest: MIGRATIONS.length };
  }

  private version(): number {
    return Date.now() * 1000 + (this.seq++ % 1000);
  }

  async write(batch: WriteBatch): Promise<void> {
    await this.writeMany([batch]);
  }

  /** Payloads in one insert a table; the rollups they count once they are in. */
  async writeMany(batches: WriteBatch[]): Promise<void> {
    const spans: SpanRow[] = [];
    const chunks: SpanRow[] = [];
    for (const b of batches) {
      const r = rowsOf(b, true);
      spans.push(...r.spans);
      chunks.push(...r.chunks);
    }
    if (spans.length > 0) {
      // Serialized before anything is sent: a row that cannot be written fails the batch whole.
      const token = createHash('sha256').update(JSON.stringify(spans)).digest('hex');
      await this.t.insert('chunks', chunks, { token: `${token}:chunks` });
      await this.t.insert('spans', spans, { token: `${token}:spans` });
    }
    for (const b of batches) {
      const own = rollupsOf(b.counted === undefined ? b : { ...b, chunks: b.chunks.slice(0, b.counted) }, b.receivedAt);
      sumRollups(this.pendingRows, own.rows);
      sumRollups(this.pendingRows, meetWaiting(this.waiting, own.halves, Number.POSITIVE_INFINITY));
      if (b.sampledOut) {
        sumRollups(this.pendingRows, b.sampledOut.rows);
        sumRollups(this.pendingRows, meetWaiting(this.waiting, b.sampledOut.halves, Number.POSITIVE_INFINITY));
      }
    }
  }

  async getTrace(traceId: TraceId): Promise<TraceRecord | undefined> {
    const id = BigInt.asUintN(64, traceId.low);
    const times = await this.t.query<{ first: string | null; last: string | null; n: string }>(
      `SELECT min(first) AS first, max(last) AS last, count() AS n FROM trace_times WHERE trace_id = ${lit(id)}`);
    if (Number(times[0]?.n ?? 0) === 0 || times[0]!.first === null) return undefined;
    const first = big(times[0]!.first);
    const last = big(times[0]!.last);
    const chunkRows = (await this.t.query(`SELECT * FROM chunks WHERE trace_id = ${lit(id)} AND start >= ${lit(first)} AND start <= ${lit(last)} ORDER BY start`)).map(chunkOf);
    if (chunkRows.length === 0) return undefined;
    const summary = summarizeChunks(chunkRows);
    if (traceId.high !== 0n && summary.traceId.high !== 0n && summary.traceId.high !== traceId.high) return undefined;
    let end = 0n;
    for (const c of chunkRows) if (c.end > end) end = c.end;
    const rows = await this.t.query(`SELECT * FROM spans WHERE trace_id = ${lit(id)} AND start >= ${lit(first)} AND start <= ${lit(end)} ORDER BY start`);
    return { summary, spans: rows.map(spanOf) };
  }

  /** Several traces in two reads: their chunks, then their spans over the time those chunks span. */
  async getTraces(traceIds: TraceId[]): Promise<(TraceRecord | undefined)[]> {
    if (traceIds.length === 0) return [];
    const ids = [...new Set(traceIds.map((t) => BigInt.asUintN(64, t.low)))];
    const chunkRows = (await this.t.query(`SELECT * FROM chunks WHERE trace_id IN (${ids.map(lit).join(',')}) ORDER BY start`)).map(chunkOf);
    if (chunkRows.length === 0) return traceIds.map(() => undefined);
    const byTrace = new Map<bigint, ChunkRecord[]>();
    let first = chunkRows[0]!.start;
    let end = 0n;
    for (const r of chunkRows) {
      const k = BigInt.asUintN(64, r.trace_id);
      const list = byTrace.get(k);
      if (list) list.push(r);
      else byTrace.set(k, [r]);
      if (r.start < first) first = r.start;
      if (r.end > end) end = r.end;
    }
    const spans = new Map<bigint, SpanRecord[]>();
    const rows = await this.t.query(`SELECT * FROM spans WHERE trace_id IN (${[...byTrace.keys()].map(lit).join(',')}) AND start >= ${lit(first)} AND start <= ${lit(end)} ORDER BY start`);
    for (const r of rows) {
      const k = big(r['trace_id']);
      const list = spans.get(k);
      if (list) list.push(spanOf(r));
      else spans.set(k, [spanOf(r)]);
    }
    return traceIds.map((t) => {
      const k = BigInt.asUintN(64, t.low);
      const chunks = byTrace.get(k);
      if (!chunks) return undefined;
      const summary = summarizeChunks(chunks);
      if (t.high !== 0n && summary.traceId.high !== 0n && summary.traceId.high !== t.high) return undefined;
      return { summary, spans: spans.get(k) ?? [] };
    });
  }

  async searchTraces(q: TraceQuery): Promise<TraceSummaryRecord[]> {
    const c = new Conditions();
    if (q.start !== undefined) c.add('start >= ?', q.start, 'Int64');
    if (q.end !== undefined) c.add('start < ?', q.end, 'Int64');
    if (q.tag !== undefined) {
      const v = q.tag.value.toLowerCase();
      if (q.tag.key === TEXT_KEY) {
        // The n-gram index's expression first (it skips granules), then each field on its own.
        c.add('lowerUTF8(concat(resource, \' \', name, \' \', meta[\'error.message\'])) LIKE ?', `%${v.replace(/[\\%_]/g, (x) => `\\${x}`)}%`);
        c.add('(positionUTF8(lowerUTF8(resource), ?) > 0', v);
        c.parts[c.parts.length - 1] += ` OR positionUTF8(lowerUTF8(name), {p${Object.keys(c.params).length - 1}:String}) > 0 OR positionUTF8(lowerUTF8(meta['error.message']), {p${Object.keys(c.params).length - 1}:String}) > 0)`;
      } else {
        // The tag's meta value, or else its metric's decimal text, equal ignoring case: two
        // queries, so that each branch's skip index (values, metric keys) prunes its granules.
        const k = Object.keys(c.params).length;
        c.params[`p${k}`] = q.tag.key;
        c.params[`p${k + 1}`] = v;
        const inMeta = `has(arrayMap(x -> lowerUTF8(x), mapValues(meta)), {p${k + 1}:String}) AND lowerUTF8(meta[{p${k}:String}]) = {p${k + 1}:String}`;
        const inMetrics = `has(mapKeys(metrics), {p${k}:String}) AND NOT mapContains(meta, {p${k}:String}) AND lowerUTF8(toString(metrics[{p${k}:String}])) = {p${k + 1}:String}`;
        const range = c.where;
        const limit = Math.max(1, Math.floor(q.limit));
        const rows = await this.t.query<{ trace_id: string; last: string }>(
          `SELECT trace_id, max(last) AS last FROM (
             SELECT trace_id, max(start) AS last FROM spans ${range ? `${range} AND` : 'WHERE'} ${inMeta} GROUP BY trace_id ORDER BY last DESC LIMIT ${limit}
             UNION ALL
             SELECT trace_id, max(start) AS last FROM spans ${range ? `${range} AND` : 'WHERE'} ${inMetrics} GROUP BY trace_id ORDER BY last DESC LIMIT ${limit})
           GROUP BY trace_id ORDER BY last DESC LIMIT ${limit}`, c.params);
        return this.summariesOf(rows.map((r) => big(r.trace_id)));
      }
    } else {
      c.add('indexed = 1');
      if (q.service !== undefined) c.add('service = ?', q.service);
      if (q.env !== undefined) c.add('env = ?', q.env);
      if (q.resource !== undefined) c.add('resource = ?', q.resource);
      if (q.error !== undefined) c.add(q.error ? 'error = 1' : 'error = 0');
      if (q.name !== undefined) c.add('name = ?', q.name);
      if (q.minDurationNs !== undefined) c.add('duration >= ?', q.minDurationNs, 'Int64');
      if (q.maxDurationNs !== undefined) c.add('duration <= ?', q.maxDurationNs, 'Int64');
    }
    const rows = await this.t.query<{ trace_id: string; last: string }>(
      `SELECT trace_id, max(start) AS last FROM spans ${c.where} GROUP BY trace_id ORDER BY last DESC LIMIT ${Math.max(1, Math.floor(q.limit))}`, c.params);
    return this.summariesOf(rows.map((r) => big(r.trace_id)));
  }

  private async summariesOf(ids: bigint[]): Promise<TraceSummaryRecord[]> {
    if (ids.length === 0) return [];
    return summarizeTraces((await this.t.query(`SELECT * FROM chunks WHERE trace_id IN (${ids.map(lit).join(',')}) ORDER BY start`)).map(chunkOf));
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    if (rows.length === 0) return;
    // One stats write at a time: the slots this writer grows are read and replaced in order.
    const run = this.statsChain.then(() => this.insertStats(rows));
    this.statsChain = run.catch(() => undefined);
    await run;
  }

  private async insertStats(rows: StatsRow[]): Promise<void> {
    const encoded = encodeSketches(rows);
    await this.t.insert('stats', encoded.map((r) => ({
      start: r.start.toString(), duration: r.durationNs.toString(), service: r.service, name: r.name, resource: r.resource, type: r.type, env: r.env,
      version: r.version, http_status_code: r.httpStatusCode, span_kind: r.spanKind, is_trace_root: r.isTraceRoot ? 1 : 0, synthetics: r.synthetics ? 1 : 0,
      peer_tags: r.peerTags.join(','), hits: r.hits, top_level_hits: r.topLevelHits, errors: r.errors, total_duration: r.totalDuration,
      ok_sketch: Buffer.from(r.okSketch).toString('base64'), error_sketch: Buffer.from(r.errorSketch).toString('base64'), source: r.source,
    })));
    const now = BigInt(Date.now()) * 1_000_000n;
    const changed: Grown<{ width: bigint; slot: bigint; row: ServiceStatsRow }>[] = [];
    for (const x of foldIntoSlots(encoded)) {
      const k = slotKey(x);
      const have = this.serviceRows.get(k);
      if (have) addServiceStats(have.value.row, x.row);
      else this.serviceRows.set(k, { value: x, writer: `${this.writer}:${this.generation}`, end: x.slot + x.width });
      changed.push(this.serviceRows.get(k)!);
    }
    const ver = this.version();
    await this.t.insert('service_rollup', changed.map(({ value: { width, slot, row }, writer }) => {
      const ok = sketchBins(row.okSketch);
      const err = sketchBins(row.errorSketch);
      return {
        width: width.toString(), slot: slot.toString(), writer, service: row.service, env: row.env, name: row.name, version: row.version, type: row.type,
        top_level_hits: row.topLevelHits, hits: row.hits, errors: row.errors, total_duration: row.totalDuration,
        ok_pos: ok.pos, ok_neg: ok.neg, ok_zero: ok.zero, err_pos: err.pos, err_neg: err.neg, err_zero: err.zero,
        last_seen: row.lastSeen.toString(), first_seen: row.firstSeen.toString(), ver,
      };
    }));
    this.forget(this.serviceRows, now);
  }

  /** Lets go of rows whose slots ended long ago; a late count for one starts a row of a new generation. */
  private forget<T>(rows: Map<string, Grown<T>>, now: bigint): void {
    let gone = false;
    for (const [k, g] of rows) if (g.end < now - KEEP_SLOTS_NS) { rows.delete(k); gone = true; }
    if (gone) this.generation++;
  }

  async queryStats(q: StatsQuery): Promise<StatsRow[]> {
    const c = new Conditions().add('start >= ?', q.start, 'Int64').add('start < ?', q.end, 'Int64');
    for (const [column, v] of [['service', q.service], ['env', q.env], ['version', q.version], ['resource', q.resource], ['name', q.name]] as const) {
      if (v !== undefined) c.add(`${column} = ?`, v);
    }
    if (q.topLevel) c.add('top_level_hits > 0');
    const { columns, groupBy } = statsSelect(q, (col) => `max(${col})`);
    const rows = await this.t.query(`SELECT ${columns} FROM stats ${c.where} ${groupBy} ORDER BY ${groupBy ? 'min(start)' : 'start'} SETTINGS prefer_column_name_to_alias = 1`, c.params);
    return rows.map(statsOf);
  }

  /** Whole slots from the rollup (every writer's rows, the newest of each), the ragged ends from the 10-s rows, merged. */
  async serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> {
    await this.statsChain;
    const { slots, raw } = coverRange(range.start, range.end);
    const out: ServiceStatsRow[] = [];
    for (const [from, to] of raw) {
      const rows = await this.t.query(
        `SELECT service, env, name, version, type, top_level_hits, hits, errors, total_duration, ok_sketch, error_sketch, start + duration AS last_seen, start
         FROM stats WHERE start >= ${lit(from)} AND start < ${lit(to)} AND top_level_hits > 0`);
      for (const r of rows) out.push(serviceStatsFromColumns(withSketches(r), big(r['last_seen']), big(r['start'])));
    }
    if (slots.length > 0) {
      // Every slot of the range and every writer's row summed by ClickHouse, sketches too: a row a group.
      const rows = await this.t.query<Record<string, unknown>>(
        `SELECT service, env, name, version, max(type) AS type, sum(top_level_hits) AS top_level_hits, sum(hits) AS hits, sum(errors) AS errors,
                sum(total_duration) AS total_duration, sumMap(ok_pos) AS ok_pos, sumMap(ok_neg) AS ok_neg, sum(ok_zero) AS ok_zero,
                sumMap(err_pos) AS err_pos, sumMap(err_neg) AS err_neg, sum(err_zero) AS err_zero, max(last_seen) AS last_seen, min(first_seen) AS first_seen
         FROM service_rollup FINAL WHERE ${slots.map((x) => `(width = ${lit(x.width)} AND slot >= ${lit(x.from)} AND slot < ${lit(x.to)})`).join(' OR ')}
         GROUP BY service, env, name, version SETTINGS prefer_column_name_to_alias = 1`);
      for (const r of rows) {
        out.push({
          service: r['service'] as string, env: r['env'] as string, name: r['name'] as string, version: r['version'] as string, type: r['type'] as string,
          topLevelHits: Number(r['top_level_hits']), hits: Number(r['hits']), errors: Number(r['errors']), totalDuration: Number(r['total_duration']),
          okSketch: sketchFromBins({ pos: r['ok_pos'] as Record<string, number>, neg: r['ok_neg'] as Record<string, number>, zero: Number(r['ok_zero']) }),
          errorSketch: sketchFromBins({ pos: r['err_pos'] as Record<string, number>, neg: r['err_neg'] as Record<string, number>, zero: Number(r['err_zero']) }),
          lastSeen: big(r['last_seen']), firstSeen: big(r['first_seen']),
        });
      }
    }
    return mergeServiceStats(out);
  }

  async readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]> {
    // This agent's own counts first (other agents' reach the table within a second).
    await this.flush(true);
    if (width !== undefined) {
      const rows = await this.t.query<{ key: string; data: string; slot: string }>(
        `SELECT key, data, slot FROM trace_rollup FINAL WHERE kind = {k:String} AND width = ${lit(width)} AND slot >= ${lit(floorTo(range.start, width))} AND slot < ${lit(range.end)}`, { k: kind });
      return mergeBySlotAndKey(rows.map((r) => ({ key: r.key, data: JSON.parse(r.data) as RollupData, slot: big(r.slot) })));
    }
    const slots = rollupSlots(range.start, range.end);
    if (slots.length === 0) return [];
    const rows = await this.t.query<{ key: string; data: string }>(
      `SELECT key, data FROM trace_rollup FINAL WHERE kind = {k:String} AND (${slots.map((x) => `(width = ${lit(x.width)} AND slot >= ${lit(x.from)} AND slot < ${lit(x.to)})`).join(' OR ')})`, { k: kind });
    return mergeByKey(rows.map((r) => ({ key: r.key, data: JSON.parse(r.data) as RollupData })));
  }

  /** Writes the rollup rows counted since the last flush, and meets the halves that waited here long enough (all with `all`). */
  flush(all: boolean, expire = false): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeRollups(all, expire), () => this.writeRollups(all, expire));
    return this.flushing;
  }

  /** `expire`: client halves past their wait become calls to their leaves (maintenance, with retention). */
  private async writeRollups(all: boolean, expire: boolean): Promise<void> {
    const now = BigInt(Date.now()) * 1_000_000n;
    const halves = this.waiting.shiftOlderThan(all ? undefined : now - BigInt(HALF_LOCAL_MS) * 1_000_000n);
    const rows = [...this.pendingRows.values()];
    this.pendingRows.clear();
    try {
      const edges = await this.meetRemote(halves, now, expire);
      await this.growTraceRows([...rows, ...edges], now);
    } catch (err) {
      // Kept for the next try: counts are late, not lost.
      sumRollups(this.pendingRows, rows);
      sumRollups(this.pendingRows, meetWaiting(this.waiting, halves, Number.POSITIVE_INFINITY));
      throw err;
    }
  }

  /**
   * Halves beyond this agent: server sides go to call_halves for the agent of their client side;
   * client sides (new ones, and those waiting) meet server sides there, each met call counted by
   * the client's agent alone; a client side past HALF_TTL_NS is a call to its leaf.
   */
  private async meetRemote(halves: Half[], now: bigint, expire: boolean): Promise<RollupRow[]> {
    const servers = halves.filter((h) => h.side === 'server');
    // New client sides look once; those waiting look again at maintenance (every retention pass).
    const fresh = halves.filter((h) => h.side === 'client');
    const clients = expire ? [...this.remote, ...fresh] : fresh;
    if (servers.length > 0) {
      await this.t.insert('call_halves', servers.map((h) => ({ trace_id: u64(h.traceId), span_id: u64(h.spanId), side: 'server', writer: this.writer, at: h.at.toString(), data: JSON.stringify(h.data) })));
    }
    if (clients.length === 0) return [];
    const server = new Map<string, HalfData>();
    // A thousand calls a query: the ids are written in it, and a query is bounded (max_query_size).
    for (let i = 0; i < clients.length; i += 1000) {
      const tuples = clients.slice(i, i + 1000).map((h) => `(${lit(BigInt.asUintN(64, h.traceId))},${lit(BigInt.asUintN(64, h.spanId))})`).join(',');
      const met = await this.t.query<{ trace_id: string; span_id: string; data: string }>(
        `SELECT trace_id, span_id, any(data) AS data FROM call_halves WHERE side = 'server' AND (trace_id, span_id) IN (${tuples})
           AND (trace_id, span_id) NOT IN (SELECT trace_id, span_id FROM call_halves_gone WHERE (trace_id, span_id) IN (${tuples}))
         GROUP BY trace_id, span_id`);
      for (const m of met) server.set(`${m.trace_id}:${m.span_id}`, JSON.parse(m.data) as HalfData);
    }
    const edges: RollupRow[] = [];
    const gone: Half[] = [];
    const still: Half[] = [];
    const expired: HalfData[] = [];
    for (const h of clients) {
      const s = server.get(`${BigInt.asUintN(64, h.traceId)}:${BigInt.asUintN(64, h.spanId)}`);
      if (s) { edges.push(...pairedEdge(h.data, s)); gone.push(h); } else if (expire && h.at < now - HALF_TTL_NS) { expired.push(h.data); gone.push(h); } else still.push(h);
    }
    edges.push(...expiredEdges(expired));
    if (gone.length > 0) await this.t.insert('call_halves_gone', gone.map((h) => ({ trace_id: u64(h.traceId), span_id: u64(h.spanId), at: now.toString() })));
    this.remote = expire ? still : [...this.remote, ...still];
    return edges;
  }

  private async growTraceRows(rows: RollupRow[], now: bigint): Promise<void> {
    if (rows.length === 0) return;
    const changed = new Set<Grown<RollupRow>>();
    for (const r of rows) {
      const k = rollupRowKey(r);
      const have = this.traceRows.get(k);
      if (have) have.value = { ...have.value, data: mergeRollupData(have.value.data, r.data) };
      else this.traceRows.set(k, { value: r, writer: `${this.writer}:${this.generation}`, end: r.slot + r.width });
      changed.add(this.traceRows.get(k)!);
    }
    const ver = this.version();
    await this.t.insert('trace_rollup', [...changed].map(({ value: r, writer }) => ({
      width: r.width.toString(), slot: r.slot.toString(), kind: r.kind, key: r.key, writer, data: JSON.stringify(r.data), ver,
    })));
    this.forget(this.traceRows, now);
  }

  /**
   * Days wholly before the cutoff are dropped as partitions (spans, chunks, stats, halves): no row
   * is deleted; data stays until its whole day is past the retention. The rollups' slots that ended
   * before the cutoff go (a few rows a minute). Age only: the size of a cluster's store is the
   * cluster's to bound (ClickHouse's own storage policies).
   */
  async enforceRetention(olderThan: bigint): Promise<RetentionResult> {
    await this.flush(true, true);
    const parts = await this.t.query<{ table: string; partition_id: string; rows: string }>(
      `SELECT table, partition_id, sum(rows) AS rows FROM system.parts WHERE database = currentDatabase() AND active
         AND table IN ('spans', 'chunks', 'stats', 'call_halves', 'call_halves_gone') GROUP BY table, partition_id`);
    let deletedSpans = 0;
    for (const p of parts) {
      const day = BigInt(p.partition_id);
      if ((day + 1n) * DAY_NS > olderThan) continue;
      if (p.table === 'spans') deletedSpans += Number(p.rows);
      await this.t.command(`ALTER TABLE ${p.table} DROP PARTITION ID '${day}'`);
    }
    for (const table of ['service_rollup', 'trace_rollup']) {
      const n = await this.t.query<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE slot + width <= ${lit(olderThan)}`);
      if (Number(n[0]?.n ?? 0) > 0) await this.t.command(`DELETE FROM ${table} WHERE slot + width <= ${lit(olderThan)}`);
    }
    return { deletedSpans, reason: deletedSpans > 0 ? 'age' : 'none' };
  }

  async diskUsage(): Promise<number> {
    const rows = await this.t.query<{ bytes: string }>('SELECT sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = currentDatabase() AND active');
    return Number(rows[0]?.bytes ?? 0);
  }

  async stats(): Promise<StoreStats> {
    const rows = await this.t.query<{ spans: string; payloads: string }>('SELECT count() AS spans, countIf(payload_first = 1) AS payloads FROM spans');
    return { diskBytes: await this.diskUsage(), spans: Number(rows[0]?.spans ?? 0), payloads: Number(rows[0]?.payloads ?? 0) };
  }

  async setErrorStatus(group: string, status: ErrorStatus, at: bigint): Promise<void> {
    await this.t.insert('error_status', [{ group_id: group, status, changed_at: at.toString() }]);
  }

  async errorStatuses(): Promise<ErrorStatusRecord[]> {
    const rows = await this.t.query<{ group_id: string; status: ErrorStatus; changed_at: string }>('SELECT group_id, status, changed_at FROM error_status FINAL');
    return rows.map((r) => ({ group: r.group_id, status: r.status, changedAt: big(r.changed_at) }));
  }

  async setMonitorMute(monitor: string, until: bigint | null): Promise<void> {
    await this.t.insert('monitor_mute', [{ monitor, until: (until ?? 0n).toString(), deleted: until === null ? 1 : 0, ver: this.version() }]);
  }

  async monitorMutes(): Promise<{ monitor: string; until: bigint }[]> {
    const rows = await this.t.query<{ monitor: string; until: string }>('SELECT monitor, until FROM monitor_mute FINAL WHERE deleted = 0');
    return rows.map((r) => ({ monitor: r.monitor, until: big(r.until) }));
  }

  async saveMonitor(id: string, definition: string | null): Promise<void> {
    await this.t.insert('saved_monitors', [{ id, definition: definition ?? '', deleted: definition === null ? 1 : 0, ver: this.version() }]);
  }

  async savedMonitors(): Promise<{ id: string; definition: string }[]> {
    return this.t.query<{ id: string; definition: string }>('SELECT id, definition FROM saved_monitors FINAL WHERE deleted = 0 ORDER BY id');
  }

  async saveMonitorEvent(monitor: string, at: bigint, event: string): Promise<void> {
    await this.t.insert('monitor_events', [{ monitor, at: at.toString(), event, ver: this.version() }]);
  }

  /** Those within 30 days of the newest (older ones are gone, as the table's TTL takes them). */
  async monitorEvents(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]> {
    const rows = await this.t.query<{ monitor: string; at: string; event: string }>(
      `SELECT monitor, at, event FROM monitor_events FINAL WHERE at >= (SELECT max(at) FROM monitor_events) - ${30n * DAY_NS} ORDER BY at DESC LIMIT ${Math.max(0, Math.floor(limit))}`);
    return rows.map((r) => ({ monitor: r.monitor, at: big(r.at), event: r.event }));
  }

  async saveRemoteConfig(id: string, definition: string | null): Promise<void> {
    const have = await this.t.query<{ d: string | null; v: string }>('SELECT definition AS d, version AS v FROM remote_configs FINAL WHERE id = {id:String}', { id });
    if (definition === null && (have.length === 0 || have[0]!.d === null)) return;
    const top = await this.t.query<{ v: string }>('SELECT max(version) AS v FROM remote_configs');
    await this.t.insert('remote_configs', [{ id, definition, version: (big(top[0]?.v ?? 0) + 1n).toString() }]);
  }

  async remoteConfigs(): Promise<RemoteConfigRecords> {
    const rows = await this.t.query<{ id: string; definition: string | null; version: string }>('SELECT id, definition, version FROM remote_configs FINAL ORDER BY id');
    return {
      revision: rows.reduce((m, r) => Math.max(m, Number(r.version)), 0),
      configs: rows.flatMap((r) => (r.definition === null ? [] : [{ id: r.id, definition: r.definition, version: Number(r.version) }])),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true).catch(() => undefined);
    await this.t.close();
  }
}

/** A rollup or stats row with its base64 sketches as the bytes serviceStatsFromColumns reads. */
function withSketches(r: Record<string, unknown>): Record<string, unknown> {
  return { ...r, ok_sketch: Buffer.from(r['ok_sketch'] as string, 'base64'), error_sketch: Buffer.from(r['error_sketch'] as string, 'base64') };
}
