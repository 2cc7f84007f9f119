import { describe, expect, it } from 'vitest';
import { histPercentile, normalizeMessage, rollupSlots, topFrames } from './trace-rollup.js';

describe('trace rollups', () => {
  it('makes what varies between occurrences of an error `?`, and keeps the stack\'s top frames without line numbers', () => {
    expect(normalizeMessage('user 42 not found in "orders" (id 9f8e7d6c5b4a)')).toBe('user ? not found in ? (id ?)');
    expect(topFrames('TypeError: boom\n    at f (/app/a.js:10:5)\n    at g (/app/b.js:20:1)\n    at h (/app/c.js:1:1)\n    at i (/app/d.js:2:2)')).toEqual(['at f (/app/a.js', 'at g (/app/b.js', 'at h (/app/c.js']);
  });

  it('reads percentiles from the histogram within its 2.5%', () => {
    const hist: Record<string, number> = {};
    for (let i = 1; i <= 100; i++) {
      const k = String(Math.floor(Math.log(i * 1_000_000) / Math.log(1.05)));
      hist[k] = (hist[k] ?? 0) + 1;
    }
    expect(Math.abs(histPercentile(hist, 0.95) - 95_000_000) / 95_000_000).toBeLessThan(0.025);
    expect(histPercentile({}, 0.95)).toBe(0);
  });

  it('covers a range with hour, 10-minute and minute slots, its ragged ends widened to the minute', () => {
    const M = 60_000_000_000n;
    const H = 60n * M;
    expect(rollupSlots(2n * H - 90n * 1_000_000_000n, 3n * H + 30n * 1_000_000_000n)).toEqual([
      { width: M, from: 2n * H - 2n * M, to: 2n * H },
      { width: H, from: 2n * H, to: 3n * H },
      { width: M, from: 3n * H, to: 3n * H + M },
    ]);
  });
});
