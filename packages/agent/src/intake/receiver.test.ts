import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { encodeV04, encodeV05, type Span } from '@ecs-trace/protocol';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';

const T0 = 1_795_576_142_000_000_000n;
const sp = (p: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span => ({
  service: 'checkout', name: 'web.request', resource: 'GET /', type: 'web', parentId: 0n, start: T0,
  duration: 1000, error: 0, meta: {}, metrics: {}, ...p,
});
const MSGPACK = { 'Content-Type': 'application/msgpack', 'Datadog-Meta-Lang': 'nodejs', 'Datadog-Meta-Tracer-Version': '5.132.0' };

async function put(agent: TestAgent, path: string, body: Uint8Array | string, headers: Record<string, string> = MSGPACK) {
  const res = await fetch(agent.intake + path, { method: 'PUT', headers, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
async function api(agent: TestAgent, path: string): Promise<unknown> {
  return (await fetch(agent.apiUrl + path)).json();
}
async function metric(agent: TestAgent, line: string): Promise<number> {
  const text = await (await fetch(agent.apiUrl + '/metrics')).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

/** Raw HTTP over a socket, for what fetch cannot do: stall mid-body, abort, lie about length. */
function raw(agent: TestAgent, request: string, opts: { thenWaitMs?: number } = {}): Promise<string> {
  const url = new URL(agent.intake);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname, () => sock.write(request));
    let out = '';
    sock.on('data', (d) => { out += d.toString(); });
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
    if (opts.thenWaitMs !== undefined) setTimeout(() => sock.end(), opts.thenWaitMs);
  });
}

describe('intake endpoints', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('answers v0.4 with rate_by_service as JSON, and the agent headers', async () => {
    const r = await put(agent, '/v0.4/traces', encodeV04([[sp({ traceId: 1n, spanId: 1n })]]));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(r.text)).toEqual({ rate_by_service: {} });
    expect(r.headers.get('datadog-agent-state')).toMatch(/^[0-9a-f]{64}$/);
    expect(r.headers.get('datadog-agent-version')).toBeTruthy();
  });

  it('feeds back a rate per service and env once the sampler has counted traffic', async () => {
    const withPriority = (traceId: bigint) => encodeV04([[sp({ traceId, spanId: 1n, service: 'rated', meta: { env: 'prod' }, metrics: { _sampling_priority_v1: 1 } })]]);
    await put(agent, '/v0.4/traces', withPriority(100n));
    // Rates are recomputed when the sampler's 5-second bucket turns.
    const bucket = Math.floor(Date.now() / 5000);
    while (Math.floor(Date.now() / 5000) === bucket) await new Promise((r) => setTimeout(r, 100));
    const r = await put(agent, '/v0.4/traces', withPriority(101n));
    const rates = (JSON.parse(r.text) as { rate_by_service: Record<string, number> }).rate_by_service;
    expect(rates).toMatchObject({ 'service:rated,env:prod': 1, 'service:,env:': 1 });
    expect(await metric(agent, 'ecs_trace_sampler_traces_total{decision="kept",reason="priority"}')).toBeGreaterThanOrEqual(2);
  });

  it('answers {} when the tracer already has the current rates version', async () => {
    const first = await put(agent, '/v0.4/traces', encodeV04([[sp({ traceId: 2n, spanId: 1n })]]));
    const version = first.headers.get('datadog-rates-payload-version')!;
    const again = await put(agent, '/v0.4/traces', encodeV04([[sp({ traceId: 3n, spanId: 1n })]]), { ...MSGPACK, 'Datadog-Rates-Payload-Version': version });
    expect(again.text).toBe('{}\n');
  });

  it('takes v0.3 (OK), v0.5 and JSON v0.4, PUT and POST alike', async () => {
    expect(await put(agent, '/v0.3/traces', encodeV04([[sp({ traceId: 10n, spanId: 1n })]]))).toMatchObject({ status: 200, text: 'OK\n' });
    expect((await put(agent, '/v0.5/traces', encodeV05([[sp({ traceId: 11n, spanId: 1n })]]))).status).toBe(200);
    const json = '[[{"trace_id":12,"span_id":1,"service":"json-svc","name":"n","resource":"r","start":1795576142000000000,"duration":5}]]';
    expect((await put(agent, '/v0.4/traces', json, { 'Content-Type': 'application/json' })).status).toBe(200);
    const post = await fetch(agent.intake + '/v0.4/traces', { method: 'POST', headers: MSGPACK, body: encodeV04([[sp({ traceId: 13n, spanId: 1n })]]) });
    expect(post.status).toBe(200);
    for (const id of ['a', 'b', 'c', 'd']) expect(await api(agent, `/api/v1/traces/${id}`)).toHaveProperty('spans');
  });

  it('serves /info without the agent headers, and 404s for features that are off', async () => {
    const info = await fetch(agent.intake + '/info');
    expect(info.headers.get('datadog-agent-state')).toBeNull();
    const doc = JSON.parse(await info.text()) as { endpoints: string[]; client_drop_p0s: boolean };
    expect(doc.endpoints).toContain('/v0.4/traces');
    // Stats are computed and client stats kept: a tracer may drop P0 traces itself.
    expect(doc.endpoints).toContain('/v0.6/stats');
    expect(doc.client_drop_p0s).toBe(true);
    // What tracers read to compute stats as the agent would: the default peer tags, the span
    // kinds counted, and a version from which dd-trace-java computes them itself.
    const stats = doc as unknown as { peer_tags: string[]; span_kinds_stats_computed: string[]; version: string };
    expect(stats.peer_tags).toHaveLength(44);
    expect(stats.peer_tags).toEqual([...stats.peer_tags].sort());
    expect(stats.peer_tags).toEqual(expect.arrayContaining(['_dd.base_service', 'peer.service', 'db.system', 'out.host', 'rpc.service']));
    expect([...stats.span_kinds_stats_computed].sort()).toEqual(['client', 'consumer', 'producer', 'server']);
    // Bare: dd-trace-java reads a suffix as a pre-release, below 7.65.0 (runtime/version.ts).
    expect(stats.version).toBe('7.65.0');
    // Telemetry is kept (advertised as the Datadog Agent does); a body that is not telemetry says so.
    expect(doc.endpoints).toContain('/telemetry/proxy/');
    const telemetry = await fetch(`${agent.intake}/telemetry/proxy/api/v2/apmtelemetry`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect([telemetry.status, await telemetry.text()]).toEqual([400, 'not a telemetry request: runtime_id and application are required\n']);
    for (const path of ['/profiling/v1/input', '/evp_proxy/v2/x']) {
      const r = await fetch(agent.intake + path, { method: 'POST', body: '{}' });
      expect([path, r.status, await r.text()]).toEqual([path, 404, '404 page not found\n']);
    }
    expect(await put(agent, '/v0.4/services', '{}')).toMatchObject({ status: 200, text: 'OK\n' });
  });

  it('answers remote-config polls, lists /v0.7/config in /info, and says what is wrong with a poll that is not one', async () => {
    const doc = JSON.parse(await (await fetch(agent.intake + '/info')).text()) as { endpoints: string[] };
    expect(doc.endpoints).toContain('/v0.7/config');
    const poll = (body: string) => fetch(`${agent.intake}/v0.7/config`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body });
    // The real dd-trace's first poll, with nothing set for its service: up to date.
    const r = await poll(readFileSync(new URL('../../../protocol/fixtures/dd-trace-js-5.132-v0.7-config-request.json', import.meta.url), 'utf8'));
    expect([r.status, r.headers.get('content-type'), await r.text()]).toEqual([200, 'application/json', '{}']);
    const bad = await poll('{}');
    expect([bad.status, await bad.text()]).toEqual([400, 'not a remote-config request: client: missing (ClientGetConfigsRequest.client)\n']);
    const notJson = await poll('{"client":');
    expect(notJson.status).toBe(400);
    // A browser's form post is refused before it is read, as on every intake path.
    expect((await fetch(`${agent.intake}/v0.7/config`, { method: 'POST', body: '{}' })).status).toBe(403);
  });

  it('with DD_REMOTE_CONFIGURATION_ENABLED=false, neither lists nor serves /v0.7/config (tracers then stop polling)', async () => {
    const off = await startTestAgent({ DD_REMOTE_CONFIGURATION_ENABLED: 'false' });
    try {
      const doc = JSON.parse(await (await fetch(off.intake + '/info')).text()) as { endpoints: string[] };
      expect(doc.endpoints).not.toContain('/v0.7/config');
      const r = await fetch(`${off.intake}/v0.7/config`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect([r.status, await r.text()]).toEqual([404, '404 page not found\n']);
    } finally {
      await off.close();
    }
  });

  it('takes telemetry gzipped as well as plain, and bounds what a gzipped body may become', async () => {
    const body = JSON.stringify({ api_version: 'v2', request_type: 'app-started', runtime_id: 'gz-1', application: { service_name: 'gz-shop', language_name: 'python' }, payload: {} });
    const post = (b: Buffer) => fetch(`${agent.intake}/telemetry/proxy/api/v2/apmtelemetry`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: b });
    expect((await post(gzipSync(body))).status).toBe(202);
    const listed = (await (await fetch(`${agent.apiUrl}/api/v1/services/gz-shop/instances`)).json()) as { instances: { runtimeId: string }[] };
    expect(listed.instances.map((i) => i.runtimeId)).toEqual(['gz-1']);
    // 40 MB of spaces, a few KB gzipped: refused past the payload limit, not inflated.
    const bomb = await post(gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20)));
    expect(bomb.status).toBe(400);
    expect(await bomb.text()).toMatch(/^not a telemetry request: /);
  });

  it('accepts and keeps /v0.6/stats', async () => {
    const body = new Packr({ useRecords: false }).pack({ Hostname: 'h', Env: 'test', Stats: [], Lang: 'javascript' });
    const r = await put(agent, '/v0.6/stats', body, { 'Content-Type': 'application/msgpack', 'Datadog-Meta-Lang': 'javascript' });
    expect(r).toMatchObject({ status: 200, text: '' });
    expect(await metric(agent, 'ecs_trace_receiver_stats_payloads_total{lang="javascript",tracer_version=""}')).toBe(1);
    expect((await put(agent, '/v0.6/stats', Buffer.from([0x93, 1, 2, 3]))).status).toBe(400);
  });
});

describe('bad input', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ DD_APM_MAX_PAYLOAD_SIZE: '4096', DD_APM_RECEIVER_TIMEOUT: '1' }); });
  afterAll(async () => { await agent.close(); });

  it.each([
    ['malformed msgpack', Buffer.from([0x91, 0x91, 0x81, 0xa7]), 'trace 0, span 0: string of 7 bytes runs past the end of the payload\n'],
    ['a wrong field type', new Packr({ useRecords: false }).pack([[{ span_id: 'x' }]]), 'trace 0, span 0: span_id: expected an unsigned integer, got str\n'],
    ['a v0.4 map instead of an array', new Packr({ useRecords: false }).pack({}), 'payload (an array of traces): expected an array, got map\n'],
  ])('answers %s with 400 and the reason', async (_l, body, message) => {
    const r = await put(agent, '/v0.4/traces', body);
    expect(r.status).toBe(400);
    expect(r.text).toBe(message);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers malformed JSON and a bad v0.5 shape with 400', async () => {
    const j = await put(agent, '/v0.4/traces', '[[{"trace_id":', { 'Content-Type': 'application/json' });
    expect(j.status).toBe(400);
    expect(j.text).toMatch(/^invalid JSON: .+\n$/);
    const v5 = await put(agent, '/v0.5/traces', new Packr({ useRecords: false }).pack([[''], [[[0, 0]]]]));
    expect(v5).toMatchObject({ status: 400, text: 'trace 0, span 0: encoded span needs exactly 12 elements in array, got 2\n' });
  });

  it('stores nothing of a payload that fails halfway', async () => {
    const good = encodeV04([[sp({ traceId: 0x77n, spanId: 1n })]]);
    // The same payload with a second trace whose span has a string id.
    const bad = Buffer.concat([Buffer.from([0x92]), good.subarray(1), new Packr({ useRecords: false }).pack([{ span_id: 'x' }])]);
    expect((await put(agent, '/v0.4/traces', bad)).status).toBe(400);
    expect((await fetch(agent.apiUrl + '/api/v1/traces/0000000000000077')).status).toBe(404);
    expect((await put(agent, '/v0.4/traces', good)).status).toBe(200);
    expect((await fetch(agent.apiUrl + '/api/v1/traces/0000000000000077')).status).toBe(200);
  });

  it('refuses a cross-site browser request with 403', async () => {
    const r = await put(agent, '/v0.4/traces', encodeV04([[sp({ traceId: 5n, spanId: 1n })]]), { ...MSGPACK, 'Sec-Fetch-Site': 'cross-site' });
    expect(r).toMatchObject({ status: 403, text: 'cross-site request rejected\n' });
  });

  it.each([
    [{ Origin: 'http://evil.example' }, 'a browser Origin header'],
    [{ 'Sec-Fetch-Site': 'same-site' }, 'Sec-Fetch-Site: same-site'],
    [{ 'Content-Type': 'text/plain' }, 'Content-Type text/plain'],
    [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'Content-Type application/x-www-form-urlencoded'],
  ])('refuses what only a web page sends (%j) with 403 and stores nothing', async (extra, why) => {
    const r = await put(agent, '/v0.4/traces', JSON.stringify([[{ trace_id: 0x5a, span_id: 1, name: 'x' }]]), { ...MSGPACK, 'Content-Type': 'application/json', ...extra });
    expect(r).toMatchObject({ status: 403, text: `cross-site request rejected: ${why}\n` });
    expect((await fetch(agent.apiUrl + '/api/v1/traces/000000000000005a')).status).toBe(404);
  });

  it('refuses an oversized Content-Length with 413 before reading the body', async () => {
    const out = await raw(agent, 'PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: 999999999\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1.1 413 /);
    expect(out).toMatch(/\r\n\r\npayload-too-large\n$/);
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    const r = await fetch(agent.intake + '/v0.4/traces', {
      method: 'PUT', headers: MSGPACK, duplex: 'half',
      body: new ReadableStream({ start(c) { for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(1024)); c.close(); } }),
    } as RequestInit).catch((e: unknown) => e as Error);
    // The agent answers and closes; depending on timing the client sees the 413 or a reset.
    if (r instanceof Response) expect([r.status, await r.text()]).toEqual([413, 'payload-too-large\n']);
    expect(await metric(agent, 'ecs_trace_receiver_payload_errors_total{endpoint="/v0.4/traces",reason="too_large"}')).toBeGreaterThanOrEqual(1);
  });

  it('answers a body that stalls past the read timeout with 408', async () => {
    const out = await raw(agent, 'PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: 100\r\n\r\n\x91\x91');
    expect(out).toMatch(/^HTTP\/1.1 408 /);
    expect(out).toMatch(/\r\n\r\ntimeout\n$/);
  });

  it('counts a client that hangs up mid-body as unexpected EOF, and keeps serving', async () => {
    const before = await metric(agent, 'ecs_trace_receiver_payload_errors_total{endpoint="/v0.4/traces",reason="unexpected_eof"}');
    await raw(agent, 'PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n\x91', { thenWaitMs: 50 });
    await new Promise((r) => setTimeout(r, 50));
    expect(await metric(agent, 'ecs_trace_receiver_payload_errors_total{endpoint="/v0.4/traces",reason="unexpected_eof"}')).toBe(before + 1);
    expect((await put(agent, '/v0.4/traces', encodeV04([[sp({ traceId: 6n, spanId: 1n })]]))).status).toBe(200);
  });

  it('counts every rejection by reason in /metrics', async () => {
    expect(await metric(agent, 'ecs_trace_receiver_payload_errors_total{endpoint="/v0.4/traces",reason="decode"}')).toBeGreaterThanOrEqual(4);
    expect(await metric(agent, 'ecs_trace_receiver_payload_errors_total{endpoint="/v0.4/traces",reason="cross_site"}')).toBe(5);
    expect(await metric(agent, 'ecs_trace_receiver_payload_errors_total{endpoint="/v0.4/traces",reason="timeout"}')).toBe(1);
  });
});

describe('normalization through the intake', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ DD_ENV: 'Staging' }); });
  afterAll(async () => { await agent.close(); });

  it('fixes spans as the Datadog Agent does and counts why, per tracer', async () => {
    const spans = [
      sp({ traceId: 0x99n, spanId: 1n, service: '', name: '', resource: '', start: 5n, meta: { 'http.status_code': '999' } }),
      sp({ traceId: 0x99n, spanId: 2n, parentId: 1n, service: 'Bad$Service', name: 'GET /users!', duration: -5 }),
    ];
    expect((await put(agent, '/v0.4/traces', encodeV04([spans, [sp({ traceId: 0n, spanId: 1n })]]))).status).toBe(200);
    const t = (await api(agent, '/api/v1/traces/' + 0x99n.toString())) as { spans: { spanId: string; service: string; name: string; resource: string; duration: number; meta: Record<string, string>; env: string }[] };
    const root = t.spans.find((s) => s.spanId === '0000000000000001');
    const child = t.spans.find((s) => s.spanId === '0000000000000002');
    expect(root).toMatchObject({ service: 'unnamed-nodejs-service', name: 'unnamed_operation', resource: 'unnamed_operation', meta: {}, env: 'staging' });
    expect(child).toMatchObject({ service: 'bad_service', name: 'GET_users', duration: 0 });
    const m = (reason: string) => metric(agent, `ecs_trace_normalizer_spans_malformed_total{reason="${reason}",lang="nodejs",tracer_version="5.132.0"}`);
    expect(await m('service_empty')).toBe(1);
    expect(await m('invalid_http_status_code')).toBe(1);
    expect(await m('invalid_start_date')).toBe(1);
    expect(await m('invalid_duration')).toBe(1);
    expect(await metric(agent, 'ecs_trace_normalizer_traces_dropped_total{reason="trace_id_zero",lang="nodejs",tracer_version="5.132.0"}')).toBe(1);
  });
});

describe('overload', () => {
  let agent: TestAgent;
  // Bodies in flight may hold (decoders + 1) x 2000 bytes.
  beforeAll(async () => { agent = await startTestAgent({ DD_APM_DECODERS: '1', DD_APM_DECODER_TIMEOUT: '100', DD_APM_RECEIVER_TIMEOUT: '3', DD_APM_MAX_PAYLOAD_SIZE: '2000' }); });
  afterAll(async () => { await agent.close(); });

  it('refuses with 200 and rates by default, 429 for tracers that ask, and counts it', async () => {
    // Hold the whole body budget with two requests that stall one byte short of their end.
    const stall = () => raw(agent, 'PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n' + 'x'.repeat(1999), { thenWaitMs: 1500 });
    const holding = [stall(), stall()];
    await new Promise((r) => setTimeout(r, 200));
    const body = encodeV04([[sp({ traceId: 0x55n, spanId: 1n })]]);
    const plain = await put(agent, '/v0.4/traces', body);
    expect(plain).toMatchObject({ status: 200, text: '{"rate_by_service":{}}\n' });
    const real = await put(agent, '/v0.4/traces', body, { ...MSGPACK, 'Datadog-Send-Real-Http-Status': 'true' });
    expect(real.status).toBe(429);
    expect(await metric(agent, 'ecs_trace_receiver_payload_refused_total{endpoint="/v0.4/traces"}')).toBe(2);
    // Refused payloads are dropped, not queued.
    expect((await fetch(agent.apiUrl + '/api/v1/traces/0000000000000055')).status).toBe(404);
    await Promise.all(holding);
    expect((await put(agent, '/v0.4/traces', body)).status).toBe(200);
    expect((await fetch(agent.apiUrl + '/api/v1/traces/0000000000000055')).status).toBe(200);
  });
});

describe('DD_APM_ENABLED=false', () => {
  it('starts no receiver and still serves the API', async () => {
    const agent = await startTestAgent({ DD_APM_ENABLED: 'false' });
    try {
      expect(agent.receiver).toBeUndefined();
      expect(await api(agent, '/healthz')).toMatchObject({ status: 'ok', receiver: null });
    } finally {
      await agent.close();
    }
  });
});

describe('intake on a unix socket (DD_APM_RECEIVER_SOCKET)', () => {
  it('replaces a stale socket, opens it to every user, and takes traces on it', async () => {
    const { mkdtempSync, rmSync, statSync } = await import('node:fs');
    const { createServer } = await import('node:net');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { request } = await import('node:http');
    const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-sock-'));
    const path = join(dir, 'apm.socket');
    // A socket file left behind by an agent that died.
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(path, r));
    stale.unref();
    const agent = await startTestAgent({ DD_APM_RECEIVER_SOCKET: path });
    try {
      expect(statSync(path).mode & 0o777).toBe(0o722);
      const status = await new Promise<number>((resolve, reject) => {
        const body = encodeV04([[sp({ traceId: 321n, spanId: 1n, metrics: { _sampling_priority_v1: 1 } })]]);
        const req = request({ socketPath: path, path: '/v0.4/traces', method: 'PUT', headers: { 'Content-Type': 'application/msgpack', 'Content-Length': body.length } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
        req.on('error', reject);
        req.end(body);
      });
      expect(status).toBe(200);
      expect(await api(agent, `/api/v1/traces/${(321n).toString(16).padStart(32, '0')}`)).toHaveProperty('spans');
    } finally {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
