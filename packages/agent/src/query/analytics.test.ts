import { encodeV04, markTopLevel, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';
import type { ApiAnalytics } from './api-types.js';

/*
 * Span analytics against a real agent: 600 requests to a shop over the last hour, one in ten a
 * 500 (an error), a third of gold customers; each calls its database (a span that is not a
 * request, so never counted). Grouped by a tag, by a field, within a query, negated terms too;
 * and with a page time too short for the range, counts exact over what it says it covered.
 */

const NOW_MS = Date.now();
const END_NS = BigInt(NOW_MS) * 1_000_000n;
const N = 600;

interface Seeded { start: bigint; status: string; tier: string; duration: number }

function seed(): { body: Uint8Array[]; requests: Seeded[] } {
  const requests: Seeded[] = [];
  const payloads: Uint8Array[] = [];
  let chunks: Span[][] = [];
  for (let i = 0; i < N; i++) {
    const traceId = 0xa7a1000000000000n + BigInt(i) + 1n;
    const start = END_NS - 5_000_000_000n - BigInt(i) * 5_000_000_000n;
    const status = i % 10 === 3 ? '500' : '200';
    const tier = i % 3 === 0 ? 'gold' : 'silver';
    const duration = 1_000_000 * (1 + (i % 100));
    requests.push({ start, status, tier, duration });
    const chunk: Span[] = [
      { service: 'shop', name: 'web.request', resource: i % 2 ? 'GET /cart' : 'POST /pay', type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration, error: status === '500' ? 1 : 0,
        meta: { env: 'prod', 'http.status_code': status, 'customer.tier': tier }, metrics: { _sampling_priority_v1: 1 } },
      { service: 'shop-db', name: 'pg.query', resource: 'SELECT ?', type: 'sql', traceId, spanId: 2n, parentId: 1n, start: start + 1000n, duration: 500_000, error: 0,
        meta: { env: 'prod', 'customer.tier': tier }, metrics: {} },
    ];
    // The database's span is a client call of the shop's, not an entry of its own.
    chunk[1]!.service = 'shop';
    markTopLevel(chunk, false);
    chunks.push(chunk);
    if (chunks.length === 100) { payloads.push(encodeV04(chunks)); chunks = []; }
  }
  return { body: payloads, requests };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.ceil(p * xs.length) - 1];

describe('span analytics', () => {
  let agent: TestAgent;
  let hurried: TestAgent;
  let requests: Seeded[];
  const range = `start=${NOW_MS - 3_600_000 - 60_000}&end=${NOW_MS + 1000}`;
  const ask = async (a: TestAgent, params: Record<string, string>): Promise<ApiAnalytics> => {
    const res = await fetch(`${a.apiUrl}/api/v1/analytics?${new URLSearchParams(params)}&${range}`);
    expect(res.status).toBe(200);
    return (await res.json()) as ApiAnalytics;
  };
  beforeAll(async () => {
    agent = await startTestAgent();
    hurried = await startTestAgent({ ECS_TRACE_SEARCH_PAGE_TIME: '20ms' });
    const s = seed();
    requests = s.requests;
    for (const a of [agent, hurried]) {
      for (const body of s.body) expect((await fetch(`${a.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body })).status).toBe(200);
    }
  });
  afterAll(async () => { await agent.close(); await hurried.close(); });

  it('groups the requests by a tag: counts, errors and percentiles, exact over the whole range', async () => {
    const a = await ask(agent, { groupBy: 'http.status_code' });
    expect(a.complete).toBe(true);
    expect(a.spans).toBe(N);
    const of = (status: string) => requests.filter((r) => r.status === status).map((r) => r.duration);
    expect(a.groups).toEqual([
      { key: '200', count: 540, errors: 0, p50: pct(of('200'), 0.5), p95: pct(of('200'), 0.95), p99: pct(of('200'), 0.99) },
      { key: '500', count: 60, errors: 60, p50: pct(of('500'), 0.5), p95: pct(of('500'), 0.95), p99: pct(of('500'), 0.99) },
    ]);
    expect(a.series.counts['200']!.reduce((x, y) => x + y, 0)).toBe(540);
  });

  it('groups the spans a query selects, each span meeting every term itself', async () => {
    const gold = await ask(agent, { q: 'customer.tier:gold', groupBy: 'status' });
    expect(gold.groups.map((g) => [g.key, g.count])).toEqual([['ok', 180], ['error', 20]]);
    const notGold = await ask(agent, { q: '-customer.tier:gold resource:"GET /cart"', groupBy: 'customer.tier' });
    expect(notGold.groups.map((g) => [g.key, g.count])).toEqual([['silver', requests.filter((_, i) => i % 2 === 1 && i % 3 !== 0).length]]);
    const byResource = await ask(agent, { q: 'status:error', groupBy: 'resource' });
    expect(byResource.groups.map((g) => [g.key, g.count])).toEqual([['GET /cart', 60]]);
    const none = await ask(agent, { q: 'customer.tier:platinum', groupBy: 'resource' });
    expect(none).toMatchObject({ groups: [], spans: 0, complete: true });
  });

  it('says how far it got when its time runs out, and counts exactly from there', async () => {
    const a = await ask(hurried, { groupBy: 'http.status_code' });
    expect(a.complete).toBe(false);
    const from = BigInt(a.searchedFrom);
    const covered = requests.filter((r) => r.start >= from);
    expect(covered.length).toBeLessThan(N);
    expect(a.spans).toBe(covered.length);
    expect(Object.fromEntries(a.groups.map((g) => [g.key, g.count]))).toEqual(Object.fromEntries(['200', '500'].map((s) => [s, covered.filter((r) => r.status === s).length]).filter(([, n]) => n !== 0)));
  });

  it('gives the facets of a query over the whole range: each key\'s most frequent values among its requests', async () => {
    const res = await fetch(`${agent.apiUrl}/api/v1/facets?${new URLSearchParams({ q: 'customer.tier:gold', keys: 'service,status,customer.tier,resource' })}&${range}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { series: { counts: number[]; errors: number[] } };
    // Over time, the same requests: 200, 20 of them failing.
    expect(body.series.counts.reduce((a, b) => a + b, 0)).toBe(200);
    expect(body.series.errors.reduce((a, b) => a + b, 0)).toBe(20);
    expect(body).toEqual({
      facets: {
        service: [{ key: 'shop', count: 200 }],
        status: [{ key: 'ok', count: 180 }, { key: 'error', count: 20 }],
        'customer.tier': [{ key: 'gold', count: 200 }],
        resource: [{ key: 'POST /pay', count: 100 }, { key: 'GET /cart', count: 100 }].sort((a, b) => (a.key < b.key ? -1 : 1)),
      },
      series: expect.objectContaining({ counts: expect.any(Array), errors: expect.any(Array) }),
      spans: 200, traces: 200, complete: true, searchedFrom: expect.any(String),
    });
  });

  it('asks for the field to group by', async () => {
    const res = await fetch(`${agent.apiUrl}/api/v1/analytics?${range}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('groupBy: required');
  });
});
