import type { ApiSpan as Span } from '@ecs-trace/agent/api-types';

/*
 * A span's links to spans of other traces, whichever way the tracer sent them: as span links
 * (v0.4's span_links, OTLP's links; ids in decimal) or, as dd-trace 5 and 6 do, as the
 * `_dd.span_links` tag (JSON, ids in hex). Each names the trace to open.
 */

export interface LinkTo {
  /** 32 hex digits, as the trace page takes it. */
  traceId: string;
  spanId: string;
  attributes: Record<string, string>;
}

const hex = (v: bigint, digits: number) => v.toString(16).padStart(digits, '0');

function fromTag(text: string): LinkTo[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: LinkTo[] = [];
  for (const l of parsed as { trace_id?: unknown; span_id?: unknown; attributes?: unknown }[]) {
    if (typeof l?.trace_id !== 'string' || typeof l.span_id !== 'string' || !/^[0-9a-f]{1,32}$/i.test(l.trace_id) || !/^[0-9a-f]{1,16}$/i.test(l.span_id)) continue;
    const attributes = l.attributes && typeof l.attributes === 'object' ? Object.fromEntries(Object.entries(l.attributes as Record<string, unknown>).map(([k, v]) => [k, String(v)])) : {};
    out.push({ traceId: l.trace_id.toLowerCase().padStart(32, '0'), spanId: l.span_id.toLowerCase().padStart(16, '0'), attributes });
  }
  return out;
}

export function linksOf(span: Pick<Span, 'meta' | 'spanLinks'>): LinkTo[] {
  const links: LinkTo[] = (span.spanLinks ?? []).map((l) => ({
    traceId: hex(BigInt(l.traceIdHigh), 16) + hex(BigInt(l.traceId), 16), spanId: hex(BigInt(l.spanId), 16), attributes: { ...(l.attributes ?? {}) },
  }));
  const tag = span.meta['_dd.span_links'];
  return tag === undefined ? links : [...links, ...fromTag(tag)];
}
