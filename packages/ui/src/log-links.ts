import type { ApiSpan } from '@ecs-trace/agent/api-types';

/*
 * A log link's template (ECS_TRACE_LOG_LINKS) filled in for a span: its trace id (32 hex, and the
 * low 64 bits in decimal as dd-trace injects `dd.trace_id`), span id (decimal), service, env, a
 * window of five minutes either side of it (ms and ISO), and {tag:NAME}; every value URL-encoded.
 */

const WINDOW_MS = 5 * 60_000;

export function logLinkHref(template: string, s: ApiSpan): string {
  const startMs = Number(BigInt(s.start) / 1_000_000n) - WINDOW_MS;
  const endMs = Number((BigInt(s.start) + BigInt(s.duration)) / 1_000_000n) + WINDOW_MS;
  const values: Record<string, string> = {
    trace_id: s.traceId, trace_id_64: BigInt(`0x${s.traceId.slice(-16)}`).toString(10), span_id: BigInt(`0x${s.spanId}`).toString(10),
    service: s.service, env: s.env, start: String(startMs), end: String(endMs), start_iso: new Date(startMs).toISOString(), end_iso: new Date(endMs).toISOString(),
  };
  return template.replace(/\{(tag:[^}]+|[a-z_0-9]+)\}/g, (whole, key: string) => {
    const v = key.startsWith('tag:') ? s.meta[key.slice(4)] ?? (s.metrics[key.slice(4)] !== undefined ? String(s.metrics[key.slice(4)]) : undefined) : values[key];
    return v === undefined ? whole : encodeURIComponent(v);
  });
}
