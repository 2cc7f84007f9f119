import { encodeV04, markTopLevel, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';
import type { ApiSuggestions } from './api-types.js';

/*
 * The search box's autocomplete against a real agent: 60 traces of a shop calling its database,
 * 40 of gold customers and 20 of silver ones. Keys and values come the most frequent first,
 * within the query typed so far; services from the stats, over the whole range.
 */

const NOW_MS = Date.now();
const END_NS = BigInt(NOW_MS) * 1_000_000n;

function traces(): Span[][] {
  const out: Span[][] = [];
  for (let i = 0; i < 60; i++) {
    const traceId = 0x5a6e000000000000n + BigInt(i) + 1n;
    // A minute and more ago: the agent's concentrator writes their stats at its next flush.
    const start = END_NS - 180_000_000_000n + BigInt(i) * 1_000_000_000n;
    const chunk: Span[] = [
      { service: 'shop', name: 'web.request', resource: 'GET /cart', type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: 2_000_000, error: 0,
        meta: { env: 'prod', 'customer.tier': i % 3 === 0 ? 'silver' : 'gold', 'http.method': 'GET', '_dd.p.dm': '-0' }, metrics: { _sampling_priority_v1: 1 } },
      { service: 'shop-db', name: 'pg.query', resource: 'SELECT ?', type: 'sql', traceId, spanId: 2n, parentId: 1n, start: start + 100_000n, duration: 1_000_000, error: 0,
        meta: { env: 'prod', 'db.system': 'postgresql' }, metrics: { 'db.row_count': 3 } },
    ];
    markTopLevel(chunk, false);
    out.push(chunk);
  }
  return out;
}

describe('search autocomplete', () => {
  let agent: TestAgent;
  const range = `start=${NOW_MS - 3_600_000}&end=${NOW_MS + 60_000}`;
  const suggest = async (params: Record<string, string>): Promise<ApiSuggestions> => {
    const res = await fetch(`${agent.apiUrl}/api/v1/search/suggest?${new URLSearchParams(params)}&${range}`);
    expect(res.status).toBe(200);
    return (await res.json()) as ApiSuggestions;
  };
  beforeAll(async () => {
    agent = await startTestAgent();
    const chunks = traces();
    const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) });
    expect(res.status).toBe(200);
  });
  afterAll(async () => { await agent.close(); });

  it('offers tag keys the most frequent first, and the fields a search reads, without the tracers\' internals', async () => {
    const keys = await suggest({ prefix: '' });
    expect(keys.basis).toBe('sample');
    expect(keys.sampled).toEqual({ traces: 60, spans: 120, complete: true });
    const texts = keys.suggestions.map((s) => s.text);
    expect(texts).toContain('customer.tier');
    expect(texts).toContain('service');
    expect(texts.some((t) => t.startsWith('_'))).toBe(false);
    expect((await suggest({ prefix: 'CUST' })).suggestions).toEqual([{ text: 'customer.tier', count: 60 }]);
    expect((await suggest({ prefix: 'row' })).suggestions).toEqual([{ text: 'db.row_count', count: 60 }]);
  });

  it('offers the values of a key, within the query typed so far', async () => {
    expect(await suggest({ key: 'customer.tier', prefix: '' })).toMatchObject({
      key: 'customer.tier', suggestions: [{ text: 'gold', count: 40 }, { text: 'silver', count: 20 }], basis: 'sample',
    });
    expect((await suggest({ key: 'customer.tier', prefix: 'ld' })).suggestions).toEqual([{ text: 'gold', count: 40 }]);
    const narrowed = await suggest({ q: 'customer.tier:silver', key: 'customer.tier', prefix: '' });
    expect(narrowed.suggestions).toEqual([{ text: 'silver', count: 20 }]);
    expect(narrowed.sampled).toEqual({ traces: 20, spans: 40, complete: true });
    expect((await suggest({ key: 'operation', prefix: 'pg' })).suggestions).toEqual([{ text: 'pg.query', count: 60 }]);
  });

  it('offers services from the stats, over the whole range', { timeout: 30_000 }, async () => {
    // The agent's concentrator writes the stats of closed buckets every few seconds.
    let services = await suggest({ key: 'service', prefix: 'sh' });
    for (let i = 0; i < 100 && services.suggestions.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      services = await suggest({ key: 'service', prefix: 'sh' });
    }
    expect(services.basis).toBe('stats');
    expect(services.suggestions).toEqual([{ text: 'shop', count: 60 }, { text: 'shop-db', count: 60 }]);
  });
});
