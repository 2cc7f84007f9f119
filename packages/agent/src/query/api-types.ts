import type { DependencyUse, Instance } from '../telemetry/index.js';
import type { RemoteConfigClient, TracingSettings } from '../remote-config/index.js';

/*
 * The query API's answers, declared once: the server builds them (json.ts) and the web UI reads
 * them (`import type ... from '@ecs-trace/agent/api-types'`). Ids are lower-case hex (trace ids
 * 32 characters, span ids 16); times are ns since the epoch, as decimal strings where they exceed
 * 2^53. This file holds types only, so the UI's bundle takes nothing from the agent.
 */

export interface ApiError {
  error: string;
}

/** A service and its requests over the range, from the stats (exact whatever was sampled away). */
export interface ApiService {
  service: string;
  env: string;
  type: string;
  /** The primary operation: the span name with the most entry (top-level) spans. */
  operation: string;
  /** Requests: entry spans of the primary operation. */
  hits: number;
  errors: number;
  /** ns since the epoch, decimal: the end of the last stats bucket with a request. */
  lastSeen: string;
  /**
   * ns since the epoch, decimal: the start of the first stats bucket with a request in the range
   * (10 s; a rollup slot's start, to its width, for the range's whole older slots).
   */
  firstSeen: string;
  /** Latency of the requests, ns (null without any). */
  avgDuration: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  versions: string[];
}

export interface ApiServices {
  services: ApiService[];
}

export interface ApiTraceSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  rootResource: string;
  /** ns since the epoch, decimal. */
  start: string;
  /** ns. */
  duration: number;
  spanCount: number;
  errorCount: number;
  services: string[];
  env: string;
  incomplete: boolean;
  /**
   * With `matched=true`: the span of the trace that met the query's service, resource, name,
   * error and duration conditions (the first by start; null when no stored span of it does, say a
   * trace whose spans are past retention).
   */
  matched?: { spanId: string; service: string; name: string; resource: string; start: string; duration: number; error: number } | null;
}

/**
 * A page of a trace search (query/search-walk.ts). `complete`: the whole range was searched, these
 * are all the matches (with the pages before). Else every match from `searchedFrom` to the
 * range's end is in this page or those before it, and `cursor` (passed back as `cursor=`) gives
 * the next page; a trace whose matches straddle two pages can be on both.
 */
export interface ApiTraces {
  traces: ApiTraceSummary[];
  complete: boolean;
  /** ns since the epoch, as a decimal string. */
  searchedFrom: string;
  cursor?: string;
  /** With tag conditions: how many candidate traces this page checked. */
  scanned?: number;
}

/** Autocomplete for the search box (GET /api/v1/search/suggest). */
export interface ApiSuggestions {
  /** The key whose values these are; absent: these are keys. */
  key?: string;
  /** The most frequent first; those starting with the prefix before those holding it. At most 20. */
  suggestions: { text: string; count: number }[];
  /**
   * `stats`: counts of service entry spans over the whole range (service and env), exact.
   * `sample`: counts of spans in the newest matching traces (`sampled`).
   */
  basis: 'stats' | 'sample';
  /** What a sample covered: `complete` when its traces are every match in the range. */
  sampled?: { traces: number; spans: number; complete: boolean };
}

/** Span analytics (GET /api/v1/analytics): the spans a query selects, grouped by a field or tag. */
export interface ApiAnalytics {
  groupBy: string;
  /** The most spans first, at most 20; `key` '' for spans without the tag. Durations in ns. */
  groups: { key: string; count: number; errors: number; p50: number | null; p95: number | null; p99: number | null }[];
  /** Groups beyond those listed. */
  otherGroups: number;
  /** Spans per step from `start` (ns, decimal), for the 10 largest groups. */
  series: { start: string; stepNs: string; counts: Record<string, number[]> };
  spans: number;
  traces: number;
  /** true: every span of the range is counted; else the counts are exact from `searchedFrom` to the range's end. */
  complete: boolean;
  searchedFrom: string;
}

/** Facets of a query (GET /api/v1/facets): per key, the most frequent values among the requests it selects (at most 8). */
export interface ApiFacets {
  facets: Record<string, { key: string; count: number }[]>;
  /** The same requests over the range in 30 steps from `start` (ns), errors apart; steps before `searchedFrom` were not read. */
  series: { start: string; stepNs: string; counts: number[]; errors: number[] };
  spans: number;
  traces: number;
  /** As ApiAnalytics: true, the whole range; else exact from `searchedFrom` to its end. */
  complete: boolean;
  searchedFrom: string;
}

export interface ApiSpanLink {
  /** Decimal, as the tracer sent it. */
  traceId: string;
  traceIdHigh: string;
  spanId: string;
  attributes?: Record<string, string>;
  tracestate?: string;
  flags?: number;
}

export interface ApiSpanEvent {
  /** ns since the epoch, decimal. */
  timeUnixNano: string;
  name: string;
  attributes?: Record<string, unknown>;
}

export interface ApiSpan {
  traceId: string;
  spanId: string;
  parentId: string;
  service: string;
  name: string;
  resource: string;
  type: string;
  env: string;
  /** ns since the epoch, decimal. */
  start: string;
  duration: number;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  /** Values base64. */
  metaStruct?: Record<string, string>;
  spanLinks?: ApiSpanLink[];
  spanEvents?: ApiSpanEvent[];
}

export interface ApiTrace {
  summary: ApiTraceSummary;
  spans: ApiSpan[];
}

export interface ApiStatsValues {
  hits: number;
  errors: number;
  /** Mean duration, ns. */
  avgDuration: number;
  /** Sum of durations, ns. */
  totalDuration: number;
  p50: number | null;
  p75: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface ApiStatsPoint extends ApiStatsValues {
  /** Step start, ns since the epoch, decimal. */
  time: string;
}

export interface ApiStatsGroup extends ApiStatsValues {
  key: string;
  versions: string[];
  /** ns since the epoch, decimal: the start of the group's first stats bucket in the range, and the end of its last. */
  firstSeen: string;
  lastSeen: string;
}

export type ApiGroupField = 'resource' | 'name' | 'service' | 'env' | 'version' | 'httpStatusCode' | 'spanKind';

export interface ApiStatsSeries {
  /** Seconds. */
  step: number;
  points: ApiStatsPoint[];
}

export interface ApiStatsGroups {
  groupBy: ApiGroupField;
  groups: ApiStatsGroup[];
}

/** One stored chunk, as GET /api/v1/live streams them. */
export interface ApiLiveChunk {
  traceId: string;
  service: string;
  name: string;
  resource: string;
  /** ns since the epoch, decimal. */
  start: string;
  duration: number;
  error: boolean;
  spans: number;
  env: string;
  /** ECS task (family:revision) and container, when known. */
  task?: string;
  container?: string;
}

export interface ApiHealth {
  /** `error` (with HTTP 503) while the store cannot write. */
  status: 'ok' | 'error';
  /** What is wrong, when something is. */
  problem?: string;
  version: string;
  receiver: string | null;
  /**
   * The store's size (absent while it cannot be reached) and how it is: `ok`, or for a shared
   * store behind the spool `unreachable, spooling, 4096 bytes` (still healthy: nothing is lost),
   * `ok, shipping, 4096 bytes`, `unreachable, spool full, ...` (unhealthy: payloads are dropped).
   */
  store: { diskBytes?: number; spans?: number; payloads?: number; status: string };
}

/** One error group of /api/v1/errors: error spans of one service, type, normalized message and stack top. */
/** A group's occurrences in one version of its service. */
export interface ApiErrorVersion {
  /** '' when the service names no version; null for occurrences counted before the agent kept versions. */
  version: string | null;
  count: number;
  /** ms since the epoch. */
  firstSeen: number;
  lastSeen: number;
}

export interface ApiErrorGroup {
  id: string;
  service: string;
  /** Its most common resource. */
  resource: string;
  errorType: string;
  /** The message with numbers, ids and quoted values as `?`. */
  message: string;
  count: number;
  /** ms since the epoch. */
  firstSeen: number;
  lastSeen: number;
  /** Occurrences over the range: counts[i] in [start + i x step, + step), times in ms. */
  series?: { start: number; step: number; counts: number[] };
  /** Up to 5 traces to open. */
  sampleTraceIds: string[];
  /** The versions it occurred in (the failing service's), first seen first. */
  versions: ApiErrorVersion[];
  /**
   * What people decided: `open` unless set; a group resolved and seen again after that is `open`
   * with `regressed: true`. Shared by every agent and UI replica of the store.
   */
  status: 'open' | 'resolved' | 'ignored';
  regressed?: boolean;
  /** When the status was set, ms since the epoch. */
  statusChangedAt?: number;
}

/** Error groups of a range, counted over all of it (from the store's rollup, to the minute). */
export interface ApiErrors {
  groups: ApiErrorGroup[];
}

/** A node of /api/v1/service-map: a traced service, or a leaf it calls (a database, a cache, an outside host). */
export interface ApiServiceMapNode {
  service: string;
  type: string;
  /** Requests (for a leaf: calls to it) in the range. */
  hits: number;
  errors: number;
  /** ns */
  p95: number;
  leaf: boolean;
}

export interface ApiServiceMapEdge {
  from: string;
  to: string;
  calls: number;
  errors: number;
  /** ns, of the called side's spans. */
  p95: number;
}

export interface ApiServiceMap {
  nodes: ApiServiceMapNode[];
  edges: ApiServiceMapEdge[];
}

/** A monitor, its state and its transitions (GET /api/v1/monitors). Times in ms since the epoch. */
export interface ApiMonitor {
  id: string;
  /** `file`: from the monitors file, read-only here; `ui`: made in the UI or the API. */
  source: 'file' | 'ui';
  name: string;
  service: string;
  env: string | null;
  version: string | null;
  resource: string | null;
  operation: string | null;
  /** request_rate (req/s), error_rate (%), error_count, latency_p50...latency_max (ms), new_error_group, regressed_error_group. */
  metric: string;
  windowMs: number;
  comparison: 'above' | 'below';
  /** The value is the change (%) against the same window this long before (ms), when set. */
  compareToMs: number | null;
  /** apdex: the latency (ms) within which a request satisfies. */
  apdexTMs: number | null;
  warning: number | null;
  critical: number;
  recovery: number | null;
  minRequests: number;
  noData: 'ok' | 'no_data' | 'notify' | 'alert';
  notify: string[];
  /** null until its first evaluation. */
  state: 'OK' | 'WARN' | 'ALERT' | 'NO DATA' | null;
  /** The value of the last evaluation (null: no data). */
  value: number | null;
  requests: number;
  since: number;
  evaluatedAt: number | null;
  problem?: string;
  /** ms since the epoch: muted until then (its changes recorded, nothing sent). */
  mutedUntil?: number;
  /** With a shared store: another process (agent or UI replica) evaluates the monitors and sends their notifications; ask it (or the replica behind the same load balancer that holds the lease). */
  elsewhere?: boolean;
  /** Changes of state, newest first: the last 100, as the store keeps them (30 days). */
  history: { at: number; from: string | null; to: string; value: number | null; threshold: number | null; notified: boolean; muted?: boolean; sent: { channel: string; ok: boolean; attempts: number; error?: string }[] }[];
}

export interface ApiMonitors {
  /** false: no monitors file is set (ECS_TRACE_MONITORS_FILE). */
  configured: boolean;
  file?: string;
  monitors: ApiMonitor[];
  /** The channels a monitor may notify (the file's; their secrets stay there). */
  channels: string[];
  /** Whether monitors can be made here (POST /api/v1/monitors): the store keeps them. */
  editable: boolean;
}

export interface ApiMonitorTest {
  results: { channel: string; ok: boolean; attempts: number; error?: string }[];
}

/** A tracer instance of a service, as its telemetry describes it (telemetry/instances.ts keeps them in this shape). Times in ms since the epoch. */
export type ApiInstance = Instance;

export interface ApiInstances {
  /**
   * false: this process takes no intake (`ecs-trace ui`), so no tracer tells it anything; the
   * instances are those reporting to the agent answering (each agent knows its own tracers).
   */
  kept: boolean;
  instances: ApiInstance[];
}

/**
 * The dependency inventory (GET /api/v1/dependencies?name=&version=): each library at each
 * version, with the services and envs whose tracers report loading it. `total` versions matched;
 * at most 500 are listed (narrow `name` for the rest).
 */
export interface ApiDependencies {
  /** false: this process takes no intake (`ecs-trace ui`): each agent knows its own tracers. */
  kept: boolean;
  total: number;
  dependencies: DependencyUse[];
}

/** Tracing settings served to a service's tracers (remote configuration), with the version they are at. */
export interface ApiTracingSettings extends TracingSettings {
  id: string;
  version: number;
}

/** A tracer polling for remote configuration, with what it reported of the settings it was sent. Times in ms since the epoch. */
export type ApiRemoteConfigClient = RemoteConfigClient;

export interface ApiRemoteConfig {
  /** This agent answers tracers' polls (/v0.7/config); false: DD_REMOTE_CONFIGURATION_ENABLED=false, or no intake here. */
  served: boolean;
  /** Settings can be set here: the store keeps them (for every replica of a shared store). */
  editable: boolean;
  /** Greater after every change of any settings. */
  revision: number;
  settings: ApiTracingSettings[];
  /** The tracers that polled this agent in the last 10 minutes (each agent knows the tracers polling it). */
  clients: ApiRemoteConfigClient[];
}

/** What the UI reads of the agent's settings (GET /api/v1/ui-config). */
export interface ApiUiConfig {
  /** Links from a span to the app's logs: URL templates (ECS_TRACE_LOG_LINKS). */
  logLinks: { name: string; url: string }[];
}
