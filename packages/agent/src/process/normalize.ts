import type { Span, TraceChunk } from '@ecs-trace/protocol';
import {
  DEFAULT_SPAN_NAME, MAX_NAME_LENGTH, MAX_SERVICE_LENGTH, MAX_TYPE_LENGTH,
  normalizeMetricName, normalizeTagValue, truncateUtf8, utf8Length,
} from './normalize-strings.js';

/*
 * Span and trace normalization as the Datadog Agent does it (agent/normalizer.go,
 * agent/truncator.go): spans are fixed and the fix is counted by reason; a chunk that cannot be
 * a trace is dropped whole and counted.
 */

/** Why a whole chunk was dropped (the agent's `traces_dropped{reason}`). */
export type TraceDropReason = 'empty_trace' | 'foreign_span' | 'trace_id_zero' | 'span_id_zero';

/** Why a span was fixed (the agent's `spans_malformed{reason}`). */
export type SpanFixReason =
  | 'service_empty' | 'service_truncate' | 'service_invalid'
  | 'peer_service_truncate' | 'peer_service_invalid'
  | 'base_service_truncate' | 'base_service_invalid'
  | 'span_name_empty' | 'span_name_truncate' | 'span_name_invalid'
  | 'resource_empty' | 'type_truncate' | 'invalid_start_date' | 'invalid_duration'
  | 'invalid_http_status_code' | 'duplicate_span_id';

export interface NormalizeCounters {
  spanFixed(reason: SpanFixReason): void;
}

export const MAX_RESOURCE_LENGTH = 5000;
export const MAX_META_KEY_LENGTH = 200;
export const MAX_META_VALUE_LENGTH = 25_000;
export const MAX_METRIC_KEY_LENGTH = 200;
const YEAR_2000_NS = 946_684_800_000_000_000n;
const MAX_INT64 = (1n << 63n) - 1n;
/** Starts beyond this are so far in the future that a duration of up to 2^53 ns could overflow. */
const FAR_START = MAX_INT64 - (1n << 53n);
const STRUCTURED_META_KEY = /^_dd\..*\.(json|msgpack|protobuf)$/;

/** The service name the agent gives a span without one: `unnamed-<lang>-service`. */
export function fallbackService(lang: string): string {
  return lang ? `unnamed-${lang}-service` : 'unnamed-service';
}

function normalizeServiceLike(
  value: string, counters: NormalizeCounters,
  truncate: SpanFixReason, invalid: SpanFixReason,
): string {
  let v = value;
  if (v.length > MAX_SERVICE_LENGTH / 3 && utf8Length(v) > MAX_SERVICE_LENGTH) {
    v = truncateUtf8(v, MAX_SERVICE_LENGTH);
    counters.spanFixed(truncate);
  }
  const n = normalizeTagValue(v);
  if (n === '' && v !== '') counters.spanFixed(invalid);
  return n;
}

function isValidStatusCode(v: string): boolean {
  if (v.length !== 3) return false;
  const n = Number(v);
  return Number.isInteger(n) && n >= 100 && n < 600 && /^[0-9]{3}$/.test(v);
}

/** Normalizes one span in place. `now` is nanoseconds since the epoch. */
export function normalizeSpan(span: Span, lang: string, now: bigint, counters: NormalizeCounters): void {
  // service
  if (span.service === '') {
    span.service = fallbackService(lang);
    counters.spanFixed('service_empty');
  } else {
    const s = normalizeServiceLike(span.service, counters, 'service_truncate', 'service_invalid');
    span.service = s === '' ? fallbackService(lang) : s;
  }
  const meta = span.meta;
  const peer = meta['peer.service'];
  if (peer !== undefined) meta['peer.service'] = normalizeServiceLike(peer, counters, 'peer_service_truncate', 'peer_service_invalid');
  const base = meta['_dd.base_service'];
  if (base !== undefined) meta['_dd.base_service'] = normalizeServiceLike(base, counters, 'base_service_truncate', 'base_service_invalid');

  // name
  if (span.name === '') {
    span.name = DEFAULT_SPAN_NAME;
    counters.spanFixed('span_name_empty');
  } else {
    let name = span.name;
    if (name.length > MAX_NAME_LENGTH / 3 && utf8Length(name) > MAX_NAME_LENGTH) {
      name = truncateUtf8(name, MAX_NAME_LENGTH);
      counters.spanFixed('span_name_truncate');
    }
    const n = normalizeMetricName(name);
    if (n === undefined) {
      span.name = DEFAULT_SPAN_NAME;
      counters.spanFixed('span_name_invalid');
    } else span.name = n;
  }

  if (span.resource === '') {
    span.resource = span.name;
    counters.spanFixed('resource_empty');
  }

  // Zipkin-style roots carry parent_id == trace_id == span_id.
  if (span.parentId !== 0n && span.parentId === span.traceId && span.parentId === span.spanId) span.parentId = 0n;

  // start + duration must fit in int64 (the agent's rule). Checked in bigint only when either is
  // large enough for it to matter, which real spans never are.
  if (span.duration < 0 || ((span.duration > 2 ** 53 || span.start > FAR_START) && BigInt(span.duration) > MAX_INT64 - span.start)) {
    span.duration = 0;
    counters.spanFixed('invalid_duration');
  }
  if (span.start < YEAR_2000_NS) {
    const start = now - BigInt(span.duration);
    span.start = start < 0n ? now : start;
    counters.spanFixed('invalid_start_date');
  }

  if (span.type.length > MAX_TYPE_LENGTH / 3 && utf8Length(span.type) > MAX_TYPE_LENGTH) {
    span.type = truncateUtf8(span.type, MAX_TYPE_LENGTH);
    counters.spanFixed('type_truncate');
  }

  const env = meta['env'];
  if (env !== undefined) meta['env'] = normalizeTagValue(env);

  const status = meta['http.status_code'];
  if (status !== undefined && !isValidStatusCode(status)) {
    delete meta['http.status_code'];
    counters.spanFixed('invalid_http_status_code');
  }

  if (span.spanLinks) {
    for (const link of span.spanLinks) {
      const ln = link.attributes?.['link.name'];
      if (ln !== undefined) link.attributes!['link.name'] = normalizeMetricName(ln) ?? DEFAULT_SPAN_NAME;
    }
  }

  truncateSpan(span);
}

/** The truncator: resource, meta keys/values and metric keys to the agent's limits. */
function truncateSpan(span: Span): void {
  if (span.resource.length > MAX_RESOURCE_LENGTH / 3 && utf8Length(span.resource) > MAX_RESOURCE_LENGTH) {
    span.resource = truncateUtf8(span.resource, MAX_RESOURCE_LENGTH);
  }
  const meta = span.meta;
  for (const k in meta) {
    const v = meta[k]!;
    let key = k;
    if (k.length > MAX_META_KEY_LENGTH / 3 && utf8Length(k) > MAX_META_KEY_LENGTH) {
      key = truncateUtf8(k, MAX_META_KEY_LENGTH) + '...';
      delete meta[k];
      meta[key] = v;
    }
    if (v.length > MAX_META_VALUE_LENGTH / 3 && utf8Length(v) > MAX_META_VALUE_LENGTH && !STRUCTURED_META_KEY.test(key)) {
      meta[key] = truncateUtf8(v, MAX_META_VALUE_LENGTH) + '...';
    }
  }
  const metrics = span.metrics;
  for (const k in metrics) {
    if (k.length > MAX_METRIC_KEY_LENGTH / 3 && utf8Length(k) > MAX_METRIC_KEY_LENGTH) {
      const v = metrics[k]!;
      delete metrics[k];
      metrics[truncateUtf8(k, MAX_METRIC_KEY_LENGTH) + '...'] = v;
    }
  }
}

/**
 * Validates a chunk as one trace and normalizes its spans. Returns why the chunk must be dropped,
 * or undefined when it is kept (possibly with fixed spans).
 */
export function normalizeChunk(chunk: TraceChunk, lang: string, now: bigint, counters: NormalizeCounters): TraceDropReason | undefined {
  if (chunk.length === 0) return 'empty_trace';
  const traceId = chunk[0]!.traceId;
  for (let i = 0; i < chunk.length; i++) {
    const s = chunk[i]!;
    if (s.traceId === 0n) return 'trace_id_zero';
    if (s.spanId === 0n) return 'span_id_zero';
    if (s.traceId !== traceId) return 'foreign_span';
  }
  if (chunk.length > 1) {
    const seen = new Set<bigint>();
    for (const s of chunk) {
      if (seen.has(s.spanId)) counters.spanFixed('duplicate_span_id');
      seen.add(s.spanId);
    }
  }
  for (let i = 0; i < chunk.length; i++) normalizeSpan(chunk[i]!, lang, now, counters);
  return undefined;
}
