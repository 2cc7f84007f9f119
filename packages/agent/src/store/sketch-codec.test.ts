import { DDSketch } from '@datadog/sketches-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSketch, encodeSketch, newSketch, sketchBins, sketchFromBins } from './sketch-codec.js';

const QUANTILES = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1];
const quantiles = (s: DDSketch) => QUANTILES.map((q) => s.getValueAtQuantile(q));

function sketchOf(values: number[], make = newSketch): DDSketch {
  const s = make();
  for (const v of values) s.accept(v);
  return s;
}

const latencies = fc.array(fc.oneof(fc.double({ min: 1, max: 1e11, noNaN: true }), fc.constant(0), fc.double({ min: -1e9, max: -1e-3, noNaN: true })), { maxLength: 300 });

describe('sketch codec', () => {
  it('reads what sketches-js writes, and sketches-js reads what it writes, with the same counts and percentiles', () => {
    fc.assert(fc.property(latencies, (values) => {
      const s = sketchOf(values);
      // Read here, a sketch answers as the one written; sketches-js rebuilds its mapping from gamma
      // (the last digits of a value move), the same whichever wrote the bytes.
      expect(quantiles(decodeSketch(s.toProto()))).toEqual(quantiles(s));
      expect(quantiles(decodeSketch(encodeSketch(s)))).toEqual(quantiles(s));
      expect(quantiles(DDSketch.fromProto(encodeSketch(s)))).toEqual(quantiles(DDSketch.fromProto(s.toProto())));
      expect(decodeSketch(encodeSketch(s)).count).toBe(values.length);
    }), { numRuns: 300 });
  });

  it('decoded sketches merge as the originals do', () => {
    fc.assert(fc.property(latencies, latencies, (a, b) => {
      const merged = decodeSketch(encodeSketch(sketchOf(a)));
      merged.merge(decodeSketch(encodeSketch(sketchOf(b))));
      const reference = sketchOf(a);
      reference.merge(sketchOf(b));
      expect(merged.count).toBe(a.length + b.length);
      expect(quantiles(merged)).toEqual(quantiles(reference));
    }), { numRuns: 200 });
  });

  it('a sketch of another mapping is written as sketches-js writes it', () => {
    const theirs = sketchOf([1e6, 2e6, 5e7], () => new DDSketch({ relativeAccuracy: 0.0075 }));
    expect(encodeSketch(theirs)).toEqual(theirs.toProto());
  });

  it('skips fields it does not know, length-delimited ones too', () => {
    const s = sketchOf([1e6, 2e6, 3e6]);
    const unknown = Uint8Array.from([(9 << 3) | 2, 3, 1, 2, 3]);
    const withUnknown = new Uint8Array([...unknown, ...encodeSketch(s)]);
    expect(quantiles(decodeSketch(withUnknown))).toEqual(quantiles(s));
  });

  it('writes only the occupied bins', () => {
    const s = sketchOf([5e6, 5.1e6]);
    expect(encodeSketch(s).length).toBeLessThan(s.toProto().length / 10);
  });

  it('refuses bytes that are not a sketch, as sketches-js does', () => {
    expect(() => decodeSketch(Uint8Array.from([0x0a, 0xff, 0xff]))).toThrow();
  });
});

describe('a tracer\'s sketch (another mapping)', () => {
  it('is read in the agent\'s mapping, so that it merges with the agent\'s own, its values within 1%', () => {
    // ddtrace (libdatadog) and dd-trace-java send sketches of another relative accuracy.
    const theirs = sketchOf([1e6, 2e6, 5e7, 0, -3e3], () => new DDSketch({ relativeAccuracy: 0.0078125 }));
    const read = decodeSketch(theirs.toProto());
    expect(read.mapping.gamma).toBe(newSketch().mapping.gamma);
    expect(read.count).toBe(5);
    const ours = sketchOf([3e6]);
    ours.merge(read);
    expect(ours.count).toBe(6);
    for (const [q, v] of [[1, 5e7], [0.5, 1e6]] as const) expect(Math.abs(read.getValueAtQuantile(q) - v) / v).toBeLessThan(0.02);
  });

  it('as bins by key, which a columnar store sums: back to the same sketch, and two sketches summed as merged', () => {
    const a = newSketch();
    const b = newSketch();
    for (let i = 1; i <= 500; i++) a.accept(i * 1000);
    for (let i = 1; i <= 300; i++) b.accept(i * 7919);
    a.accept(0, 3);
    const back = sketchFromBins(sketchBins(a));
    expect(back.count).toBe(a.count);
    for (const q of [0.5, 0.95, 0.99]) expect(back.getValueAtQuantile(q)).toBe(a.getValueAtQuantile(q));
    const ba = sketchBins(a);
    const bb = sketchBins(b);
    const summed = { pos: { ...ba.pos }, neg: {}, zero: ba.zero + bb.zero };
    for (const [k, n] of Object.entries(bb.pos)) summed.pos[k] = (summed.pos[k] ?? 0) + n;
    const merged = newSketch();
    merged.merge(a);
    merged.merge(b);
    const fromSum = sketchFromBins(summed);
    expect(fromSum.count).toBe(merged.count);
    for (const q of [0.5, 0.95, 0.99]) expect(fromSum.getValueAtQuantile(q)).toBe(merged.getValueAtQuantile(q));
  });
});
