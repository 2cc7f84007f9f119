import { describe, expect, it } from 'vitest';
import { emptySpan, type Span } from '../span.js';
import { decodeOtlpProtobuf } from './decode-protobuf.js';
import { encodeOtlpFromDatadog, otelAttributeName, otelSpanKind, TraceIdHighCache } from './from-datadog.js';
import type { OtlpAttribute, OtlpValue } from './model.js';

/* Datadog spans to OTLP, read back with the intake's decoder; the real receiver's view is in e2e. */

const span = (over: Partial<Span>): Span => ({ ...emptySpan(), service: 'web', name: 'http.request', resource: 'GET /x', traceId: 0xfedcba9876543210n, spanId: 2n, start: 1_700_000_000_000_000_000n, duration: 5_000, ...over });
const attrs = (list: OtlpAttribute[]): Record<string, OtlpValue> => Object.fromEntries(list.map((a) => [a.key, a.value]));

describe('Datadog spans to OTLP', () => {
  const root = span({ meta: { '_dd.p.tid': '0123456789abcdef', 'http.method': 'GET', 'http.status_code': '500', env: 'prod', version: '2.1', task_arn: 'arn:aws:ecs:eu-west-1:1:task/c/abc', 'http.request.headers.x-id': '7', 'error.msg': 'boom' }, metrics: { '_sampling_priority_v1': 2, '_top_level': 1 }, error: 1, type: 'web' });
  const child = span({ service: 'db', name: 'pg.query', resource: 'SELECT ?', spanId: 3n, parentId: 2n, type: 'sql', meta: { 'span.kind': 'client', 'db.type': 'postgresql' }, spanLinks: [{ traceId: 5n, traceIdHigh: 6n, spanId: 7n, attributes: { reason: 'retry' }, flags: 1 }] });
  const req = decodeOtlpProtobuf(encodeOtlpFromDatadog([{ chunks: [[root, child]], env: 'fallback', hostname: 'ip-10-0-0-1', containerId: 'c0ffee', lang: '.NET', tracerVersion: '3.1.0' }]));

  it('makes one resource per service, with the tracer as the resource and scope', () => {
    expect(req.resourceSpans.map((r) => attrs(r.resourceAttributes)['service.name'])).toEqual([{ string: 'web' }, { string: 'db' }]);
    expect(attrs(req.resourceSpans[0]!.resourceAttributes)).toMatchObject({
      'container.id': { string: 'c0ffee' }, 'telemetry.sdk.language': { string: 'dotnet' }, 'deployment.environment': { string: 'prod' },
      'host.name': { string: 'ip-10-0-0-1' }, 'service.version': { string: '2.1' }, 'telemetry.sdk.name': { string: 'Datadog' }, 'telemetry.sdk.version': { string: 'Datadog-3.1.0' },
    });
    expect(attrs(req.resourceSpans[1]!.resourceAttributes)['deployment.environment']).toEqual({ string: 'fallback' });
    expect(req.resourceSpans[0]!.scopeSpans[0]).toMatchObject({ scopeName: 'Datadog', scopeVersion: '3.1.0' });
  });

  it('keeps 128-bit ids, parentage, times, kind and error status', () => {
    const [r, c] = [req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, req.resourceSpans[1]!.scopeSpans[0]!.spans[0]!];
    expect(Buffer.from(r.traceId).toString('hex')).toBe('0123456789abcdeffedcba9876543210');
    // The child carries no _dd.p.tid (tracers tag one span of a chunk): it takes its trace's.
    expect(Buffer.from(c.traceId).toString('hex')).toBe('0123456789abcdeffedcba9876543210');
    expect(Buffer.from(r.spanId).toString('hex')).toBe('0000000000000002');
    expect(r.parentSpanId.length).toBe(0);
    expect(Buffer.from(c.parentSpanId).toString('hex')).toBe('0000000000000002');
    expect(r).toMatchObject({ name: 'http.request', kind: 2, startTimeUnixNano: 1_700_000_000_000_000_000n, endTimeUnixNano: 1_700_000_000_000_005_000n, statusCode: 2 });
    expect(c).toMatchObject({ kind: 3, statusCode: 0 });
    expect(c.links).toHaveLength(1);
    expect(Buffer.from(c.links[0]!.traceId).toString('hex')).toBe('00000000000000060000000000000005');
    expect(attrs(c.links[0]!.attributes)).toEqual({ reason: { string: 'retry' } });
  });

  it('writes meta and metrics as attributes under their OpenTelemetry names', () => {
    const a = attrs(req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes);
    expect(a).toMatchObject({
      'dd.span.Resource': { string: 'GET /x' }, 'datadog.span.id': { string: '2' }, 'datadog.trace.id': { string: String(0xfedcba9876543210n) },
      'sampling.priority': { string: '2.000000' }, 'http.request.method': { string: 'GET' }, 'http.response.status_code': { string: '500' },
      'deployment.environment.name': { string: 'prod' }, 'service.version': { string: '2.1' }, 'aws.ecs.task.arn': { string: 'arn:aws:ecs:eu-west-1:1:task/c/abc' },
      'http.request.header.x-id': { string: '7' }, 'exception.message': { string: 'boom' }, '_dd.p.tid': { string: '0123456789abcdef' },
      '_sampling_priority_v1': { double: 2 }, '_top_level': { double: 1 },
    });
    expect(attrs(req.resourceSpans[1]!.scopeSpans[0]!.spans[0]!.attributes)['db.system.name']).toEqual({ string: 'postgresql' });
  });

  it('remembers the upper half of a trace id for the trace\'s later chunks', () => {
    const highs = new TraceIdHighCache();
    const first = span({ meta: { '_dd.p.tid': '00000000000000aa' }, traceId: 9n });
    const later = span({ traceId: 9n, spanId: 5n });
    const other = span({ traceId: 10n, spanId: 6n });
    encodeOtlpFromDatadog([{ chunks: [[first]], env: '', hostname: '', containerId: '', lang: '', tracerVersion: '' }], highs);
    const out = decodeOtlpProtobuf(encodeOtlpFromDatadog([{ chunks: [[later], [other]], env: '', hostname: '', containerId: '', lang: '', tracerVersion: '' }], highs));
    expect(out.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => Buffer.from(s.traceId).toString('hex'))).toEqual(['00000000000000aa0000000000000009', '0000000000000000000000000000000a']);
  });

  it('keeps the upper halves of the most recent traces within its bound', () => {
    const highs = new TraceIdHighCache(1000);
    for (let i = 1n; i <= 2500n; i++) highs.set(i, i + 7n);
    // The newest half of the bound at least, never more than the bound.
    for (let i = 2001n; i <= 2500n; i++) expect(highs.get(i)).toBe(i + 7n);
    let kept = 0;
    for (let i = 1n; i <= 2500n; i++) if (highs.get(i) !== undefined) kept++;
    expect(kept).toBeLessThanOrEqual(1000);
    expect(highs.get(1n)).toBeUndefined();
  });

  it('maps names and kinds as the receiver does', () => {
    expect(otelAttributeName('HTTP.URL')).toBe('url.full');
    expect(otelAttributeName('error.stack')).toBe('error.stack');
    expect(otelAttributeName('_dd.origin')).toBe('_dd.origin');
    expect(otelSpanKind(span({ type: 'http' }))).toBe(3);
    expect(otelSpanKind(span({ type: 'sql' }))).toBe(0);
    expect(otelSpanKind(span({ meta: { 'span.kind': 'Consumer' } }))).toBe(5);
  });

  it('takes links from the tracer\'s _dd.span_links tag, and drops the tag', () => {
    const s = span({ meta: { '_dd.span_links': JSON.stringify([{ trace_id: '000000000000000a000000000000000b', span_id: '000000000000000c', attributes: { n: 1 } }]) } });
    const out = decodeOtlpProtobuf(encodeOtlpFromDatadog([{ chunks: [[s]], env: '', hostname: '', containerId: '', lang: 'nodejs', tracerVersion: '' }])).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(Buffer.from(out.links[0]!.traceId).toString('hex')).toBe('000000000000000a000000000000000b');
    expect(attrs(out.links[0]!.attributes)).toEqual({ n: { string: '1' } });
    expect(attrs(out.attributes)['_dd.span_links']).toBeUndefined();
  });
});
