import type { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance } from 'fastify';
import type { LiveChunk } from './pipeline.js';
import { serveUi } from './ui-static.js';
import { parseTraceId, TraceIdParseError } from '@ecs-trace/protocol';
import type { AgentMetrics } from './metrics.js';
import type { StatsQuery, TraceQuery, TraceStore } from './store/store.js';
import { GROUP_FIELDS, groupBy, timeSeries, type GroupField } from './stats/aggregate.js';
import type { StatsService } from './stats/stats-service.js';
import { parseSearchQuery, SearchSyntaxError, traceMatches } from './search-query.js';

/*
 * The query API on 8127 (loopback by default): services, trace search, one trace, health and the
 * agent's metrics. Times in and out are documented in docs/api.md: ids as hex, span times in ns.
 */

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

const MAX_LIMIT = 1000;

/** A time as epoch milliseconds or an ISO 8601 date; returned in ns. */
export function parseTime(name: string, raw: string | undefined): bigint | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return BigInt(raw) * 1_000_000n;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new QueryError(`${name}: "${raw}" is not a time; use epoch milliseconds or an ISO 8601 date`);
  return BigInt(ms) * 1_000_000n;
}

function parseBool(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new QueryError(`${name}: "${raw}" is not true or false`);
}

function parseNumber(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new QueryError(`${name}: "${raw}" is not a number from ${min} to ${max}`);
  return n;
}

type Query = Record<string, string | undefined>;

export function parseTraceQuery(q: Query): TraceQuery {
  const minDurationMs = parseNumber('minDurationMs', q['minDurationMs'], 0, 1e12);
  const maxDurationMs = parseNumber('maxDurationMs', q['maxDurationMs'], 0, 1e12);
  const query: TraceQuery = { limit: parseNumber('limit', q['limit'], 1, MAX_LIMIT) ?? 50 };
  if (q['name']) query.name = q['name'];
  if (maxDurationMs !== undefined) query.maxDurationNs = Math.round(maxDurationMs * 1e6);
  if (q['service']) query.service = q['service'];
  if (q['env']) query.env = q['env'];
  if (q['resource']) query.resource = q['resource'];
  const error = parseBool('error', q['error']);
  if (error !== undefined) query.error = error;
  if (minDurationMs !== undefined) query.minDurationNs = Math.round(minDurationMs * 1e6);
  const start = parseTime('start', q['start']);
  const end = parseTime('end', q['end']);
  if (start !== undefined) query.start = start;
  if (end !== undefined) query.end = end;
  if (start !== undefined && end !== undefined && end <= start) throw new QueryError('end must be after start');
  return query;
}

const MAX_POINTS = 1500;

/** Parses a stats query; the default range is the last hour, the default step fits ~60 points. */
export function parseStatsQuery(q: Query, nowNs: bigint): { query: StatsQuery; stepNs: bigint; groupBy?: GroupField } {
  const end = parseTime('end', q['end']) ?? nowNs;
  const start = parseTime('start', q['start']) ?? end - 3_600_000_000_000n;
  if (end <= start) throw new QueryError('end must be after start');
  const stepS = parseNumber('step', q['step'], 10, 86_400 * 30);
  let stepNs = stepS !== undefined ? BigInt(Math.round(stepS)) * 1_000_000_000n : (end - start) / 60n;
  // Whole multiples of the 10-s buckets.
  stepNs = stepNs < 10_000_000_000n ? 10_000_000_000n : stepNs - (stepNs % 10_000_000_000n);
  if ((end - start) / stepNs > BigInt(MAX_POINTS)) throw new QueryError(`step: too small for this range (at most ${MAX_POINTS} points)`);
  const query: StatsQuery = { start, end };
  for (const k of ['service', 'env', 'resource', 'name'] as const) if (q[k]) query[k] = q[k];
  if (parseBool('topLevel', q['topLevel'])) query.topLevel = true;
  const g = q['groupBy'];
  if (g !== undefined && g !== '' && !(GROUP_FIELDS as readonly string[]).includes(g)) throw new QueryError(`groupBy: "${g}" is not one of ${GROUP_FIELDS.join(', ')}`);
  return { query, stepNs, ...(g ? { groupBy: g as GroupField } : {}) };
}

export interface ApiOptions {
  /** Where live chunks come from (the pipeline), when intake runs. */
  live?: EventEmitter;
  /** The built web UI; undefined for the default location. */
  uiDir?: string;
  stats: StatsService;
  store: TraceStore;
  metrics: AgentMetrics;
  /** Extra facts for /healthz (receiver address, version...). */
  health: () => Record<string, unknown>;
}

export function buildApi({ store, stats, metrics, health, live, uiDir }: ApiOptions): FastifyInstance {
  const app = Fastify({ logger: false });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof QueryError || err instanceof TraceIdParseError || err instanceof SearchSyntaxError) {
      void reply.code(400).send({ error: err.message });
      return;
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    void reply.code(status).send({ error: status === 500 ? 'internal error' : (err as Error).message });
  });

  app.get('/healthz', async () => ({ status: 'ok', ...health(), store: await store.stats() }));

  app.get('/metrics', async (_req, reply) => {
    metrics.diskBytes.set((await store.stats()).diskBytes);
    void reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.registry.render();
  });

  app.get('/api/v1/services', async (req) => {
    const q = req.query as Query;
    const start = parseTime('start', q['start']);
    const end = parseTime('end', q['end']);
    const range: { start?: bigint; end?: bigint } = {};
    if (start !== undefined) range.start = start;
    if (end !== undefined) range.end = end;
    return { services: await store.services(range) };
  });

  app.get('/api/v1/stats', async (req) => {
    const { query, stepNs, groupBy: field } = parseStatsQuery(req.query as Query, BigInt(Date.now()) * 1_000_000n);
    const rows = await stats.query(query);
    if (field) return { groupBy: field, groups: groupBy(rows, field) };
    return { step: Number(stepNs / 1_000_000_000n), points: timeSeries(rows, query.start, query.end, stepNs) };
  });

  app.get('/api/v1/traces', async (req) => {
    const q = req.query as Query;
    const query = parseTraceQuery(q);
    if (!q['q']) return { traces: await store.searchTraces(query) };
    const search = parseSearchQuery(q['q']);
    const merged: TraceQuery = { ...query, ...search.index };
    if (search.terms.length === 0) return { traces: await store.searchTraces(merged) };
    // Conditions on tags are checked on the spans of up to 5x the limit of candidates, newest first.
    const candidates = await store.searchTraces({ ...merged, limit: Math.min(MAX_LIMIT * 2, merged.limit * 5) });
    const traces = [];
    for (const c of candidates) {
      const t = await store.getTrace(c.traceId);
      if (t && traceMatches(t.spans, search.terms)) traces.push(c);
      if (traces.length >= merged.limit) break;
    }
    return { traces, scanned: candidates.length };
  });

  app.get('/api/v1/traces/:traceId', async (req, reply) => {
    const { traceId } = req.params as { traceId: string };
    const trace = await store.getTrace(parseTraceId(traceId));
    if (trace === undefined) return reply.code(404).send({ error: `trace ${traceId} not found` });
    return trace;
  });

  let liveClients = 0;
  app.get('/api/v1/live', (req, reply) => {
    if (!live) return reply.code(503).send({ error: 'intake is off (DD_APM_ENABLED=false): nothing arrives' });
    if (liveClients >= MAX_LIVE_CLIENTS) return reply.code(429).send({ error: `at most ${MAX_LIVE_CLIENTS} live views at once` });
    liveClients++;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(': connected\n\n');
    let dropped = 0;
    const onChunks = (chunks: LiveChunk[]) => {
      // A slow viewer loses events rather than growing the agent's memory.
      if (res.writableLength > 256 * 1024) { dropped += chunks.length; return; }
      if (dropped > 0) { res.write(`event: dropped\ndata: ${dropped}\n\n`); dropped = 0; }
      res.write(`data: ${JSON.stringify(chunks)}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    live.on('chunks', onChunks);
    req.raw.on('close', () => {
      clearInterval(heartbeat);
      live.off('chunks', onChunks);
      liveClients--;
    });
    return reply;
  });

  serveUi(app, uiDir);
  return app;
}

const MAX_LIVE_CLIENTS = 20;
