import { parseTraceId, toHex64, traceIdHex as chunkTraceIdHex } from '@ecs-trace/protocol';
import type { StoredChunk } from '../process/index.js';
import type { SpanRecord, TraceId, TraceRecord, TraceSummaryRecord } from '../store/index.js';
import type { ApiLiveChunk, ApiSpan, ApiSpanEvent, ApiSpanLink, ApiTrace, ApiTraceSummary } from './api-types.js';

/*
 * Store records to the API's JSON, in one place: ids to hex, times to decimal strings, bytes to
 * base64. Every backend returns raw records; none formats anything.
 */

export function traceIdToHex(id: TraceId): string {
  return toHex64(id.high) + toHex64(id.low);
}

/** A trace id as a user gives it (32 hex characters, or a decimal 64-bit id); throws TraceIdParseError. */
export function parseTraceIdParam(raw: string): TraceId {
  const hex = parseTraceId(raw);
  return { high: BigInt('0x' + hex.slice(0, 16)), low: BigInt('0x' + hex.slice(16)) };
}

export function toApiSummary(r: TraceSummaryRecord): ApiTraceSummary {
  return {
    traceId: traceIdToHex(r.traceId), rootService: r.rootService, rootName: r.rootName, rootResource: r.rootResource,
    start: r.start.toString(), duration: r.duration, spanCount: r.spanCount, errorCount: r.errorCount,
    services: r.services, env: r.env, incomplete: r.incomplete,
  };
}

function base64Values(m: Record<string, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in m) out[k] = Buffer.from(m[k]!).toString('base64');
  return out;
}

function toApiSpan({ span: s, env }: SpanRecord, traceId: string): ApiSpan {
  const out: ApiSpan = {
    traceId, spanId: toHex64(s.spanId), parentId: toHex64(s.parentId), service: s.service, name: s.name,
    resource: s.resource, type: s.type, env, start: s.start.toString(), duration: s.duration, error: s.error,
    meta: s.meta, metrics: s.metrics,
  };
  if (s.metaStruct) out.metaStruct = base64Values(s.metaStruct);
  if (s.spanLinks) {
    out.spanLinks = s.spanLinks.map((l) => {
      const link: ApiSpanLink = { traceId: l.traceId.toString(), traceIdHigh: l.traceIdHigh.toString(), spanId: l.spanId.toString() };
      if (l.attributes !== undefined) link.attributes = l.attributes;
      if (l.tracestate !== undefined) link.tracestate = l.tracestate;
      if (l.flags !== undefined) link.flags = l.flags;
      return link;
    });
  }
  if (s.spanEvents) {
    out.spanEvents = s.spanEvents.map((e) => {
      const event: ApiSpanEvent = { timeUnixNano: e.timeUnixNano.toString(), name: e.name };
      if (e.attributes !== undefined) event.attributes = e.attributes;
      return event;
    });
  }
  return out;
}

export function toApiTrace(r: TraceRecord): ApiTrace {
  const summary = toApiSummary(r.summary);
  return { summary, spans: r.spans.map((s) => toApiSpan(s, summary.traceId)) };
}

export function toApiLiveChunk({ chunk, root, env }: StoredChunk): ApiLiveChunk {
  return {
    traceId: chunkTraceIdHex(BigInt.asUintN(64, root.traceId), root.meta['_dd.p.tid']), service: root.service, name: root.name, resource: root.resource, start: root.start.toString(),
    duration: root.duration, error: chunk.some((s) => s.error !== 0), spans: chunk.length, env,
    ...(root.meta['task_family'] ? { task: `${root.meta['task_family']}:${root.meta['task_version'] ?? ''}` } : {}),
    ...(root.meta['ecs_container_name'] ? { container: root.meta['ecs_container_name'] } : {}),
  };
}

