import { describe, expect, it } from 'vitest';
import type { ApiSpan } from '@ecs-trace/agent/api-types';
import { awslogsOf, cloudWatchLogsHref, logLinkHref } from './log-links.js';
import { readInsightsLink } from './log-links.testing.js';

const span = { traceId: '6750c9b600000000000000000000002a', spanId: '000000000000000f', parentId: '0', service: 'shop', name: 'web.request', resource: 'GET /', type: 'web', env: 'prod',
  start: String(1_796_000_000_000n * 1_000_000n), duration: 2_000_000_000, error: 0, meta: { 'ecs.task_arn': 'arn:aws:ecs:us-east-1:1:task/c/abc' }, metrics: { 'http.status_code': 200 } } as unknown as ApiSpan;

describe('log links', () => {
  it('fill a template with the span: ids as logs carry them, its window, its tags, every value encoded', () => {
    expect(logLinkHref('https://logs.example.com/search?q=dd.trace_id:{trace_id_64}&span={span_id}&svc={service}&env={env}&from={start}&to={end}&task={tag:ecs.task_arn}&code={tag:http.status_code}', span))
      .toBe(`https://logs.example.com/search?q=dd.trace_id:42&span=15&svc=shop&env=prod&from=${1_796_000_000_000 - 300_000}&to=${1_796_000_002_000 + 300_000}&task=arn%3Aaws%3Aecs%3Aus-east-1%3A1%3Atask%2Fc%2Fabc&code=200`);
    expect(logLinkHref('https://grafana/explore?q={trace_id}&t={start_iso}&nope={tag:missing}', span)).toBe(`https://grafana/explore?q=6750c9b600000000000000000000002a&t=${encodeURIComponent(new Date(1_796_000_000_000 - 300_000).toISOString())}&nope={tag:missing}`);
  });
});

describe('CloudWatch Logs Insights links from a container\'s awslogs settings', () => {
  const logs = { awslogs_group: '/ecs/shop', awslogs_region: 'eu-west-1', awslogs_stream: 'ecs/web/0123abcd', container_id: 'c1' };
  const root = { ...span, meta: { ...span.meta, ...logs } } as unknown as ApiSpan;
  const child = { ...span, spanId: '0000000000000010', meta: { container_id: 'c1' } } as unknown as ApiSpan;
  const other = { ...span, meta: { container_id: 'c2' } } as unknown as ApiSpan;

  it("finds a span's container's settings on the span or another of its container's spans", () => {
    expect(awslogsOf(child, [root, child])).toEqual({ group: '/ecs/shop', region: 'eu-west-1', stream: 'ecs/web/0123abcd' });
    expect(awslogsOf(other, [root, child, other])).toBeUndefined();
  });

  it('opens Logs Insights on that group, region and stream, over the span\'s window, with a query on its trace id in both injected forms', () => {
    const href = cloudWatchLogsHref(child, awslogsOf(child, [root, child])!);
    expect(href.startsWith('https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights$3FqueryDetail$3D~(')).toBe(true);
    const d = readInsightsLink(href);
    expect(d.source).toEqual(['/ecs/shop']);
    expect(d.start).toBe(new Date(1_796_000_000_000 - 300_000).toISOString());
    expect(d.end).toBe(new Date(1_796_000_002_000 + 300_000).toISOString());
    expect(d.query).toContain("| filter @logStream = 'ecs/web/0123abcd'");
    const pattern = new RegExp(/like \/(.+)\//.exec(d.query)![1]!);
    // dd-trace's JSON line (pino) and ddtrace's text form, 64-bit decimal and 128-bit hex.
    expect(pattern.test('{"level":30,"dd":{"trace_id":"42","span_id":"16"},"msg":"paid"}')).toBe(true);
    expect(pattern.test('2026-12-07 INFO [dd.service=shop dd.trace_id=6750c9b600000000000000000000002a dd.span_id=16] paid')).toBe(true);
    expect(pattern.test('{"dd":{"trace_id":"43"}}')).toBe(false);
  });
});
