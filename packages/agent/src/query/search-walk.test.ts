import { encodeV04, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentsAvailable } from '../../../../e2e/components.js';
import { freePort } from '../../../../e2e/ports.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../store/postgres/test-server.js';
import { startTestAgent, type TestAgent } from '../testing.js';
import type { ApiTraces } from './api-types.js';

/*
 * Searches that find what they say they looked for: a range of 3,000 traces over three hours,
 * 30 of them with a rare tag and 40 with a rare error, searched with every page size, cursors
 * followed to the end; the union of the pages is exactly the matching traces, and a page stopped
 * by its time says so and resumes where it stopped.
 */

const NOW_MS = Date.now();
const HOUR_NS = 3_600_000_000_000n;
const END_NS = BigInt(NOW_MS) * 1_000_000n;
const START_NS = END_NS - 3n * HOUR_NS;
const TRACES = 3000;

interface Seeded { rare: Set<string>; failing: Set<string>; all: Set<string>; burst: Set<string>; slow: Set<string> }

function seed(): { payloads: Uint8Array[]; seeded: Seeded } {
  const seeded: Seeded = { rare: new Set(), failing: new Set(), all: new Set(), burst: new Set(), slow: new Set() };
  const payloads: Uint8Array[] = [];
  let chunks: Span[][] = [];
  for (let i = 0; i < TRACES; i++) {
    const traceId = 0x5eed000000000000n + BigInt(i) + 1n;
    const hex = traceId.toString(16).padStart(32, '0');
    // Spread evenly over the three hours, the newest first in the loop.
    const start = END_NS - 1_000_000_000n - (BigInt(i) * 3n * HOUR_NS) / BigInt(TRACES);
    const rare = i % 100 === 37;
    const failing = i % 75 === 11;
    const slow = i % 50 === 13 || i % 200 === 37;
    if (slow) seeded.slow.add(hex);
    if (rare) seeded.rare.add(hex);
    if (failing) seeded.failing.add(hex);
    seeded.all.add(hex);
    chunks.push([
      { service: 'walk', name: 'web.request', resource: 'GET /w', type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: slow ? 300_000_000 : 2_000_000, error: failing ? 1 : 0, meta: { env: 'prod', ...(rare ? { 'customer.tier': 'platinum' } : {}), ...(failing ? { 'error.message': `ledger locked for order ${i}` } : {}) }, metrics: { _sampling_priority_v1: 2 } },
      { service: 'walk-db', name: 'pg.query', resource: 'SELECT ?', type: 'sql', traceId, spanId: 2n, parentId: 1n, start: start + 100_000n, duration: 1_000_000, error: 0, meta: { env: 'prod' }, metrics: {} },
    ]);
    if (chunks.length === 250) {
      payloads.push(encodeV04(chunks));
      chunks = [];
    }
  }
  if (chunks.length > 0) payloads.push(encodeV04(chunks));
  // A burst: 250 traces that started at the same instant, more than a window is asked for.
  const burst: Span[][] = [];
  for (let i = 0; i < 250; i++) {
    const traceId = 0xb005700000000000n + BigInt(i) + 1n;
    seeded.burst.add(traceId.toString(16).padStart(32, '0'));
    burst.push([{ service: 'burst', name: 'web.request', resource: 'GET /b', type: 'web', traceId, spanId: 1n, parentId: 0n, start: END_NS - HOUR_NS / 2n, duration: 1_000_000, error: 0, meta: { env: 'prod' }, metrics: { _sampling_priority_v1: 2 } }]);
  }
  payloads.push(encodeV04(burst));
  return { payloads, seeded };
}

async function send(agent: TestAgent, payloads: Uint8Array[]): Promise<void> {
  for (const body of payloads) {
    const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body });
    expect(res.status).toBe(200);
  }
  // A shared store is written through the spool: wait until it has shipped everything.
  for (let i = 0; i < 300; i++) {
    const health = (await (await fetch(`${agent.apiUrl}/healthz`)).json()) as { store: { status: string; spans?: number } };
    if (health.store.status === 'ok' && health.store.spans !== undefined && health.store.spans >= payloads.length) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the store never took the payloads');
}

const stores: [string, boolean][] = [['sqlite', true], ['postgres', componentsAvailable(postgresUnavailable(), 'trace search on PostgreSQL')]];
let pg: TestPostgres | undefined;
let databases = 0;
/** The settings of an agent on the store named, each a fresh database for PostgreSQL. */
async function storeEnv(kind: string): Promise<Record<string, string>> {
  if (kind === 'sqlite') return {};
  pg ??= startTestPostgres(await freePort());
  return { ECS_TRACE_STORE: pg.database(`walk_${databases++}`) };
}
afterAll(() => pg?.stop());

/** Every page of a search, cursors followed: the pages as answered. */
async function allPages(agent: TestAgent, params: Record<string, string>): Promise<ApiTraces[]> {
  const pages: ApiTraces[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 5000; i++) {
    const q = new URLSearchParams({ start: String(NOW_MS - 4 * 3_600_000), end: String(NOW_MS + 60_000), ...params, ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${agent.apiUrl}/api/v1/traces?${q}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as ApiTraces;
    pages.push(page);
    if (page.complete) return pages;
    expect(page.cursor).toBeDefined();
    cursor = page.cursor;
  }
  throw new Error('the search never completed');
}

describe.each(stores.filter(([, available]) => available).map(([kind]) => kind))('trace search on %s, complete or honestly partial', (kind) => {
  let agent: TestAgent;
  let seeded: Seeded;
  beforeAll(async () => {
    agent = await startTestAgent(await storeEnv(kind));
    const s = seed();
    seeded = s.seeded;
    await send(agent, s.payloads);
  }, 60_000);
  afterAll(async () => { await agent.close(); });

  it.each([1, 3, 7, 29, 30, 31, 1000])('finds every trace with a rare tag, %i a page, following cursors', async (limit) => {
    const pages = await allPages(agent, { q: 'customer.tier:platinum', limit: String(limit) });
    const found = pages.flatMap((p) => p.traces.map((t) => t.traceId));
    for (const p of pages) expect(p.traces.length).toBeLessThanOrEqual(limit);
    expect(new Set(found)).toEqual(seeded.rare);
    // Pages follow one another back in time: none lists a trace twice here (no trace straddles).
    expect(found.length).toBe(seeded.rare.size);
    if (limit >= seeded.rare.size + 1) expect(pages).toHaveLength(1);
  }, 60_000);

  it.each([1, 7, 1000])('finds every slow trace by its duration, %i a page, and every slow one with a rare tag', async (limit) => {
    const pages = await allPages(agent, { minDurationMs: '100', limit: String(limit) });
    expect(new Set(pages.flatMap((p) => p.traces.map((t) => t.traceId)))).toEqual(seeded.slow);
    const both = await allPages(agent, { q: 'customer.tier:platinum', minDurationMs: '100', limit: String(limit) });
    const slowRare = new Set([...seeded.slow].filter((t) => seeded.rare.has(t)));
    expect(slowRare.size).toBe(15);
    expect(new Set(both.flatMap((p) => p.traces.map((t) => t.traceId)))).toEqual(slowRare);
  }, 60_000);

  it('pages through every trace of a service, 1000 a page, each listed once', async () => {
    const pages = await allPages(agent, { q: 'service:walk', limit: '1000' });
    const found = pages.flatMap((p) => p.traces.map((t) => t.traceId));
    expect(found.length).toBe(TRACES);
    expect(new Set(found)).toEqual(seeded.all);
    // Three full pages; a page that ends full cannot know there is no more, so a fourth, empty, says so.
    expect(pages.map((p) => p.traces.length)).toEqual([1000, 1000, 1000, 0]);
  }, 60_000);

  it.each([7, 50, 1000])('lists a burst of 250 traces that started at one instant, %i a page', async (limit) => {
    const pages = await allPages(agent, { q: 'service:burst', limit: String(limit) });
    const found = pages.flatMap((p) => p.traces.map((t) => t.traceId));
    expect(found.length).toBe(250);
    expect(new Set(found)).toEqual(seeded.burst);
  }, 60_000);

  it('combines index and tag conditions without changing which traces match', async () => {
    const both = await allPages(agent, { q: 'status:error env:prod', limit: '5' });
    expect(new Set(both.flatMap((p) => p.traces.map((t) => t.traceId)))).toEqual(seeded.failing);
    const none = await allPages(agent, { q: 'customer.tier:diamond', limit: '5' });
    expect(none).toHaveLength(1);
    expect(none[0]).toMatchObject({ traces: [], complete: true });
    const tagged = await allPages(agent, { q: 'service:walk customer.tier:PLATINUM', limit: '7' });
    expect(new Set(tagged.flatMap((p) => p.traces.map((t) => t.traceId)))).toEqual(seeded.rare);
    const elsewhere = await allPages(agent, { q: 'service:burst customer.tier:platinum', limit: '7' });
    expect(elsewhere.flatMap((p) => p.traces)).toEqual([]);
    expect(elsewhere.at(-1)!.complete).toBe(true);
  }, 60_000);

  it.each([1, 7, 1000])('finds every trace with rare free text (an error message), %i a page, checking only those the index names', async (limit) => {
    const pages = await allPages(agent, { q: 'Ledger', limit: String(limit) });
    expect(new Set(pages.flatMap((p) => p.traces.map((t) => t.traceId)))).toEqual(seeded.failing);
    if (limit === 1000) expect(pages[0]!.scanned).toBeLessThan(seeded.failing.size + 300);
  }, 60_000);

  it('checks only the traces the tag index names: a rare tag over the whole range in one page', async () => {
    const [page, ...rest] = await allPages(agent, { q: 'customer.tier:platinum', limit: '1000' });
    expect(rest).toHaveLength(0);
    expect(new Set(page!.traces.map((t) => t.traceId))).toEqual(seeded.rare);
    // Each of the 30 found once; what else is checked is the filters' false "maybe"s (about 1%
    // of the 12 payloads' traces without the tag would be 36; the bound leaves room for chance).
    expect(page!.scanned).toBeGreaterThanOrEqual(seeded.rare.size);
    expect(page!.scanned).toBeLessThan(seeded.rare.size + 300);
  }, 60_000);

  it('says how far a page got when its time runs out, and its cursor resumes exactly there', async () => {
    // 25 ms a page: each page checks some of the 3,000 candidates, then stops and says so.
    const hurried = await startTestAgent({ ...(await storeEnv(kind)), ECS_TRACE_SEARCH_PAGE_TIME: '25ms' });
    try {
      await send(hurried, seed().payloads);
      // A wildcard: the tag index cannot name candidates, so each trace is checked.
      const pages = await allPages(hurried, { q: 'customer.tier:platin*', limit: '1000' });
      expect(pages.length).toBeGreaterThan(1);
      const partial = pages[0]!;
      expect(partial.complete).toBe(false);
      expect(BigInt(partial.searchedFrom)).toBeGreaterThan(START_NS);
      // What the page lists lies in what it says it searched.
      for (const t of partial.traces) expect(BigInt(t.start) + 2_000_000n >= BigInt(partial.searchedFrom) || BigInt(t.start) >= START_NS).toBe(true);
      expect(new Set(pages.flatMap((p) => p.traces.map((t) => t.traceId)))).toEqual(seeded.rare);
    } finally {
      await hurried.close();
    }
  }, 120_000);

  it('refuses a cursor it did not give, or one of another time range', async () => {
    const res = await fetch(`${agent.apiUrl}/api/v1/traces?cursor=bm90LWEtY3Vyc29y`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'cursor: "bm90LWEtY3Vyc29y" is not a cursor this API gave' });
    const range = `start=${NOW_MS - 4 * 3_600_000}&end=${NOW_MS + 60_000}`;
    const first = (await (await fetch(`${agent.apiUrl}/api/v1/traces?q=service:walk&limit=10&${range}`)).json()) as ApiTraces;
    expect(first.complete).toBe(false);
    const other = await fetch(`${agent.apiUrl}/api/v1/traces?q=service:walk&start=${NOW_MS - 60_000}&end=${NOW_MS}&cursor=${first!.cursor}`);
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: string }).error).toBe('cursor: it belongs to another time range; pass the same start and end as the page that gave it');
  });
});
