import Fastify, { type FastifyInstance } from 'fastify';
import { parseTraceId, TraceIdParseError } from '@ecs-trace/protocol';
import type { AgentMetrics } from './metrics.js';
import type { StatsQuery, TraceQuery, TraceStore } from './store/store.js';
import { GROUP_FIELDS, groupBy, timeSeries, type GroupField } from './stats/aggregate.js';
import type { StatsService } from './stats/stats-service.js';

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
  const query: TraceQuery = { limit: parseNumber('limit', q['limit'], 1, MAX_LIMIT) ?? 50 };
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
  const g = q['groupBy'];
  if (g !== undefined && g !== '' && !(GROUP_FIELDS as readonly string[]).includes(g)) throw new QueryError(`groupBy: "${g}" is not one of ${GROUP_FIELDS.join(', ')}`);
  return { query, stepNs, ...(g ? { groupBy: g as GroupField } : {}) };
}

export interface ApiOptions {
  stats: StatsService;
  store: TraceStore;
  metrics: AgentMetrics;
  /** Extra facts for /healthz (receiver address, version...). */
  health: () => Record<string, unknown>;
}

export function buildApi({ store, stats, metrics, health }: ApiOptions): FastifyInstance {
  const app = Fastify({ logger: false });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof QueryError || err instanceof TraceIdParseError) {
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

  app.get('/api/v1/traces', async (req) => ({ traces: await store.searchTraces(parseTraceQuery(req.query as Query)) }));

  app.get('/api/v1/traces/:traceId', async (req, reply) => {
    const { traceId } = req.params as { traceId: string };
    const trace = await store.getTrace(parseTraceId(traceId));
    if (trace === undefined) return reply.code(404).send({ error: `trace ${traceId} not found` });
    return trace;
  });

  return app;
}
