import { ProtoWriter } from '../proto-writer.js';
import type { AttributeValue, Span, SpanLink } from '../span.js';

/*
 * Datadog spans to an OTLP ExportTraceServiceRequest (protobuf), as the OpenTelemetry Collector's
 * datadog receiver translates them (receiver/datadogreceiver/internal/translator): one
 * ResourceSpans per service of a tracer payload, the scope `Datadog`, 128-bit trace ids from
 * `_dd.p.tid`, the kind from `span.kind` or the span type, Error status for error spans, the
 * resource as `dd.span.Resource`, meta and metrics as attributes under their semantic-convention
 * names. Written straight to protobuf: no intermediate OTLP objects per span.
 */

/** One tracer payload's kept spans and what the tracer said about itself. */
export interface DatadogTracerPayload {
  chunks: Span[][];
  /** The payload's env (tracer env, else the agent's default env), for spans without `env`. */
  env: string;
  hostname: string;
  containerId: string;
  lang: string;
  tracerVersion: string;
}

const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.16.0';

/** Datadog tag names to the OpenTelemetry semantic conventions (the receiver's tags.go), by lower-cased key. */
const KEY_NAMES: Record<string, string> = {
  env: 'deployment.environment.name',
  service: 'service.name',
  version: 'service.version',
  'http.method': 'http.request.method',
  'http.status_code': 'http.response.status_code',
  'http.url': 'url.full',
  'http.useragent': 'user_agent.original',
  'http.client_ip': 'client.address',
  'db.type': 'db.system.name',
  'db.statement': 'db.query.text',
  'db.instance': 'db.namespace',
  'error.msg': 'exception.message',
  'error.stacktrace': 'exception.stacktrace',
  container_id: 'container.id',
  container_name: 'container.name',
  image_name: 'container.image.name',
  image_tag: 'container.image.tag',
  runtime: 'container.runtime',
  cloud_provider: 'cloud.provider',
  region: 'cloud.region',
  zone: 'cloud.availability_zone',
  task_family: 'aws.ecs.task.family',
  task_arn: 'aws.ecs.task.arn',
  ecs_cluster_name: 'aws.ecs.cluster.arn',
  task_version: 'aws.ecs.task.revision',
  ecs_container_name: 'aws.ecs.container.arn',
};

const REQUEST_HEADERS = 'http.request.headers.';
const RESPONSE_HEADERS = 'http.response.headers.';

/** Tag names repeat from span to span: each one's translation, worked out once. */
const nameCache = new Map<string, string>();

/** The OpenTelemetry name of a Datadog tag; `_dd.*` and unknown keys stay as they are. */
export function otelAttributeName(key: string): string {
  let name = nameCache.get(key);
  if (name === undefined) {
    name = translateName(key);
    if (nameCache.size < 4096) nameCache.set(key, name);
  }
  return name;
}

function translateName(key: string): string {
  if (key.startsWith('_dd.')) return key;
  const known = KEY_NAMES[key.toLowerCase()];
  if (known !== undefined) return known;
  if (key.startsWith(REQUEST_HEADERS)) return `http.request.header.${key.slice(REQUEST_HEADERS.length)}`;
  if (key.startsWith(RESPONSE_HEADERS)) return `http.response.header.${key.slice(RESPONSE_HEADERS.length)}`;
  return key;
}

const KINDS: Record<string, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

/** OTLP SpanKind: `span.kind` when set, else `web` spans are servers and `http` spans clients. */
export function otelSpanKind(s: Span): number {
  const kind = s.meta['span.kind'];
  if (kind !== undefined) return KINDS[kind.toLowerCase()] ?? 0;
  if (s.type === 'web') return 2;
  if (s.type === 'http') return 3;
  return 0;
}

function id8(v: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, v));
  return b;
}

function id16(high: bigint, low: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(BigInt.asUintN(64, high), 0);
  b.writeBigUInt64BE(BigInt.asUintN(64, low), 8);
  return b;
}

const HEX16 = /^[0-9a-fA-F]{16}$/;

/**
 * The upper halves of 128-bit trace ids by lower half. Tracers put `_dd.p.tid` on one span of a
 * chunk only, and a trace's chunks arrive apart: the receiver keeps an LRU of them
 * (`trace_id_cache_size`), and so does this.
 */
export class TraceIdHighCache {
  // Two generations, not one Map trimmed at its oldest end: V8 leaves a hole for each entry
  // deleted from a Map's front, and finding the oldest again walks them all (at 100k entries a
  // set cost 33 µs that way, and OTLP export fell 3x behind intake).
  private young = new Map<bigint, bigint>();
  private old = new Map<bigint, bigint>();
  constructor(private readonly max = 100_000) {}

  get(low: bigint): bigint | undefined {
    return this.young.get(low) ?? this.old.get(low);
  }

  set(low: bigint, high: bigint): void {
    this.young.set(low, high);
    if (this.young.size >= this.max / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}

function learnHighs(chunk: Span[], cache: TraceIdHighCache): void {
  for (const s of chunk) {
    const tid = s.meta['_dd.p.tid'];
    if (tid !== undefined && HEX16.test(tid)) cache.set(s.traceId, BigInt(`0x${tid}`));
  }
}

function writeValue(w: ProtoWriter, v: AttributeValue): void {
  if (typeof v === 'string') w.stringKeep(1, v);
  else if (typeof v === 'boolean') w.varintKeep(2, v);
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) w.varintKeep(3, BigInt(v));
    else w.doubleKeep(4, v);
  } else w.message(5, (arr) => { for (const item of v) arr.message(1, (av) => writeValue(av, item)); });
}

function attribute(w: ProtoWriter, field: number, key: string, write: (v: ProtoWriter) => void): void {
  w.message(field, (kv) => {
    kv.string(1, key);
    kv.message(2, write);
  });
}

function stringAttribute(w: ProtoWriter, field: number, key: string, value: string): void {
  w.keyValueString(field, key, value);
}

/** The tracer's JSON span links (`_dd.span_links`), for tracers that send them as a tag. */
function linksFromMeta(json: string): SpanLink[] {
  try {
    const parsed: unknown = JSON.parse(json);
    if (!Array.isArray(parsed)) return [];
    const links: SpanLink[] = [];
    for (const l of parsed as Record<string, unknown>[]) {
      const traceId = typeof l['trace_id'] === 'string' ? l['trace_id'].padStart(32, '0') : '';
      const spanId = typeof l['span_id'] === 'string' ? l['span_id'] : '';
      if (!/^[0-9a-fA-F]{32}$/.test(traceId) || !/^[0-9a-fA-F]{1,16}$/.test(spanId)) continue;
      const attributes = typeof l['attributes'] === 'object' && l['attributes'] !== null ? Object.fromEntries(Object.entries(l['attributes']).map(([k, v]) => [k, String(v)])) : undefined;
      links.push({
        traceIdHigh: BigInt(`0x${traceId.slice(0, 16)}`), traceId: BigInt(`0x${traceId.slice(16)}`), spanId: BigInt(`0x${spanId}`),
        ...(attributes ? { attributes } : {}),
        ...(typeof l['tracestate'] === 'string' ? { tracestate: l['tracestate'] } : {}),
        ...(typeof l['flags'] === 'number' ? { flags: l['flags'] } : {}),
      });
    }
    return links;
  } catch {
    return [];
  }
}

function writeSpan(w: ProtoWriter, s: Span, highs: TraceIdHighCache): void {
  w.bytes(1, id16(highs.get(s.traceId) ?? 0n, s.traceId));
  w.bytes(2, id8(s.spanId));
  if (s.parentId !== 0n) w.bytes(4, id8(s.parentId));
  w.string(5, s.name);
  w.varint(6, otelSpanKind(s));
  w.fixed64(7, s.start);
  w.fixed64(8, s.start + BigInt(s.duration));
  stringAttribute(w, 9, 'dd.span.Resource', s.resource);
  stringAttribute(w, 9, 'datadog.span.id', BigInt.asUintN(64, s.spanId).toString());
  stringAttribute(w, 9, 'datadog.trace.id', BigInt.asUintN(64, s.traceId).toString());
  const priority = s.metrics['_sampling_priority_v1'];
  if (priority !== undefined) stringAttribute(w, 9, 'sampling.priority', priority.toFixed(6));
  let links = s.spanLinks ?? [];
  for (const k in s.meta) {
    if (k === '_dd.span_links') {
      if (links.length === 0) links = linksFromMeta(s.meta[k]!);
      continue;
    }
    stringAttribute(w, 9, otelAttributeName(k), s.meta[k]!);
  }
  for (const k in s.metrics) {
    const v = s.metrics[k]!;
    w.keyValueDouble(9, otelAttributeName(k), v);
  }
  for (const e of s.spanEvents ?? []) {
    w.message(11, (ew) => {
      ew.fixed64(1, e.timeUnixNano);
      ew.string(2, e.name);
      for (const [k, v] of Object.entries(e.attributes ?? {})) attribute(ew, 3, k, (av) => writeValue(av, v));
    });
  }
  for (const l of links) {
    w.message(13, (lw) => {
      lw.bytes(1, id16(l.traceIdHigh, l.traceId));
      lw.bytes(2, id8(l.spanId));
      lw.string(3, l.tracestate ?? '');
      for (const [k, v] of Object.entries(l.attributes ?? {})) stringAttribute(lw, 4, k, v);
      lw.fixed32(6, l.flags ?? 0);
    });
  }
  // The receiver's newest form: Error for error spans, otherwise Unset (not Ok).
  if (s.error !== 0) w.message(15, (st) => st.varint(3, 2));
}

/** `.NET` is `dotnet` in OpenTelemetry's telemetry.sdk.language. */
function sdkLanguage(lang: string): string {
  return lang === '.NET' ? 'dotnet' : lang.toLowerCase();
}

function writeResourceSpans(w: ProtoWriter, p: DatadogTracerPayload, service: string, spans: Span[], highs: TraceIdHighCache): void {
  const version = spans.find((s) => s.meta['version'])?.meta['version'] ?? '';
  const env = spans.find((s) => s.meta['env'])?.meta['env'] ?? p.env;
  w.message(1, (rs) => {
    rs.message(1, (res) => {
      const attrs: [string, string][] = [
        ['service.name', service], ['container.id', p.containerId], ['telemetry.sdk.language', sdkLanguage(p.lang)],
        ['deployment.environment', env], ['host.name', p.hostname], ['service.version', version],
        ['telemetry.sdk.name', 'Datadog'], ['telemetry.sdk.version', p.tracerVersion ? `Datadog-${p.tracerVersion}` : ''],
      ];
      for (const [k, v] of attrs) if (v !== '') stringAttribute(res, 1, k, v);
    });
    rs.message(2, (ss) => {
      ss.message(1, (scope) => { scope.string(1, 'Datadog'); scope.string(2, p.tracerVersion); });
      for (const s of spans) ss.message(2, (sw) => writeSpan(sw, s, highs));
    });
    rs.string(3, SCHEMA_URL);
  });
}

/**
 * The payloads' spans as one OTLP ExportTraceServiceRequest, protobuf-encoded. Pass the same
 * `highs` from call to call so that a chunk without `_dd.p.tid` keeps its trace's 128-bit id.
 */
export function encodeOtlpFromDatadog(payloads: DatadogTracerPayload[], highs = new TraceIdHighCache()): Buffer {
  const w = new ProtoWriter();
  for (const p of payloads) for (const chunk of p.chunks) learnHighs(chunk, highs);
  for (const p of payloads) {
    const byService = new Map<string, Span[]>();
    for (const chunk of p.chunks) {
      for (const s of chunk) {
        let list = byService.get(s.service);
        if (list === undefined) byService.set(s.service, (list = []));
        list.push(s);
      }
    }
    for (const [service, spans] of byService) writeResourceSpans(w, p, service, spans, highs);
  }
  return w.finish();
}
