import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeJsonTraces, decodeV04, decodeV05, encodeV04, encodeV05, PayloadDecodeError, type Span } from './index.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixture = (name: string) => readFileSync(fixtures + name);
type Json = Record<string, unknown>;
const big = (v: unknown): bigint => (typeof v === 'string' && v.startsWith('BIG:') ? BigInt(v.slice(4)) : BigInt(v as number));

/** The captured request's decoded body, as the capture tool wrote it (ids as "BIG:<decimal>"). */
function expectedV04(): Json[][] {
  return JSON.parse(fixture('dd-trace-js-5.132-v0.4-traces.request.json').toString()).decoded as Json[][];
}

function sample(overrides: Partial<Span> = {}): Span {
  return {
    service: 'checkout', name: 'web.request', resource: 'GET /cart', type: 'web',
    traceId: 0xfedcba9876543210n, spanId: 0x8000000000000001n, parentId: 0n,
    start: 1795576142311005696n, duration: 6891602, error: 1,
    meta: { env: 'test', 'http.status_code': '500', 'ünïcode': '✓' }, metrics: { _sampling_priority_v1: 1, 'x.y': 0.25 },
    ...overrides,
  };
}

describe('v0.4 decoding of what dd-trace sends', () => {
  it('decodes the captured dd-trace 5.132 payload with exact ids, times, meta and metrics', () => {
    const chunks = decodeV04(fixture('dd-trace-js-5.132-v0.4-traces.msgpack'));
    const expected = expectedV04();
    expect(chunks.map((c) => c.length)).toEqual(expected.map((c) => c.length));
    chunks.forEach((chunk, t) => chunk.forEach((span, s) => {
      const e = expected[t]![s]!;
      expect(span.traceId).toBe(big(e['trace_id']));
      expect(span.spanId).toBe(big(e['span_id']));
      expect(span.parentId).toBe(big(e['parent_id']));
      expect(span.start).toBe(big(e['start']));
      expect(span.duration).toBe(e['duration']);
      expect(span.error).toBe(e['error']);
      expect([span.service, span.name, span.resource, span.type]).toEqual([e['service'], e['name'], e['resource'], e['type'] ?? '']);
      expect(span.meta).toEqual(e['meta']);
      expect(span.metrics).toEqual(e['metrics']);
    }));
  });

  it('agrees with msgpackr on every field of the fixture', () => {
    const body = fixture('dd-trace-js-5.132-v0.4-traces.msgpack');
    const generic = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true }).unpack(body) as Json[][];
    const ours = decodeV04(body);
    expect(ours[0]![0]!.meta).toEqual(generic[0]![0]!['meta']);
    expect(ours[0]![0]!.traceId).toBe(BigInt(generic[0]![0]!['trace_id'] as bigint));
  });

  it('round-trips spans through encodeV04, including links, events and meta_struct', () => {
    const span = sample({
      spanLinks: [{ traceId: 5n, traceIdHigh: 7n, spanId: 9n, attributes: { 'link.name': 'x' }, tracestate: 'dd=s:1', flags: 0x80000001 }],
      spanEvents: [{ timeUnixNano: 1795576142311005696n, name: 'exception', attributes: { 'exception.message': 'boom', n: 3, ok: true, d: 1.5, arr: ['a', 'b'] } }],
      metaStruct: { appsec: new Uint8Array([0x81, 0xa1, 0x61, 0x01]) },
    });
    expect(decodeV04(encodeV04([[span], [sample({ spanId: 2n })]]))).toEqual([[span], [sample({ spanId: 2n })]]);
  });

  it('accepts the tolerated encodings: signed ids, bin strings, nil fields, unknown keys, nil spans', () => {
    const p = new Packr({ useRecords: false, variableMapSize: true });
    const body = p.pack([[null, {
      trace_id: -1, span_id: 42, parent_id: null, name: Buffer.from('bin-name'), service: null,
      start: 1_700_000_000_000_000_000n, duration: 5, unknown_key: { nested: [1, 2, 3] }, metrics: { m: 3 },
    }]]);
    const [[span]] = decodeV04(body) as [[Span]];
    expect(span.traceId).toBe((1n << 64n) - 1n);
    expect(span.parentId).toBe(0n);
    expect(span.name).toBe('bin-name');
    expect(span.service).toBe('');
    expect(span.metrics).toEqual({ m: 3 });
  });

  it('repairs invalid UTF-8 with U+FFFD', () => {
    const w = Buffer.from([0x91, 0x91, 0x81, 0xa7, ...Buffer.from('service'), 0xa3, 0x61, 0xff, 0x62]);
    expect(decodeV04(w)[0]![0]!.service).toBe('a\ufffdb');
  });

  it('keeps a tag named __proto__ as data', () => {
    const body = encodeV04([[sample({ meta: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string> })]]);
    const meta = decodeV04(body)[0]![0]!.meta;
    expect(Object.keys(meta)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(meta)).toBe(Object.prototype);
  });

  const bad: [string, () => Buffer, RegExp][] = [
    ['a map at the top', () => new Packr({ useRecords: false }).pack({ a: 1 }), /^payload \(an array of traces\): expected an array, got map$/],
    ['a string as trace_id', () => new Packr({ useRecords: false }).pack([[{ trace_id: 'abc' }]]), /^trace 0, span 0: trace_id: expected an unsigned integer, got str$/],
    ['float32 metrics', () => Buffer.from([0x91, 0x91, 0x81, 0xa7, ...Buffer.from('metrics'), 0x81, 0xa1, 0x6d, 0xca, 0, 0, 0, 0]), /metrics\["m"\]: float32 values are not accepted/],
    ['a truncated body', () => encodeV04([[sample()]]).subarray(0, 40), /unexpected end of payload/],
    ['an array header larger than the body', () => Buffer.from([0xdd, 0x01, 0x00, 0x00, 0x00]), /container of 16777216 elements is longer than the 0 bytes left/],
    ['a start above int64', () => Buffer.from([0x91, 0x91, 0x81, 0xa5, ...Buffer.from('start'), 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /start: 18446744073709551615 overflows int64/],
    ['error above int32', () => new Packr({ useRecords: false }).pack([[{ error: 2 ** 31 }]]), /error: 2147483648 overflows int32/],
  ];
  it.each(bad)('refuses %s with a reason', (_label, make, message) => {
    expect(() => decodeV04(make())).toThrow(PayloadDecodeError);
    expect(() => decodeV04(make())).toThrow(message);
  });
});

describe('v0.5', () => {
  it('decodes the captured dd-trace payload like its v0.4 twin', () => {
    const chunks = decodeV05(fixture('dd-trace-js-5.132-v0.5-traces.msgpack'));
    const expected = JSON.parse(fixture('dd-trace-js-5.132-v0.5-traces.request.json').toString()) as { decoded: [string[], unknown[][][]] };
    const [dict, traces] = expected.decoded;
    expect(chunks.length).toBe(traces.length);
    const first = traces[0]![0]!;
    const span = chunks[0]![0]!;
    expect(span.service).toBe(dict[first[0] as number]);
    expect(span.traceId).toBe(big(first[3]));
    expect(span.start).toBe(big(first[6]));
    const meta = first[9] as Record<string, number>;
    expect(Object.keys(span.meta).length).toBe(Object.keys(meta).length);
  });

  it('round-trips through encodeV05', () => {
    const chunks = [[sample(), sample({ spanId: 3n, parentId: 0x8000000000000001n })]];
    expect(decodeV05(encodeV05(chunks))).toEqual(chunks);
  });

  it('refuses a span that is not 12 elements and a dictionary index out of range', () => {
    const p = new Packr({ useRecords: false });
    expect(() => decodeV05(p.pack([[''], [[[0, 0, 0]]]]))).toThrow('trace 0, span 0: encoded span needs exactly 12 elements in array, got 3');
    expect(() => decodeV05(p.pack([[''], [[[0, 0, 5, 1, 1, 0, 1, 1, 0, {}, {}, 0]]]]))).toThrow('resource: dictionary index 5 out of range (dictionary has 1 strings)');
    expect(() => decodeV05(p.pack([[], []]).subarray(0, 1))).toThrow(PayloadDecodeError);
  });
});

describe('JSON', () => {
  it('keeps ids above 2^53 exact', () => {
    const body = Buffer.from('[[{"trace_id":18446744073709551615,"span_id":9007199254740993,"start":1795576142311005696,"duration":5,"service":"s","meta":{"a":"b"},"metrics":{"m":1.5}}]]');
    const [[span]] = decodeJsonTraces(body) as [[Span]];
    expect(span.traceId).toBe(18446744073709551615n);
    expect(span.spanId).toBe(9007199254740993n);
    expect(span.start).toBe(1795576142311005696n);
    expect(span.metrics).toEqual({ m: 1.5 });
  });

  it('refuses bad JSON and wrong types with a reason', () => {
    expect(() => decodeJsonTraces(Buffer.from('[[{'))).toThrow(/^invalid JSON/);
    expect(() => decodeJsonTraces(Buffer.from('[[{"trace_id":"x"}]]'))).toThrow('trace 0, span 0: trace_id: expected an unsigned integer, got string');
    expect(() => decodeJsonTraces(Buffer.from('{"a":1}'))).toThrow('payload: expected an array of traces, got object');
  });
});

describe('parseTraceId', () => {
  it('reads decimal ids as tracers log them and hex ids as the API returns them', async () => {
    const { parseTraceId } = await import('./index.js');
    expect(parseTraceId('18446744073709551615')).toBe('0000000000000000ffffffffffffffff');
    expect(parseTraceId('153')).toBe('00000000000000000000000000000099');
    expect(parseTraceId('0000000000000077')).toBe('00000000000000000000000000000077');
    expect(parseTraceId('6B06514E00000000FEDCBA9876543210')).toBe('6b06514e00000000fedcba9876543210');
    expect(() => parseTraceId('18446744073709551616')).toThrow('larger than a 64-bit decimal id');
    expect(() => parseTraceId('xyz')).toThrow('neither 32 hex characters nor a decimal 64-bit id');
  });
});
