import type { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance } from 'fastify';
import { TraceIdParseError } from '@ecs-trace/protocol';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import { ERROR_STATUSES, StoreTimeoutError, StoreUnavailableError, type ErrorStatus, type ErrorStatusRecord, type ServiceStatsRow, type StatsQuery, type StoreStats, type StatsRow, type TraceReader, type RollupReader, type EdgeData, type ErrorData, SLOT_WIDTHS } from '../store/index.js';
import { groupBy, servicesFromStats, timeSeries } from './aggregate.js';
import type { ApiDependencies, ApiUiConfig, ApiInstances, ApiErrors, ApiHealth, ApiServiceMap, ApiServices, ApiStatsGroups, ApiStatsSeries, ApiTrace, ApiTraces, ApiSuggestions, ApiAnalytics, ApiFacets } from './api-types.js';
import { parseTraceIdParam, toApiSummary, toApiTrace } from './json.js';
import { errorGroupsOf } from './errors.js';
import { serviceMapOf } from './service-map.js';
import { serveLive } from './live.js';
import {
  errorsQuerySchema, flag, parseRange, QueryError, schemaErrorMessage, servicesQuerySchema, statsQuerySchema, suggestQuerySchema, analyticsQuerySchema, facetsQuerySchema, toSpanQuery, toStatsQuery, toTraceQuery,
  tracesQuerySchema, type ErrorsParams, type RangeParams, type StatsParams, type SuggestParams, type AnalyticsParams, type FacetsParams, type TracesParams,
} from './params.js';

import { indexedSpanMeets, parseSearchQuery, SearchSyntaxError } from './search-query.js';
import { decodeCursor, encodeCursor, walkSearch } from './search-walk.js';
import { indexConditions, planSearch } from './search-drivers.js';
import { Suggester } from './suggest.js';
import { spanAnalytics, spanFacets } from './analytics.js';
import { installAuth, type AuthOptions } from './auth.js';
import { hardenApi, type HardeningOptions } from './security.js';
import { serveUi } from './ui-static.js';
import { serveMonitors, type MonitorsSource } from './monitors-api.js';
import { serveRemoteConfig, type RemoteConfigSource } from './remote-config-api.js';
import type { DependencyUse, Instance } from '../telemetry/index.js';
import type { LogLink } from './log-links.js';

/*
 * The query API on 8127 (loopback by default): services, trace search, one trace, stats, live
 * view, health and the agent's metrics, and the web UI. Answers are typed in api-types.ts and
 * documented in the README's "Query API" table.
 */

export interface ApiOptions {
  /** Where stored chunks are announced (the pipeline), when intake runs. */
  live?: EventEmitter;
  /** The built web UI; undefined for the default location. */
  uiDir?: string;
  stats: { query(q: StatsQuery): Promise<StatsRow[]>; serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> };
  store: TraceReader & RollupReader;
  /** The store's size, for /healthz and /metrics: cheap, and never waits on a query. */
  storeStats: () => Promise<StoreStats>;
  /** How long one page of a trace search looks before it answers with where it stopped. */
  searchPageMs: number;
  /** Where the API listens and which Host names it answers to (security.ts). */
  hardening: HardeningOptions;
  /** The API token and its sessions (auth.ts); token undefined: none asked. */
  auth: AuthOptions;
  /** Proxies whose X-Forwarded-For and -Proto are believed (addresses or CIDRs); empty: none. */
  trustProxy?: readonly string[];
  metrics: AgentMetrics;
  /** Facts for /healthz beside the store's numbers, and whether the store is writing. */
  health: () => Omit<ApiHealth, 'status' | 'store' | 'problem'> & { store: { ok: boolean; status: string; problem?: string } };
  /** Where an answer the API could not give (a 500) is told, with its cause; throttled per route. */
  logOnce?: LogOnce;
  /** Error groups' statuses, kept by the store (absent: it keeps none, and setting one is a 501). */
  errorStatus?: { set(group: string, status: ErrorStatus, at: bigint): Promise<void>; all(): Promise<ErrorStatusRecord[]> };
  /** The monitors this process evaluates (absent: no monitors file). */
  monitors?: MonitorsSource;
  /** RED metrics of what this process counted, OpenMetrics text (stats/red-metrics.ts). */
  red?: () => string;
  /** Links from a span to the app's logs (log-links.ts), for the UI. */
  logLinks?: LogLink[];
  /** The tracer instances that sent their telemetry to this agent (absent: it takes no intake). */
  instances?: { list(filter: { service?: string; env?: string }): Instance[]; inventory(filter: { name?: string; version?: string }): DependencyUse[] };
  /** The tracing settings served to tracers (absent: the store keeps none). */
  remoteConfig?: RemoteConfigSource;
}

/** Library versions listed at most in one answer; `total` says how many matched. */
const MAX_DEPENDENCIES = 500;

/** A range with its ends filled in: from the beginning, to an hour from now (clocks drift). */
function wholeRange(range: { start?: bigint; end?: bigint }): { start: bigint; end: bigint } {
  return { start: range.start ?? 0n, end: range.end ?? (BigInt(Date.now()) + 3_600_000n) * 1_000_000n };
}

/** What `p` gives within `ms`; undefined when it fails or takes longer (a store that is down or slow). */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
}

/** A route the API serves, as registered: what the route walk and the README's table check. */
export interface ApiRoute { method: string; url: string; public: boolean }

const routesOf = new WeakMap<FastifyInstance, ApiRoute[]>();

/** Every route of an API that buildApi made. */
export function apiRoutes(app: FastifyInstance): readonly ApiRoute[] {
  return routesOf.get(app) ?? [];
}

export function buildApi({ store, storeStats, stats, metrics, health, live, uiDir, searchPageMs, hardening, auth, trustProxy, logOnce, errorStatus, monitors, red, instances, logLinks, remoteConfig }: ApiOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    // The value and its schema on each validation error, so the 400 can name both.
    ajv: { customOptions: { verbose: true } },
    schemaErrorFormatter: (errors) => new QueryError(schemaErrorMessage(errors)),
    // Behind a load balancer, the client's address (sign-in limits) and whether it came over TLS
    // (the cookie's Secure) are in headers that only a trusted proxy may set.
    ...(trustProxy && trustProxy.length > 0 ? { trustProxy: [...trustProxy] } : {}),
  });

  const routes: ApiRoute[] = [];
  routesOf.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, public: r.config?.public === true });
  });

  hardenApi(app, hardening);
  const authorized = installAuth(app, auth);

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof QueryError || err instanceof TraceIdParseError || err instanceof SearchSyntaxError) {
      void reply.code(400).send({ error: err.message });
      return;
    }
    if (err instanceof StoreTimeoutError || err instanceof StoreUnavailableError) {
      void reply.code(503).send({ error: err.message });
      return;
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    // The caller learns nothing of the inside; the operator learns all of it.
    if (status === 500) logOnce?.error(`api-500:${req.routeOptions.url ?? ''}`, { err, route: req.routeOptions.url }, 'a query API call failed: it was answered 500');
    void reply.code(status).send({ error: status === 500 ? 'internal error' : (err as Error).message });
  });

  // 503 while the store cannot write (a full disk, say), so load balancers and people see it.
  app.get('/healthz', { config: { public: true } }, async (req, reply): Promise<ApiHealth | Pick<ApiHealth, 'status'>> => {
    const { store: state, ...facts } = health();
    if (!state.ok) void reply.code(503);
    // Without the token, a load balancer learns whether the agent is well, and nothing else.
    if (!authorized(req)) return { status: state.ok ? 'ok' : 'error' };
    // The sizes when the store gives them at once; a store that is down or slow leaves them out.
    const sizes = await within(storeStats(), 500);
    const body: ApiHealth = { status: state.ok ? 'ok' : 'error', ...facts, store: { ...sizes, status: state.status } };
    if (state.problem !== undefined) body.problem = state.problem;
    return body;
  });

  app.get('/metrics', async (_req, reply) => {
    // A shared store that is down must not take /metrics with it (the spool's growth is shown
    // there): the last known size stays, and the store gets 2 s to answer.
    const size = (await within(storeStats(), 2000))?.diskBytes;
    if (size !== undefined) metrics.diskBytes.set(size);
    void reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.registry.render();
  });

  // A service's tracer instances, as their telemetry describes them (the ones reporting to this agent).
  app.get<{ Params: { service: string }; Querystring: { env?: string } }>('/api/v1/services/:service/instances', { schema: { querystring: { type: 'object', properties: { env: { type: 'string' } }, additionalProperties: false } } },
    async (req): Promise<ApiInstances> => ({
      kept: instances !== undefined,
      instances: instances?.list({ service: req.params.service, ...(req.query.env ? { env: req.query.env } : {}) }) ?? [],
    }));

  serveRemoteConfig(app, remoteConfig);

  // The dependency inventory: which services run a library, at which version (from the tracers' telemetry).
  app.get<{ Querystring: { name?: string; version?: string } }>('/api/v1/dependencies', { schema: { querystring: { type: 'object', properties: { name: { type: 'string', maxLength: 200 }, version: { type: 'string', maxLength: 100 } }, additionalProperties: false } } },
    async (req): Promise<ApiDependencies> => {
      const all = instances?.inventory({ ...(req.query.name ? { name: req.query.name } : {}), ...(req.query.version ? { version: req.query.version } : {}) }) ?? [];
      return { kept: instances !== undefined, total: all.length, dependencies: all.slice(0, MAX_DEPENDENCIES) };
    });

  // What the UI needs of the agent's settings: the log links' templates.
  app.get('/api/v1/ui-config', async (): Promise<ApiUiConfig> => ({ logLinks: logLinks ?? [] }));

  app.get('/metrics/red', async (_req, reply) => {
    void reply.type('application/openmetrics-text; version=1.0.0; charset=utf-8');
    return red ? red() : '# EOF\n';
  });

  app.get<{ Querystring: RangeParams }>('/api/v1/services', { schema: { querystring: servicesQuerySchema } }, async (req): Promise<ApiServices> => {
    return { services: servicesFromStats(await stats.serviceStats(wholeRange(parseRange(req.query)))) };
  });

  app.get<{ Querystring: StatsParams }>('/api/v1/stats', { schema: { querystring: statsQuerySchema } }, async (req): Promise<ApiStatsSeries | ApiStatsGroups> => {
    const { query, stepNs, groupBy: field } = toStatsQuery(req.query, BigInt(Date.now()) * 1_000_000n);
    const rows = await stats.query(query);
    if (field) return { groupBy: field, groups: groupBy(rows, field) };
    return { step: Number(stepNs / 1_000_000_000n), points: timeSeries(rows, query.start, query.end, stepNs) };
  });

  app.get<{ Querystring: TracesParams }>('/api/v1/traces', { schema: { querystring: tracesQuerySchema } }, async (req): Promise<ApiTraces> => {
    const query = toTraceQuery(req.query);
    const search = parseSearchQuery(req.query.q ?? '');
    const range = wholeRange(query);
    const terms = search.terms;
    const conditions = indexConditions({ ...query, ...search.index });
    const resumed = req.query.cursor ? decodeCursor(req.query.cursor) : undefined;
    const plan = await planSearch(store, search, conditions, range, resumed?.driver);
    // Past its time the page answers with what it found and where it stopped, never a 503.
    const result = await walkSearch({
      query: { ...conditions, ...range, limit: query.limit },
      candidates: plan.candidates,
      ...(plan.matches ? { matches: plan.matches } : {}),
      ...(resumed ? { cursor: resumed.cursor } : {}),
      deadline: Date.now() + searchPageMs,
    });
    const summaries = result.traces.map(toApiSummary);
    if (flag(req.query.matched)) {
      // The span each trace was found by, read from the trace itself (a page's worth: the resource page's 50).
      await Promise.all(result.traces.map(async (t, i) => {
        const trace = await store.getTrace(t.traceId);
        const m = trace?.spans.find((r) => indexedSpanMeets(r, conditions))?.span;
        summaries[i]!.matched = m ? { spanId: m.spanId.toString(16).padStart(16, '0'), service: m.service, name: m.name, resource: m.resource, start: m.start.toString(), duration: m.duration, error: m.error } : null;
      }));
    }
    return {
      traces: summaries, complete: result.complete, searchedFrom: result.searchedFrom.toString(),
      ...(result.cursor ? { cursor: encodeCursor(result.cursor, plan.driver) } : {}),
      ...(terms.length > 0 ? { scanned: result.checked } : {}),
    };
  });

  const suggester = new Suggester(store, (r) => stats.serviceStats(r));
  app.get<{ Querystring: SuggestParams }>('/api/v1/search/suggest', { schema: { querystring: suggestQuerySchema } }, async (req): Promise<ApiSuggestions> => {
    const search = parseSearchQuery(req.query.q ?? '');
    const query = { ...toSpanQuery(req.query), ...search.index };
    return suggester.suggest({ search, query, range: wholeRange(query), ...(req.query.key ? { key: req.query.key } : {}), prefix: req.query.prefix ?? '' });
  });

  app.get<{ Querystring: AnalyticsParams }>('/api/v1/analytics', { schema: { querystring: analyticsQuerySchema } }, async (req): Promise<ApiAnalytics> => {
    const search = parseSearchQuery(req.query.q ?? '');
    const query = { ...toSpanQuery(req.query), ...search.index };
    return spanAnalytics({ store, search, query, range: wholeRange(query), groupBy: req.query.groupBy, deadline: Date.now() + searchPageMs });
  });

  app.get<{ Querystring: FacetsParams }>('/api/v1/facets', { schema: { querystring: facetsQuerySchema } }, async (req): Promise<ApiFacets> => {
    const search = parseSearchQuery(req.query.q ?? '');
    const query = { ...toSpanQuery(req.query), ...search.index };
    return spanFacets({ store, search, query, range: wholeRange(query), keys: req.query.keys.split(','), deadline: Date.now() + searchPageMs });
  });

  // The service map and the error groups of a range, from the store's rollups (to the minute).
  app.get<{ Querystring: ErrorsParams }>('/api/v1/service-map', { schema: { querystring: errorsQuerySchema } }, async (req): Promise<ApiServiceMap> => {
    const r = wholeRange(parseRange(req.query));
    const [edges, services] = await Promise.all([store.readRollups('edge', r), stats.serviceStats(r)]);
    return serviceMapOf(edges.map((e) => e.data as EdgeData), servicesFromStats(services), req.query.env);
  });

  app.get<{ Querystring: ErrorsParams }>('/api/v1/errors', { schema: { querystring: errorsQuerySchema } }, async (req): Promise<ApiErrors> => {
    const asked = parseRange(req.query);
    const r = wholeRange(asked);
    // Counts over time in the finest slots that give at most 60 steps (a day without a start: the last one).
    const from = asked.start ?? (asked.end ?? BigInt(Date.now()) * 1_000_000n) - 86_400_000_000_000n;
    const width = [...SLOT_WIDTHS].reverse().find((w) => (r.end - from) / w <= 60n) ?? SLOT_WIDTHS[0];
    const first = from - (((from % width) + width) % width);
    const steps = Number((r.end - first + width - 1n) / width);
    const [rows, slots] = await Promise.all([store.readRollups('error', r), store.readRollups('error', { start: first, end: r.end }, width)]);
    const filter = { ...(req.query.service ? { service: req.query.service } : {}), ...(req.query.env ? { env: req.query.env } : {}), ...(req.query.version !== undefined ? { version: req.query.version } : {}) };
    const statuses = new Map((await (errorStatus?.all() ?? Promise.resolve([]))).map((r) => [r.group, r]));
    const groups = errorGroupsOf(rows as { key: string; data: ErrorData }[], filter, { rows: slots as { key: string; data: ErrorData; slot: bigint }[], first, width, steps }, statuses);
    return { groups: req.query.status ? groups.filter((g) => g.status === req.query.status) : groups };
  });

  // What people decide of an error group, for every replica: open, resolved (open again when it
  // comes back), ignored.
  app.put<{ Params: { group: string }; Body: { status?: unknown } }>('/api/v1/errors/:group/status', async (req, reply) => {
    if (!/^[0-9a-f]{16}$/.test(req.params.group)) throw new QueryError(`group: "${req.params.group.slice(0, 40)}" is not an error group's id (16 hex digits)`);
    const status = req.body?.status;
    if (typeof status !== 'string' || !(ERROR_STATUSES as readonly string[]).includes(status)) throw new QueryError(`status: give one of ${ERROR_STATUSES.join(', ')}`);
    if (!errorStatus) return reply.code(501).send({ error: 'this store keeps no error statuses' });
    const at = BigInt(Date.now()) * 1_000_000n;
    await errorStatus.set(req.params.group, status as ErrorStatus, at);
    return { group: req.params.group, status, statusChangedAt: Number(at / 1_000_000n) };
  });

  app.get<{ Params: { traceId: string } }>('/api/v1/traces/:traceId', async (req, reply): Promise<ApiTrace> => {
    const { traceId } = req.params;
    const trace = await store.getTrace(parseTraceIdParam(traceId));
    if (trace === undefined) return reply.code(404).send({ error: `trace ${traceId} not found` });
    return toApiTrace(trace);
  });

  serveMonitors(app, monitors);
  serveLive(app, live);
  serveUi(app, uiDir);
  return app;
}
