import { encodeV04, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearchQuery, SearchSyntaxError } from './search-query.js';
import { startTestAgent, type TestAgent } from '../testing.js';

describe('parseSearchQuery', () => {
  it('sends exact conditions on indexed fields to the store, the rest to span matching', () => {
    const p = parseSearchQuery('service:checkout AND env:prod -status:error resource:"GET /cart" http.status_code:5* -user.id:42 slow');
    expect(p.index).toEqual({ service: 'checkout', env: 'prod', error: false, resource: 'GET /cart' });
    expect(p.terms.map((t) => [t.key, t.pattern.glob, t.negate])).toEqual([
      ['http.status_code', '5*', false],
      ['user.id', '42', true],
      ['*text', '*slow*', false],
    ]);
  });

  it('names what it does not understand', () => {
    expect(() => parseSearchQuery('a OR b')).toThrow(new SearchSyntaxError('OR is not supported: terms are ANDed; negate one with -'));
    expect(() => parseSearchQuery('status:bad')).toThrow('status:bad: use status:error or status:ok');
    expect(() => parseSearchQuery('service:')).toThrow('service:: no value after the colon');
  });
});

const T0 = BigInt(Date.now()) * 1_000_000n;
const sp = (p: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span => ({
  service: 'shop', name: 'web.request', resource: 'GET /cart', type: 'web', parentId: 0n, start: T0,
  duration: 1_000_000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 1 }, ...p,
});

describe('GET /api/v1/traces?q= and /api/v1/live', () => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startTestAgent();
    const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([
      [sp({ traceId: 1n, spanId: 1n, meta: { 'http.status_code': '200', env: 'prod' } }), sp({ traceId: 1n, spanId: 2n, parentId: 1n, name: 'db.query', service: 'db', resource: 'SELECT ?', meta: { 'db.user': 'ann' } })],
      [sp({ traceId: 2n, spanId: 1n, error: 1, resource: 'POST /pay', meta: { 'http.status_code': '502', env: 'prod' } })],
      [sp({ traceId: 3n, spanId: 1n, resource: 'GET /cart', meta: { 'http.status_code': '200', env: 'staging' } })],
    ]) });
    expect(res.status).toBe(200);
  });
  afterAll(async () => { await agent.close(); });

  const search = async (q: string) => {
    const res = await fetch(`${agent.apiUrl}/api/v1/traces?q=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { traces?: { traceId: string }[]; error?: string };
    return { status: res.status, ids: body.traces?.map((t) => BigInt('0x' + t.traceId)).sort() ?? [], error: body.error };
  };

  it('finds traces by indexed fields, tags of any span, wildcards and negations', async () => {
    expect((await search('service:shop env:prod')).ids).toEqual([1n, 2n]);
    expect((await search('http.status_code:5*')).ids).toEqual([2n]);
    expect((await search('db.user:ann')).ids).toEqual([1n]);
    expect((await search('service:shop -db.user:ann')).ids).toEqual([2n, 3n]);
    expect((await search('status:error')).ids).toEqual([2n]);
    expect((await search('pay')).ids).toEqual([2n]);
    expect((await search('resource:"GET /cart" env:staging')).ids).toEqual([3n]);
  });

  it('answers a bad query with 400 and the reason', async () => {
    expect(await search('a OR b')).toMatchObject({ status: 400, error: 'OR is not supported: terms are ANDed; negate one with -' });
  });

  it('streams stored traces to live viewers as server-sent events', async () => {
    const ac = new AbortController();
    const res = await fetch(`${agent.apiUrl}/api/v1/live`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await reader.read(); // the connected comment
    await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[sp({ traceId: 9n, spanId: 1n, service: 'live-svc', resource: 'GET /now', meta: { task_family: 'web', task_version: '3', ecs_container_name: 'app' } })]]) });
    while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value);
    ac.abort();
    const event = JSON.parse(text.slice(text.indexOf('data: ') + 6, text.indexOf('\n\n'))) as unknown[];
    expect(event).toEqual([{ traceId: '00000000000000000000000000000009', service: 'live-svc', name: 'web.request', resource: 'GET /now', start: T0.toString(), duration: 1_000_000, error: false, spans: 1, env: 'none', task: 'web:3', container: 'app' }]);
  });
});
