import { describe, expect, it } from 'vitest';
import type { TraceQuery } from '../contract.js';
import type { IndexRow } from '../prepare-write.js';
import { packSearchBlocks, searchBlocks, type SearchBlock, type StoredBlock } from './search-blocks.js';

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Payloads of index rows whose times overlap from one payload to the next, as tracers flush. */
function payloads(seed: number, count: number): IndexRow[][] {
  const r = random(seed);
  const out: IndexRow[][] = [];
  for (let p = 0; p < count; p++) {
    const rows: IndexRow[] = [];
    const n = 1 + Math.floor(r() * 40);
    for (let i = 0; i < n; i++) {
      rows.push({
        service: pick(r, ['web', 'db', 'cache']), env: pick(r, ['prod', 'staging', '']),
        name: pick(r, ['http.request', 'pg.query']), resource: pick(r, ['GET /a', 'GET /b', 'SELECT ?', 'x'.repeat(300)]),
        type: pick(r, ['web', 'sql']), start: BigInt(p * 1000 + Math.floor(r() * 5000)) * 1_000_000n + BigInt(Math.floor(r() * 1e6)),
        duration: Math.floor(r() * 2e9), error: r() < 0.2 ? 1 : 0,
        traceId: BigInt.asIntN(64, BigInt(Math.floor(r() * 60)) * 0x9e3779b97f4a7c15n),
      });
    }
    out.push(rows);
  }
  return out;
}

/** What a search must answer: every row checked, traces ordered by their latest match. */
function reference(q: TraceQuery, rows: IndexRow[]): bigint[] {
  const latest = new Map<bigint, bigint>();
  for (const x of rows) {
    if (q.service !== undefined && x.service !== q.service) continue;
    if (q.env !== undefined && x.env !== q.env) continue;
    if (q.name !== undefined && x.name !== q.name) continue;
    if (q.resource !== undefined && x.resource !== q.resource) continue;
    if (q.error !== undefined && (x.error === 1) !== q.error) continue;
    if (q.minDurationNs !== undefined && x.duration < q.minDurationNs) continue;
    if (q.maxDurationNs !== undefined && x.duration > q.maxDurationNs) continue;
    if (q.start !== undefined && x.start < q.start) continue;
    if (q.end !== undefined && x.start >= q.end) continue;
    const seen = latest.get(x.traceId);
    if (seen === undefined || x.start > seen) latest.set(x.traceId, x.start);
  }
  return [...latest].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0)).slice(0, q.limit).map(([id]) => id);
}

/** The blocks as SQLite hands them to the search: filtered as blockConditions says, latest first. */
function stored(q: TraceQuery, blocks: SearchBlock[]): StoredBlock[] {
  return blocks
    .filter((b) => (q.service === undefined || b.service === q.service)
      && (q.error !== true || b.errors > 0)
      && (q.minDurationNs === undefined || b.maxDuration >= q.minDurationNs)
      && (q.start === undefined || b.maxStart >= q.start)
      && (q.end === undefined || b.minStart < q.end))
    .sort((a, b) => (b.maxStart > a.maxStart ? 1 : b.maxStart < a.maxStart ? -1 : 0))
    // Each blob copied to an odd offset, as a blob's bytes may sit anywhere in memory.
    .map((b) => ({ max_start: b.maxStart, strings: b.strings, entries: Buffer.concat([Buffer.alloc(1), b.entries]).subarray(1) }));
}

describe('search blocks', () => {
  it('packs a payload into one block per service with its bounds', () => {
    const rows = payloads(1, 1)[0]!;
    const blocks = packSearchBlocks(rows);
    expect(blocks.map((b) => b.service).sort()).toEqual([...new Set(rows.map((x) => x.service))].sort());
    for (const b of blocks) {
      const mine = rows.filter((x) => x.service === b.service);
      expect(b.minStart).toBe(mine.reduce((m, x) => (x.start < m ? x.start : m), mine[0]!.start));
      expect(b.maxStart).toBe(mine.reduce((m, x) => (x.start > m ? x.start : m), mine[0]!.start));
      expect(b.errors).toBe(mine.filter((x) => x.error === 1).length);
      expect(b.maxDuration).toBe(Math.max(...mine.map((x) => x.duration)));
    }
  });

  it('answers as a scan of every row would, for every kind of condition', () => {
    const all = payloads(7, 120);
    const blocks = all.flatMap(packSearchBlocks);
    const rows = all.flat();
    const queries: TraceQuery[] = [
      { limit: 1 }, { limit: 5 }, { limit: 50 }, { limit: 1000 },
      { service: 'db', limit: 10 }, { service: 'web', error: true, limit: 10 }, { error: false, limit: 20 },
      { env: 'staging', limit: 10 }, { env: '', service: 'cache', limit: 10 }, { env: 'nope', limit: 10 },
      { name: 'pg.query', resource: 'SELECT ?', limit: 10 }, { resource: 'x'.repeat(300), limit: 3 },
      { minDurationNs: 1.9e9, limit: 10 }, { maxDurationNs: 1e8, limit: 10 }, { minDurationNs: 5e8, maxDurationNs: 6e8, limit: 4 },
      { start: 40_000n * 1_000_000n, end: 60_000n * 1_000_000n, limit: 10 },
      { start: 118_000n * 1_000_000n, limit: 100 }, { end: 3_000n * 1_000_000n, service: 'web', limit: 10 },
    ];
    for (const q of queries) {
      const want = reference(q, rows);
      expect(searchBlocks(q, stored(q, blocks)).map(([id]) => id), JSON.stringify(q, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toEqual(want);
    }
  });

  it('stops reading once no unread block can change the answer', () => {
    const blocks = payloads(3, 200).flatMap(packSearchBlocks);
    const q: TraceQuery = { limit: 5 };
    let read = 0;
    const all = stored(q, blocks);
    function* counted() { for (const b of all) { read++; yield b; } }
    expect(searchBlocks(q, counted()).map(([id]) => id)).toEqual(reference(q, payloads(3, 200).flat()));
    expect(read).toBeLessThan(all.length / 4);
  });
});
