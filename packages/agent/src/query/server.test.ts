import { request } from 'node:http';
import { encodeV04, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';
import type { ApiServices, ApiTrace, ApiTraces } from './api-types.js';

/*
 * The API's JSON, made from the store's raw records in one place: ids as hex, times as decimal
 * strings, bytes as base64; and query parameters refused at the edge with a 400 naming them.
 */

const T0 = 1_795_576_142_000_000_000n;

const sp = (p: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span => ({
  service: 'shop', name: 'web.request', resource: 'GET /cart', type: 'web', parentId: 0n, start: T0,
  duration: 10_000_000, error: 0, meta: { env: 'prod' }, metrics: { _sampling_priority_v1: 2 }, ...p,
});

describe('query API answers', () => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startTestAgent();
    const root = sp({
      traceId: 0xfedcba9876543210n, spanId: 0xffffffffffffffffn, meta: { env: 'prod', '_dd.p.tid': '6b06514e00000000' },
      spanLinks: [{ traceId: 5n, traceIdHigh: 0n, spanId: 6n, attributes: { 'link.name': 'x' } }],
      spanEvents: [{ timeUnixNano: T0, name: 'exception', attributes: { 'exception.message': 'boom' } }],
      metaStruct: { appsec: new Uint8Array([1, 2, 3]) },
    });
    const child = sp({ traceId: 0xfedcba9876543210n, spanId: 2n, parentId: 0xffffffffffffffffn, service: 'db', start: T0 + 1_000_000n, duration: 2_000_000, error: 1 });
    const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[root, child]]) });
    expect(res.status).toBe(200);
  });
  afterAll(async () => { await agent.close(); });

  it('gives a trace with hex ids, decimal times, base64 meta_struct and decimal link ids', async () => {
    const res = await fetch(`${agent.apiUrl}/api/v1/traces/6b06514e00000000fedcba9876543210`);
    expect(res.status).toBe(200);
    const t = (await res.json()) as ApiTrace;
    expect(t.summary).toMatchObject({
      traceId: '6b06514e00000000fedcba9876543210', rootService: 'shop', spanCount: 2, errorCount: 1,
      services: ['shop', 'db'], env: 'prod', incomplete: false, duration: 10_000_000, start: T0.toString(),
    });
    const [root, child] = t.spans;
    expect(root).toMatchObject({ traceId: '6b06514e00000000fedcba9876543210', spanId: 'ffffffffffffffff', parentId: '0000000000000000', start: T0.toString() });
    expect(root!.spanLinks).toEqual([{ traceId: '5', traceIdHigh: '0', spanId: '6', attributes: { 'link.name': 'x' } }]);
    expect(root!.spanEvents).toEqual([{ timeUnixNano: T0.toString(), name: 'exception', attributes: { 'exception.message': 'boom' } }]);
    expect(root!.metaStruct).toEqual({ appsec: Buffer.from([1, 2, 3]).toString('base64') });
    expect(child).toMatchObject({ spanId: '0000000000000002', parentId: 'ffffffffffffffff', service: 'db', env: 'prod', start: (T0 + 1_000_000n).toString() });
    // The decimal 64-bit id a tracer logs finds the same trace.
    const byDecimal = (await (await fetch(`${agent.apiUrl}/api/v1/traces/${0xfedcba9876543210n.toString(10)}`)).json()) as ApiTrace;
    expect(byDecimal.summary.traceId).toBe('6b06514e00000000fedcba9876543210');
  });

  it('lists services from the stats, lastSeen as a decimal string (the end of the last bucket)', async () => {
    const body = (await (await fetch(`${agent.apiUrl}/api/v1/services`)).json()) as ApiServices;
    const shop = body.services.find((s) => s.service === 'shop')!;
    expect(shop).toMatchObject({ env: 'prod', type: 'web', operation: 'web.request', hits: 1, errors: 0 });
    // Late spans are counted in the oldest open bucket, as the Datadog Agent's concentrator does.
    expect(BigInt(shop.lastSeen) > T0).toBe(true);
  });

  it.each([
    ['traces?limit=1.5', 'limit: "1.5" is not a whole number from 1 to 1000'],
    ['traces?limit=5000', 'limit: "5000" is not a whole number from 1 to 1000'],
    ['traces?limit=many', 'limit: "many" is not a whole number from 1 to 1000'],
    ['traces?error=maybe', 'error: "maybe" is not true or false'],
    ['traces?minDurationMs=-1', 'minDurationMs: "-1" is not a number from 0 to 1000000000000'],
    ['traces?start=99999999999999999999999', 'start: "99999999999999999999999" is after the year 9999'],
    ['traces?start=yesterday', 'start: "yesterday" is not a time; use epoch milliseconds or an ISO 8601 date'],
    ['traces?start=2000&end=1000', 'end must be after start'],
    ['traces?service=a&service=b', 'service: give it once'],
    ['services?end=soon', 'end: "soon" is not a time; use epoch milliseconds or an ISO 8601 date'],
    ['stats?step=1', 'step: "1" is not a number from 10 to 2592000'],
    ['stats?topLevel=yes', 'topLevel: "yes" is not true or false'],
    ['traces/not-an-id', 'trace id "not-an-id" is neither 32 hex characters nor a decimal 64-bit id'],
  ])('answers /api/v1/%s with 400 and the reason', async (path, error) => {
    const res = await fetch(`${agent.apiUrl}/api/v1/${path}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error });
  });

  it('takes well-formed parameters', async () => {
    const res = await fetch(`${agent.apiUrl}/api/v1/traces?limit=1&error=true&minDurationMs=0.5&start=${Number(T0 / 1_000_000n) - 1000}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as ApiTraces).traces.map((t) => t.traceId)).toEqual(['6b06514e00000000fedcba9876543210']);
  });
});

describe('the services list', () => {
  it('counts a service\'s requests on its primary operation: a dns.lookup at start-up is not a request', async () => {
    const other = await startTestAgent();
    try {
    const t = BigInt(Date.now()) * 1_000_000n;
    const web = (id: bigint, error = 0) => sp({ traceId: id, spanId: 1n, service: 'orders', name: 'web.request', resource: 'GET /orders', start: t, error });
    const dns = sp({ traceId: 0x990n, spanId: 1n, service: 'orders', name: 'dns.lookup', resource: 'db.internal', type: '', start: t });
    const res = await fetch(`${other.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[web(0x991n)], [web(0x992n, 1)], [web(0x993n)], [dns]]) });
    expect(res.status).toBe(200);
    const body = (await (await fetch(`${other.apiUrl}/api/v1/services`)).json()) as ApiServices;
    expect(body.services.find((s) => s.service === 'orders')).toMatchObject({ operation: 'web.request', type: 'web', hits: 3, errors: 1 });
      } finally {
      await other.close();
    }
  });

});

describe('queries that would hold the agent', () => {
  it('match wildcards against long values at once', async () => {
    const agent = await startTestAgent();
    try {
      const long = sp({ traceId: 0x901n, spanId: 1n, resource: 'a'.repeat(5000), meta: { env: 'prod', big: 'a'.repeat(25_000) } });
      expect((await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[long]]) })).status).toBe(200);
      for (const q of ['a*a*a*a*zzz', 'big:a*a*a*b', 'big:a*a*a*a']) {
        const res = await fetch(`${agent.apiUrl}/api/v1/traces?q=${encodeURIComponent(q)}`);
        expect(res.status).toBe(200);
        const ids = ((await res.json()) as ApiTraces).traces.map((t) => t.traceId);
        expect(ids).toEqual(q === 'big:a*a*a*a' ? ['0000000000000000' + '0000000000000901'] : []);
      }
    } finally {
      await agent.close();
    }
  });

  it('stop a query past ECS_TRACE_QUERY_TIMEOUT with 503 and the reason, while intake keeps answering', async () => {
    const agent = await startTestAgent({ ECS_TRACE_QUERY_TIMEOUT: '1ms' });
    try {
      const res = await fetch(`${agent.apiUrl}/api/v1/traces?service=shop`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'the query took longer than 1 ms and was stopped: narrow the time range or the query' });
      const put = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[sp({ traceId: 0x902n, spanId: 1n })]]) });
      expect(put.status).toBe(200);
    } finally {
      await agent.close();
    }
  });
});

describe('the API in a browser', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ ECS_TRACE_API_ALLOWED_HOSTS: 'traces.internal' }); });
  afterAll(async () => { await agent.close(); });

  const get = (path: string, host: string) => new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    // fetch cannot set Host; node:http can, as a rebinding page's browser would send it.
    const url = new URL(agent.apiUrl + path);
    request({ host: url.hostname, port: url.port, path, headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject).end();
  });

  it('answers only Host names that are loopback or allowed (DNS rebinding)', async () => {
    const evil = await get('/api/v1/services', 'evil.example');
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error).toMatch(/^Host "evil.example" is not a name this API answers to/);
    for (const host of [`127.0.0.1:${new URL(agent.apiUrl).port}`, 'localhost:8127', '[::1]:8127', 'traces.internal']) {
      expect((await get('/api/v1/services', host)).status).toBe(200);
    }
  });

  it('forbids framing and sniffing, and gives pages a CSP that loads only its own files', async () => {
    const page = await get('/services', 'localhost');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await get('/api/v1/services', 'localhost')).headers['x-frame-options']).toBe('DENY');
  });
});

describe('the API token', () => {
  const TOKEN = 'a-token-of-at-least-16-chars';
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ ECS_TRACE_API_TOKEN: TOKEN }); });
  afterAll(async () => { await agent.close(); });

  it('asks every data call for the token: 401 without or wrong, 200 with it as a Bearer', async () => {
    for (const path of ['/api/v1/services', '/api/v1/traces', '/metrics']) {
      const none = await fetch(agent.apiUrl + path);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="ecs-trace"');
      expect((await fetch(agent.apiUrl + path, { headers: { Authorization: 'Bearer wrong-token-of-16-chars' } })).status).toBe(401);
      expect((await fetch(agent.apiUrl + path, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    }
  });

  it('signs the UI in with an HttpOnly, SameSite=Strict cookie, and out', async () => {
    expect((await fetch(`${agent.apiUrl}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) })).status).toBe(401);
    const ok = await fetch(`${agent.apiUrl}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^ecs_trace_session=.+; HttpOnly; SameSite=Strict; Path=\//);
    expect((await fetch(`${agent.apiUrl}/api/v1/services`, { headers: { Cookie: cookie.split(';')[0]! } })).status).toBe(200);
    const out = await fetch(`${agent.apiUrl}/api/v1/session`, { method: 'DELETE', headers: { Cookie: cookie.split(';')[0]! } });
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
  });

  it('serves the UI\'s files without it, and tells a load balancer only whether it is well', async () => {
    expect((await fetch(`${agent.apiUrl}/`)).status).toBe(200);
    expect(await (await fetch(`${agent.apiUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const full = (await (await fetch(`${agent.apiUrl}/healthz`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { version: string; store: unknown };
    expect(full.version).toBeTruthy();
    expect(full.store).toBeDefined();
  });
});
