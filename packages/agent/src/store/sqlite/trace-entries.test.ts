import { describe, expect, it } from 'vitest';
import type { ChunkRow } from '../prepare-write.js';
import { Entries, idFilter, packEntries, pageColumns } from './trace-entries.js';

/** Deterministic 64-bit values (xorshift), signed as the store keeps trace ids. */
function ids(n: number, seed = 0x9e3779b97f4a7c15n): bigint[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x ^= (x << 13n) & 0xffff_ffff_ffff_ffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffff_ffff_ffff_ffffn;
    return BigInt.asIntN(64, x);
  });
}

const chunk = (traceId: bigint, offset: number, root: boolean): ChunkRow => ({
  traceId, traceIdHigh: root ? '6750c9b600000000' : '', offset, start: 1_000n + BigInt(offset), end: 2_000n + BigInt(offset),
  rootSpanId: root ? -5n : null, rootService: 's', rootName: 'n', rootResource: 'r', env: 'e', spanCount: offset + 1, errorCount: offset % 3, services: 's',
});

describe('trace-id index entries', () => {
  it('pack a payload sorted by trace id and read back every field', () => {
    const traceIds = [...ids(40), 0n, -1n, 0x7fff_ffff_ffff_ffffn, -0x8000_0000_0000_0000n, 0xffff_ffffn, 0x1_0000_0000n];
    const chunks = traceIds.map((t, i) => chunk(t, i * 10, i % 2 === 0));
    const e = new Entries(packEntries(7n, chunks, chunks.map((_, i) => i * 1000)));
    const read = Array.from({ length: e.count }, (_, i) => e.chunk(i));
    expect(read.map((c) => c.trace_id)).toEqual([...traceIds].sort((a, b) => (a < b ? -1 : 1)));
    for (const c of read) {
      const i = traceIds.indexOf(c.trace_id);
      expect(c).toEqual({
        trace_id: traceIds[i], payload: 7n, offset: BigInt(i * 10), trace_id_high: i % 2 === 0 ? 0x6750c9b600000000n : 0n,
        start: 1_000n + BigInt(i * 10), end: 2_000n + BigInt(i * 10), root_span_id: i % 2 === 0 ? -5n : null,
        span_count: BigInt(i * 10 + 1), error_count: BigInt((i * 10) % 3), names: BigInt(i * 1000),
      });
      const found: ReturnType<Entries['chunk']>[] = [];
      e.find(c.trace_id, found);
      expect(found).toEqual([c]);
    }
    const none: ReturnType<Entries['chunk']>[] = [];
    e.find(12345n, none);
    expect(none).toEqual([]);
  });

  it("have page filters that pass every id a page holds, and few it lacks", () => {
    const all = ids(32 * 200);
    let passed = 0;
    const others = ids(1000, 12345n);
    for (let p = 0; p < 200; p++) {
      const page = all.slice(p * 32, p * 32 + 32).sort((a, b) => (a < b ? -1 : 1));
      const [first, f0, f1] = pageColumns(new Entries(packEntries(1n, page.map((t, i) => chunk(t, i, true)), page.map(() => 0))));
      expect(first).toBe(page[0]);
      const passes = (t: bigint) => { const [m0, m1] = idFilter(t); return (f0 & m0) === m0 && (f1 & m1) === m1; };
      for (const t of page) expect(passes(t)).toBe(true);
      passed += others.filter(passes).length;
    }
    // 3 bits of 128 per id, 32 ids a page: about 15% expected.
    expect(passed / (200 * others.length)).toBeLessThan(0.2);
  });

  it('copy an entry whole, from a blob aligned for words and from one that is not', () => {
    const chunks = ids(8).map((t, i) => chunk(t, i * 10, i % 2 === 0));
    const packed = packEntries(3n, chunks, chunks.map((_, i) => i));
    // The same bytes one byte into a buffer: no 32-bit view of it can be made.
    const shifted = Buffer.alloc(packed.length + 1);
    packed.copy(shifted, 1);
    for (const e of [new Entries(packed), new Entries(shifted.subarray(1))]) {
      const out = Buffer.alloc(packed.length);
      const words = new Int32Array(out.buffer, out.byteOffset, out.byteLength / 4);
      // Reversed, so each entry lands elsewhere than it came from.
      for (let i = 0; i < e.count; i++) e.copyTo(i, out, words, e.count - 1 - i);
      const copied = new Entries(out);
      for (let i = 0; i < e.count; i++) expect(copied.chunk(e.count - 1 - i)).toEqual(e.chunk(i));
    }
  });
});
