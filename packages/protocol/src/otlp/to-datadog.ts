import type { Span } from '../span.js';
import { plain, valueString, type OtlpAttribute, type OtlpResourceSpans, type OtlpSpan, type OtlpTraceRequest, type OtlpValue } from './model.js';

/*
 * OTLP spans as Datadog spans, the way the Datadog Agent maps them (pkg/trace/transform, its
 * default "V2" operation-name and resource logic): one payload per ResourceSpans, chunks keyed
 * by the low 64 bits of the trace id, service/name/resource/type from the semantic conventions,
 * status ERROR as error with the last exception event's message, type and stack, attributes to
 * meta (strings) and metrics (numbers), events and links as JSON meta, the resource's and the
 * scope's attributes to meta, and a priority: `sampling.priority` if a span has one, else kept.
 * One difference: the trace id's upper half is kept in `_dd.p.tid` too, so a trace is found by
 * the 32-digit id its SDK logs (the Datadog Agent keeps it only in `otel.trace_id`).
 */

export interface OtlpPayload {
  chunks: Span[][];
  containerId: string;
  lang: string;
  tracerVersion: string;
  /** The resource says its stats were computed already (`_dd.stats_computed`). */
  clientComputedStats: boolean;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const PDATA_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
const SERVER = 2;
const CLIENT = 3;

/** OTel semantic conventions renamed to the Datadog tags of the same meaning. */
const HTTP_RENAMES: Record<string, string> = {
  'http.request.method': 'http.method', 'http.response.status_code': 'http.status_code', 'client.address': 'http.client_ip',
  'url.full': 'http.url', 'user_agent.original': 'http.useragent', 'server.address': 'http.server_name', 'network.protocol.version': 'http.version',
};
const RESOURCE_TAGS: Record<string, string> = {
  'deployment.environment.name': 'env', 'deployment.environment': 'env', 'service.version': 'version',
  'container.id': 'container_id', 'container.name': 'container_name', 'container.image.name': 'image_name', 'container.image.tag': 'image_tag',
  'container.runtime': 'runtime', 'cloud.provider': 'cloud_provider', 'cloud.region': 'region', 'cloud.availability_zone': 'zone',
  'aws.ecs.task.family': 'task_family', 'aws.ecs.task.arn': 'task_arn', 'aws.ecs.task.revision': 'task_version', 'aws.ecs.container.arn': 'ecs_container_name',
};

/**
 * A client span's type from its `db.system`, as the Datadog Agent's table (traceutil's dbTypes)
 * gives it, so that every SQL span is obfuscated whichever SDK sent it; anything else is `db`.
 */
const SQL_SYSTEMS = [
  'other_sql', 'mssql', 'mysql', 'oracle', 'db2', 'postgresql', 'redshift', 'cloudscape', 'hsqldb', 'maxdb', 'ingres', 'firstsql', 'edb', 'cache',
  'firebird', 'derby', 'informix', 'mariadb', 'sqlite', 'sybase', 'teradata', 'vertica', 'h2', 'coldfusion', 'cockroachdb', 'progress', 'hanadb',
  'adabas', 'filemaker', 'instantdb', 'interbase', 'netezza', 'pervasive', 'pointbase', 'clickhouse',
];
const DB_TYPES = new Map<string, string>([
  ...SQL_SYSTEMS.map((d): [string, string] => [d, 'sql']),
  ...['cassandra', 'redis', 'memcached', 'mongodb', 'elasticsearch', 'opensearch'].map((d): [string, string] => [d, d]),
]);

type Attrs = Map<string, OtlpValue>;

const attrs = (list: OtlpAttribute[]): Attrs => {
  const m: Attrs = new Map();
  for (const a of list) if (!m.has(a.key)) m.set(a.key, a.value);
  return m;
};
const s = (m: Attrs, k: string): string | undefined => {
  const v = m.get(k);
  return v === undefined ? undefined : valueString(v);
};
const first = (...vals: (string | undefined)[]): string | undefined => vals.find((v) => v !== undefined && v !== '');
/** 8 bytes of an id, big-endian, from `from` (0 when the id is shorter, as an absent parent is). */
const u64 = (b: Uint8Array, from: number): bigint => (b.length >= from + 8 ? new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(from, false) : 0n);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function spanName(sp: OtlpSpan, a: Attrs): string {
  const kind = sp.kind;
  const op = s(a, 'operation.name');
  if (op) return op.toLowerCase();
  const method = first(s(a, 'http.request.method'), s(a, 'http.method'));
  if (method && kind === SERVER) return 'http.server.request';
  if (method && kind === CLIENT) return 'http.client.request';
  const db = s(a, 'db.system');
  if (db && kind === CLIENT) return `${db}.query`.toLowerCase();
  const msgSystem = s(a, 'messaging.system');
  const msgOp = s(a, 'messaging.operation');
  if (msgSystem && msgOp && kind >= SERVER) return `${msgSystem}.${msgOp}`.toLowerCase();
  const rpc = s(a, 'rpc.system');
  if (rpc === 'aws-api' && kind === CLIENT) return s(a, 'rpc.service') ? `aws.${s(a, 'rpc.service')}.request`.toLowerCase() : 'aws.client.request';
  if (rpc && kind === CLIENT) return `${rpc}.client.request`.toLowerCase();
  if (rpc && kind === SERVER) return `${rpc}.server.request`.toLowerCase();
  const faasProvider = s(a, 'faas.invoked_provider');
  const faasName = s(a, 'faas.invoked_name');
  if (faasProvider && faasName && kind === CLIENT) return `${faasProvider}.${faasName}.invoke`.toLowerCase();
  const trigger = s(a, 'faas.trigger');
  if (trigger && kind === SERVER) return `${trigger}.invoke`.toLowerCase();
  if (s(a, 'graphql.operation.type')) return 'graphql.server.request';
  const proto = s(a, 'network.protocol.name');
  if (kind === SERVER) return proto ? `${proto}.server.request`.toLowerCase() : 'server.request';
  if (kind === CLIENT) return proto ? `${proto}.client.request`.toLowerCase() : 'client.request';
  return PDATA_KINDS[kind] ?? 'Unspecified';
}

function resourceName(sp: OtlpSpan, a: Attrs): string {
  const r = s(a, 'resource.name');
  if (r) return r;
  let method = first(s(a, 'http.request.method'), s(a, 'http.method'));
  if (method) {
    if (method === '_OTHER') method = 'HTTP';
    const route = s(a, 'http.route');
    return sp.kind === SERVER && route ? `${method} ${route}` : method;
  }
  const msgOp = s(a, 'messaging.operation');
  if (msgOp) {
    const dest = first(s(a, 'messaging.destination.name'), s(a, 'messaging.destination'));
    return dest ? `${msgOp} ${dest}` : msgOp;
  }
  const rpcMethod = s(a, 'rpc.method');
  if (rpcMethod) return s(a, 'rpc.service') ? `${rpcMethod} ${s(a, 'rpc.service')}` : rpcMethod;
  const gqlType = s(a, 'graphql.operation.type');
  if (gqlType) return s(a, 'graphql.operation.name') ? `${gqlType} ${s(a, 'graphql.operation.name')}` : gqlType;
  if (s(a, 'db.system')) {
    const statement = first(s(a, 'db.statement'), s(a, 'db.query.text'));
    if (statement) return statement;
  }
  return sp.name;
}

function spanType(sp: OtlpSpan, a: Attrs): string {
  const t = first(s(a, 'datadog.type'), s(a, 'span.type'));
  if (t) return t;
  if (sp.kind === SERVER) return 'web';
  if (sp.kind === CLIENT) {
    const db = s(a, 'db.system');
    if (db === undefined) return 'http';
    // The Agent normalizes the value (lower case) before its table: `PostgreSQL` is SQL too.
    return DB_TYPES.get(db.toLowerCase()) ?? 'db';
  }
  return 'custom';
}

function toSpan(sp: OtlpSpan, a: Attrs, resource: Attrs, scope: { name: string; version: string; attributes: Attrs }, env: string | undefined): Span {
  const meta: Record<string, string> = {};
  const metrics: Record<string, number> = {};
  const setMeta = (k: string, v: string) => { if (!(k in meta) && !(k in metrics)) meta[k] = v; };
  for (const [key, v] of a) {
    if (key === 'service.name' || key === 'operation.name' || key === 'resource.name' || key === 'span.type' || key.startsWith('datadog.')) continue;
    let k = HTTP_RENAMES[key] ?? key;
    if (k.startsWith('http.request.header.')) k = `http.request.headers.${k.slice('http.request.header.'.length)}`;
    if (k === 'sampling.priority') k = '_sampling_priority_v1';
    else if (k === 'analytics.event') k = '_dd1.sr.eausr';
    if (k in meta || k in metrics) continue;
    if ('int' in v) metrics[k] = Number(v.int);
    else if ('double' in v) metrics[k] = v.double;
    else meta[k] = valueString(v);
  }
  // Datadog's own attributes, where they say something.
  for (const [from, to] of [['datadog.env', 'env'], ['datadog.version', 'version']] as const) {
    const v = s(a, from);
    if (v) meta[to] = v;
  }
  for (const [key, v] of resource) {
    const tag = RESOURCE_TAGS[key];
    if (tag) setMeta(tag, valueString(v));
    if (key === 'aws.ecs.cluster.arn') setMeta('ecs_cluster_name', valueString(v).slice(valueString(v).lastIndexOf('/') + 1));
    if (key.startsWith('datadog.container.tag.')) setMeta(key.slice('datadog.container.tag.'.length), valueString(v));
    if (key === 'service.name' || key.startsWith('datadog.')) continue;
    setMeta(key, valueString(v));
  }
  for (const [key, v] of scope.attributes) setMeta(key, valueString(v));
  if (env) setMeta('env', env);
  const dbNamespace = s(a, 'db.namespace');
  if (dbNamespace) setMeta('db.name', dbNamespace);
  meta['otel.trace_id'] = hex(sp.traceId).padStart(32, '0');
  const high = u64(sp.traceId, 0);
  if (high !== 0n) meta['_dd.p.tid'] = high.toString(16).padStart(16, '0');
  if (sp.traceState) meta['w3c.tracestate'] = sp.traceState;
  if (scope.name) meta['otel.library.name'] = scope.name;
  if (scope.version) meta['otel.library.version'] = scope.version;
  meta['otel.status_code'] = ['Unset', 'Ok', 'Error'][sp.statusCode] ?? 'Unset';
  if (sp.statusMessage) meta['otel.status_description'] = sp.statusMessage;
  meta['span.kind'] = s(a, 'datadog.span.kind') ?? KINDS[sp.kind] ?? 'unspecified';
  const statusCode = first(s(a, 'datadog.http_status_code'), s(a, 'http.status_code'), s(a, 'http.response.status_code'));
  if (statusCode && /^\d+$/.test(statusCode)) {
    metrics['http.status_code'] = Number(statusCode);
    delete meta['http.status_code'];
  }

  let error = sp.statusCode === 2 ? 1 : 0;
  const ddError = a.get('datadog.error');
  if (ddError && 'int' in ddError) error = ddError.int !== 0n ? 1 : 0;
  if (sp.events.length > 0) {
    meta['events'] = JSON.stringify(sp.events.map((e) => ({
      time_unix_nano: Number(e.timeUnixNano), name: e.name,
      attributes: Object.fromEntries(e.attributes.map((x) => [x.key, plain(x.value)])),
      dropped_attributes_count: e.droppedAttributesCount,
    })));
    if (sp.events.some((e) => e.name.toLowerCase() === 'exception')) meta['_dd.span_events.has_exception'] = 'true';
  }
  if (error === 1) {
    const exception = [...sp.events].reverse().find((e) => e.name.toLowerCase() === 'exception');
    const ex = exception ? attrs(exception.attributes) : new Map<string, OtlpValue>();
    const message = s(ex, 'exception.message') ?? s(a, 'datadog.error.msg');
    if (message) meta['error.msg'] = message;
    else if (sp.statusMessage) meta['error.msg'] = sp.statusMessage;
    else if (statusCode) meta['error.msg'] = s(a, 'http.status_text') ? `${statusCode} ${s(a, 'http.status_text')}` : statusCode;
    const type = s(ex, 'exception.type') ?? s(a, 'datadog.error.type');
    if (type) meta['error.type'] = type;
    const stack = s(ex, 'exception.stacktrace') ?? s(a, 'datadog.error.stack');
    if (stack) meta['error.stack'] = stack;
  }
  if (sp.links.length > 0) {
    meta['_dd.span_links'] = JSON.stringify(sp.links.map((l) => ({
      trace_id: hex(l.traceId).padStart(32, '0'), span_id: hex(l.spanId).padStart(16, '0'),
      ...(l.traceState ? { tracestate: l.traceState } : {}),
      ...(l.attributes.length ? { attributes: Object.fromEntries(l.attributes.map((x) => [x.key, valueString(x.value)])) } : {}),
      ...(l.droppedAttributesCount ? { dropped_attributes_count: l.droppedAttributesCount } : {}),
    })));
  }
  const start = BigInt.asIntN(64, sp.startTimeUnixNano);
  const end = BigInt.asIntN(64, sp.endTimeUnixNano);
  return {
    service: first(s(a, 'datadog.service'), s(resource, 'datadog.service'), s(resource, 'service.name')) ?? 'otlpresourcenoservicename',
    name: spanName(sp, a),
    resource: resourceName(sp, a).slice(0, 5000),
    type: spanType(sp, a),
    traceId: u64(sp.traceId, 8),
    spanId: u64(sp.spanId, 0),
    parentId: u64(sp.parentSpanId, 0),
    start,
    duration: end > start ? Number(end - start) : 0,
    error,
    meta,
    metrics,
  };
}

function payload(rs: OtlpResourceSpans): OtlpPayload {
  const resource = attrs(rs.resourceAttributes);
  const env = first(s(resource, 'datadog.env'), s(resource, 'deployment.environment.name'), s(resource, 'deployment.environment'));
  const chunks = new Map<bigint, Span[]>();
  for (const ss of rs.scopeSpans) {
    const scope = { name: ss.scopeName, version: ss.scopeVersion, attributes: attrs(ss.scopeAttributes) };
    for (const sp of ss.spans) {
      const span = toSpan(sp, attrs(sp.attributes), resource, scope, env);
      const chunk = chunks.get(span.traceId);
      if (chunk) chunk.push(span);
      else chunks.set(span.traceId, [span]);
    }
  }
  // A chunk without a priority from its spans is kept, as the Datadog Agent's OTLP intake does at
  // its default sampling percentage (100).
  for (const chunk of chunks.values()) {
    if (chunk.some((x) => x.metrics['_sampling_priority_v1'] !== undefined)) continue;
    chunk[0]!.metrics['_sampling_priority_v1'] = 1;
    chunk[0]!.meta['_dd.p.dm'] = '-9';
  }
  const sdkVersion = s(resource, 'telemetry.sdk.version');
  return {
    chunks: [...chunks.values()],
    containerId: first(s(resource, 'datadog.container_id'), s(resource, 'container.id'), s(resource, 'k8s.pod.uid')) ?? '',
    lang: s(resource, 'telemetry.sdk.language') ?? '',
    tracerVersion: sdkVersion ? `otlp-${sdkVersion}` : '',
    clientComputedStats: resource.has('_dd.stats_computed'),
  };
}

export function otlpToDatadog(req: OtlpTraceRequest): OtlpPayload[] {
  return req.resourceSpans.map(payload);
}
