import { describe, expect, it } from 'vitest';
import type { Half } from './trace-rollup.js';
import { WaitingHalves } from './waiting-halves.js';

const half = (traceId: bigint, spanId: bigint, side: Half['side'], n: number, leaf = n % 3 === 0): Half => ({
  traceId, spanId, side, at: 1_795_576_142_000_000_000n + BigInt(n),
  data: { service: `svc${n % 7}`, env: n % 2 ? 'prod' : '', type: 'http', start: String(1_795_576_141_000_000_000n + BigInt(n) * 1_000n), duration: n * 1.5, error: n % 5 === 0 ? 1 : 0,
    ...(leaf ? { leaf: { name: `host${n}`, type: 'external' } } : {}) },
});

describe('waiting halves', () => {
  it('gives back what was put, by call and oldest first, as a Map in insertion order does', () => {
    // A model: the Map the store kept before, keyed by call.
    const model = new Map<string, Half>();
    const pool = new WaitingHalves(16);
    let seed = 7;
    const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
    // Few trace ids and span ids, extremes among them, so that calls repeat and hashes collide.
    const ids = [0n, 1n, 2n, 0xffffffffffffffffn, 0x8000000000000000n, 0x1234_5678_9abc_def0n, 0xdeadbeefn << 32n];
    const key = (h: Pick<Half, 'traceId' | 'spanId'>) => `${h.traceId}:${h.spanId}`;
    for (let n = 0; n < 20_000; n++) {
      const op = rand(10);
      if (op < 6) {
        const h = half(ids[rand(ids.length)]! + BigInt(rand(40)), ids[rand(ids.length)]! ^ BigInt(rand(40)), rand(2) ? 'client' : 'server', n);
        h.traceId = BigInt.asUintN(64, h.traceId);
        h.spanId = BigInt.asUintN(64, h.spanId);
        const was = model.get(key(h));
        model.delete(key(h));
        expect(pool.take(h.traceId, h.spanId)).toEqual(was);
        model.set(key(h), h);
        pool.put(h);
      } else if (op < 8) {
        const [k, h] = model.entries().next().value ?? [];
        if (k !== undefined) model.delete(k);
        expect(pool.oldestAt()).toBe(h?.at);
        expect(pool.shift()).toEqual(h);
      } else {
        const probe = { traceId: BigInt.asUintN(64, ids[rand(ids.length)]! + BigInt(rand(40))), spanId: BigInt.asUintN(64, ids[rand(ids.length)]! ^ BigInt(rand(40))) };
        const was = model.get(key(probe));
        model.delete(key(probe));
        expect(pool.take(probe.traceId, probe.spanId)).toEqual(was);
      }
      expect(pool.size).toBe(model.size);
    }
    // What is left comes out oldest first.
    for (const h of model.values()) expect(pool.shift()).toEqual(h);
    expect(pool.shift()).toBeUndefined();
    expect(pool.oldestAt()).toBeUndefined();
  });

  it('grows past its first capacity and keeps every half', () => {
    const pool = new WaitingHalves(16);
    for (let i = 0; i < 5000; i++) pool.put(half(BigInt(i), BigInt(i) * 31n, 'client', i));
    expect(pool.size).toBe(5000);
    for (let i = 4999; i >= 0; i -= 2) expect(pool.take(BigInt(i), BigInt(i) * 31n)?.data.service).toBe(`svc${i % 7}`);
    expect(pool.size).toBe(2500);
    for (let i = 0; i < 5000; i += 2) expect(pool.shift()).toEqual(half(BigInt(i), BigInt(i) * 31n, 'client', i));
  });

  it('gives up the halves written before a time, oldest first, or all of them', () => {
    const pool = new WaitingHalves(16);
    const all = Array.from({ length: 40 }, (_, i) => half(BigInt(i + 1), 7n, i % 2 ? 'client' : 'server', i));
    for (const h of all) pool.put(h);
    pool.take(3n, 7n);
    expect(pool.shiftOlderThan(all[10]!.at)).toEqual(all.slice(0, 10).filter((h) => h.traceId !== 3n));
    expect(pool.shiftOlderThan(all[10]!.at)).toEqual([]);
    expect(pool.shiftOlderThan()).toEqual(all.slice(10));
    expect(pool.size).toBe(0);
  });
});
