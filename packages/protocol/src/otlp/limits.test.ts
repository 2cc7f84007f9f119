import { describe, expect, it } from 'vitest';
import { PayloadDecodeError } from '../errors.js';
import { limitOtlpRequest, otlpSlices } from './limits.js';
import type { OtlpAttribute, OtlpSpan, OtlpTraceRequest } from './model.js';
import { otlpToDatadog } from './to-datadog.js';

/* What mapping an OTLP request may cost: attributes capped, copies counted, slices bounded. */

const attrs = (prefix: string, n: number, value = 'v'): OtlpAttribute[] => Array.from({ length: n }, (_, i) => ({ key: `${prefix}.${i}`, value: { string: value } }));

function spanOf(i: number, attributes: OtlpAttribute[] = []): OtlpSpan {
  const traceId = new Uint8Array(16);
  traceId[15] = (i % 250) + 1;
  const spanId = new Uint8Array(8);
  new DataView(spanId.buffer).setUint32(4, i + 1);
  return {
    traceId, spanId, traceState: '', parentSpanId: new Uint8Array(0), name: `op${i}`, kind: 1,
    startTimeUnixNano: 1_000n, endTimeUnixNano: 2_000n, attributes, events: [], links: [], statusCode: 0, statusMessage: '',
  };
}

/** Resources x scopes x spans, each resource and scope with `n` attributes of `value`. */
function fanOut(resources: number, scopes: number, spans: number, n = 4, value = 'v'): OtlpTraceRequest {
  let i = 0;
  return {
    resourceSpans: Array.from({ length: resources }, (_, r) => ({
      resourceAttributes: [{ key: 'service.name', value: { string: `svc${r}` } }, ...attrs('r', n, value)],
      scopeSpans: Array.from({ length: scopes }, (_, s) => ({
        scopeName: `scope${s}`, scopeVersion: '1', scopeAttributes: attrs('s', n, value),
        spans: Array.from({ length: spans }, () => spanOf(i++)),
      })),
    })),
  };
}

describe('limitOtlpRequest', () => {
  it('keeps the first attributes of a span, a resource and a scope up to the cap, and says how many went', () => {
    const req = fanOut(1, 1, 1, 200);
    req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes = attrs('a', 300);
    const { dropped } = limitOtlpRequest(req, { maxAttributes: 128, maxMappedBytes: 1 << 30 });
    const rs = req.resourceSpans[0]!;
    expect([rs.resourceAttributes.length, rs.scopeSpans[0]!.scopeAttributes.length, rs.scopeSpans[0]!.spans[0]!.attributes.length]).toEqual([128, 128, 128]);
    expect(rs.scopeSpans[0]!.spans[0]!.attributes.at(-1)!.key).toBe('a.127');
    expect(dropped).toBe(201 - 128 + 200 - 128 + 300 - 128);
  });

  it('counts the copies mapping makes, and refuses a request past the bound saying by how much', () => {
    // 1,000 spans, each given 2 x 64 attributes of 1 KiB: about 130 MiB once mapped.
    const req = fanOut(1, 1, 1000, 64, 'x'.repeat(1024));
    expect(() => limitOtlpRequest(req, { maxAttributes: 128, maxMappedBytes: 64 * 1048576 })).toThrow(PayloadDecodeError);
    expect(() => limitOtlpRequest(req, { maxAttributes: 128, maxMappedBytes: 64 * 1048576 })).toThrow(/^request: its 1000 spans would take 126 MiB once mapped .* over the 64 MiB a request may/);
    expect(limitOtlpRequest(req, { maxAttributes: 128, maxMappedBytes: 256 * 1048576 }).mappedBytes).toBeGreaterThan(128 * 1024 * 1000);
  });
});

describe('otlpSlices', () => {
  it('hands on every span once, in order, each slice within its bound, resources and scopes repeated', () => {
    const whole = fanOut(3, 2, 50, 16, 'x'.repeat(100));
    const expected = otlpToDatadog(fanOut(3, 2, 50, 16, 'x'.repeat(100))).flatMap((p) => p.chunks.flat()).map((s) => [s.service, s.name, s.meta['otel.library.name'], s.meta['r.3'], s.meta['s.3']]);
    const slices = [...otlpSlices(whole, 20_000)];
    expect(slices.length).toBeGreaterThan(10);
    const got = slices.flatMap((slice) => otlpToDatadog(slice).flatMap((p) => p.chunks.flat())).map((s) => [s.service, s.name, s.meta['otel.library.name'], s.meta['r.3'], s.meta['s.3']]);
    expect(got.map((x) => x[1]).sort()).toEqual(expected.map((x) => x[1]).sort());
    expect(new Set(got.map((x) => JSON.stringify(x)))).toEqual(new Set(expected.map((x) => JSON.stringify(x))));
    for (const slice of slices) {
      const spans = slice.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      // Each span maps to about 2 x 16 x 104 bytes of copies plus its own: at most 20,000 a slice.
      expect(spans.length).toBeGreaterThan(0);
      expect(spans.length).toBeLessThanOrEqual(Math.floor(20_000 / (2 * 16 * 104)));
    }
  });

  it('gives a span larger than the bound a slice of its own', () => {
    const slices = [...otlpSlices(fanOut(1, 1, 3, 8, 'x'.repeat(10_000)), 1000)];
    expect(slices.map((s) => s.resourceSpans[0]!.scopeSpans[0]!.spans.length)).toEqual([1, 1, 1]);
  });
});
