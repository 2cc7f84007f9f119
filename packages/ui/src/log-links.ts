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

/** A value inside Logs Insights' console fragment: URL-encoded, then `%` written `*` (its own escape). */
function insightsValue(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%/g, '*');
}

/** Where the span's container logs (awslogs group, region, stream): on the span, or on another span of its container. */
export function awslogsOf(s: ApiSpan, spans: readonly ApiSpan[]): { group: string; region: string; stream?: string } | undefined {
  const container = s.meta['container_id'];
  const carrier = s.meta['awslogs_group'] !== undefined ? s : container === undefined ? undefined : spans.find((x) => x.meta['container_id'] === container && x.meta['awslogs_group'] !== undefined);
  const group = carrier?.meta['awslogs_group'];
  const region = carrier?.meta['awslogs_region'];
  if (!carrier || !group || !region) return undefined;
  const stream = carrier.meta['awslogs_stream'];
  return { group, region, ...(stream ? { stream } : {}) };
}

/**
 * CloudWatch Logs Insights on the span's container's log group and stream, over the span's time
 * five minutes either side, with a query on its trace id as tracers inject it with
 * DD_LOGS_INJECTION (`dd.trace_id`: the low 64 bits in decimal, or all 128 bits in hex).
 */
export function cloudWatchLogsHref(s: ApiSpan, logs: { group: string; region: string; stream?: string }): string {
  const startMs = Number(BigInt(s.start) / 1_000_000n) - WINDOW_MS;
  const endMs = Number((BigInt(s.start) + BigInt(s.duration)) / 1_000_000n) + WINDOW_MS;
  const decimal = BigInt(`0x${s.traceId.slice(-16)}`).toString(10);
  const query = [
    'fields @timestamp, @logStream, @message',
    ...(logs.stream ? [`| filter @logStream = '${logs.stream.replace(/'/g, "\\'")}'`] : []),
    `| filter @message like /${decimal}|${s.traceId}/`,
    '| sort @timestamp asc',
  ].join('\n');
  const detail = `~(end~'${insightsValue(new Date(endMs).toISOString())}~start~'${insightsValue(new Date(startMs).toISOString())}~timeType~'ABSOLUTE~tz~'UTC~editorString~'${insightsValue(query)}~source~(~'${insightsValue(logs.group)}))`;
  const region = encodeURIComponent(logs.region);
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:logs-insights${encodeURIComponent(`?queryDetail=${detail}`).replace(/%/g, '$')}`;
}
