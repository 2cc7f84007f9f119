import { describe, expect, it } from 'vitest';
import { newestTraceIds } from './newest-traces.js';

/** An index of trace ids, newest first, read page by page, counting what was read. */
function index(ids: bigint[]) {
  const read = { rows: 0, pages: 0, grouped: 0 };
  return {
    read,
    page: (offset: number, count: number) => { read.pages++; const rows = ids.slice(offset, offset + count); read.rows += rows.length; return rows; },
    grouped: () => { read.grouped++; return [...new Set(ids)].slice(0, 3); },
  };
}

describe('newest traces from the span index', () => {
  it('keeps the first distinct ids in index order and stops reading once it has enough', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => BigInt(Math.floor(i / 7)));
    const ix = index(ids);
    expect(await newestTraceIds(3, ix.page, ix.grouped)).toEqual([0n, 1n, 2n]);
    expect(ix.read).toEqual({ rows: 256, pages: 1, grouped: 0 });
  });

  it('reads on, pages doubling, when matches are spans of few traces', async () => {
    const ids = [...Array.from({ length: 1000 }, () => 7n), 8n, 9n];
    const ix = index(ids);
    expect(await newestTraceIds(3, ix.page, ix.grouped)).toEqual([7n, 8n, 9n]);
    expect(ix.read.pages).toBe(3); // 256 + 512 + 1024
  });

  it('returns what there is when the index ends first', async () => {
    const ix = index([4n, 4n, 5n]);
    expect(await newestTraceIds(50, ix.page, ix.grouped)).toEqual([4n, 5n]);
  });

  it('hands over to the grouping query past 100,000 rows', async () => {
    const ids = [...Array.from({ length: 200_000 }, () => 1n), 2n, 3n];
    const ix = index(ids);
    expect(await newestTraceIds(3, ix.page, ix.grouped)).toEqual([1n, 2n, 3n]);
    expect(ix.read.grouped).toBe(1);
    expect(ix.read.rows).toBeLessThan(200_000);
  });
});
