import { describe, expect, it } from 'vitest';
import type { ApiSpan } from '@ecs-trace/agent/api-types';
import { logLinkHref } from './log-links.js';

const span = { traceId: '6750c9b600000000000000000000002a', spanId: '000000000000000f', parentId: '0', service: 'shop', name: 'web.request', resource: 'GET /', type: 'web', env: 'prod',
  start: String(1_796_000_000_000n * 1_000_000n), duration: 2_000_000_000, error: 0, meta: { 'ecs.task_arn': 'arn:aws:ecs:us-east-1:1:task/c/abc' }, metrics: { 'http.status_code': 200 } } as unknown as ApiSpan;

describe('log links', () => {
  it('fill a template with the span: ids as logs carry them, its window, its tags, every value encoded', () => {
    expect(logLinkHref('https://logs.example.com/search?q=dd.trace_id:{trace_id_64}&span={span_id}&svc={service}&env={env}&from={start}&to={end}&task={tag:ecs.task_arn}&code={tag:http.status_code}', span))
      .toBe(`https://logs.example.com/search?q=dd.trace_id:42&span=15&svc=shop&env=prod&from=${1_796_000_000_000 - 300_000}&to=${1_796_000_002_000 + 300_000}&task=arn%3Aaws%3Aecs%3Aus-east-1%3A1%3Atask%2Fc%2Fabc&code=200`);
    expect(logLinkHref('https://grafana/explore?q={trace_id}&t={start_iso}&nope={tag:missing}', span)).toBe(`https://grafana/explore?q=6750c9b600000000000000000000002a&t=${encodeURIComponent(new Date(1_796_000_000_000 - 300_000).toISOString())}&nope={tag:missing}`);
  });
});
