import { describe, expect, it } from 'vitest';
import { bucketTraces } from './trace-buckets.js';

const at = (ms: number, errorCount = 0) => ({ start: (BigInt(ms) * 1_000_000n).toString(), errorCount });

describe('listed traces per slice of the range', () => {
  it('counts each trace once, in the slice of its start, errors apart', () => {
    const b = bucketTraces([at(1_000), at(1_999, 1), at(2_000), at(9_999, 2)], 1_000, 11_000, 10);
    expect(b.counts).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(b.errors).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(b.widthMs).toBe(1_000);
  });

  it('puts a trace that started before the range in its first slice, and one at its end in the last', () => {
    const b = bucketTraces([at(500), at(11_000)], 1_000, 11_000, 10);
    expect(b.counts).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });
});
