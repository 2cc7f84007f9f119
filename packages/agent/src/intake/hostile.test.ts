import { connect } from 'node:net';
import { encodeV04, type Span } from '@ecs-trace/protocol';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';

/*
 * Hostile and broken input, as issue #12 found it: each case gets the real agent's status with a
 * reason, never takes the agent down, and loses none of the good data sent beside it.
 */

const T0 = BigInt(Date.now() - 60_000) * 1_000_000n;
const sp = (p: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span => ({
  service: 'checkout', name: 'web.request', resource: 'GET /', type: 'web', parentId: 0n, start: T0,
  duration: 1000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 2 }, ...p,
});
const MSGPACK = { 'Content-Type': 'application/msgpack', 'Datadog-Meta-Lang': 'nodejs', 'Datadog-Meta-Tracer-Version': '5.132.0' };

async function put(agent: TestAgent, path: string, body: Uint8Array | string, headers: Record<string, string> = MSGPACK) {
  const res = await fetch(agent.intake + path, { method: 'PUT', headers, body });
  return { status: res.status, text: await res.text() };
}
async function metric(agent: TestAgent, line: string): Promise<number> {
  const text = await (await fetch(agent.apiUrl + '/metrics')).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.slice(line.length + 1)) : 0;
}
const stored = async (agent: TestAgent, id: bigint) => (await fetch(`${agent.apiUrl}/api/v1/traces/${id.toString()}`)).status === 200;

function array32(n: number, fill: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0xdd;
  head.writeUInt32BE(n, 1);
  return Buffer.concat([head, fill]);
}

describe('hostile payloads', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('refuses 4 MB of empty v0.4 span maps with 400 and a reason, and keeps serving', async () => {
    const n = 4_000_000;
    const r = await put(agent, '/v0.4/traces', Buffer.concat([Buffer.from([0x91]), array32(n, Buffer.alloc(n, 0x80))]));
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/would take more than 16 times its size in memory/);
    expect((await put(agent, '/v0.4/traces', encodeV04([[sp({ traceId: 0x501n, spanId: 1n })]]))).status).toBe(200);
    expect(await stored(agent, 0x501n)).toBe(true);
  });

  it('refuses JSON of empty objects with 400', async () => {
    const r = await put(agent, '/v0.4/traces', '[[' + Array.from({ length: 300_000 }, () => '{}').join(',') + ']]', { 'Content-Type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/too many values for its size/);
  });

  it('answers stats nested 100,000 deep with 400, not 500', async () => {
    const body = Buffer.concat([Buffer.from([0x81, 0xa5, ...Buffer.from('Stats')]), Buffer.alloc(100_000, 0x91), Buffer.from([0xc0])]);
    const r = await put(agent, '/v0.6/stats', body);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/nested more than 64 deep/);
  });

  it('fixes a span whose start is near 2^63 instead of failing the payload, and keeps its good traces', async () => {
    const far = (1n << 63n) - 2n;
    const r = await put(agent, '/v0.4/traces', encodeV04([
      [sp({ traceId: 0x601n, spanId: 1n, start: far, duration: 10_000_000_000 })],
      [sp({ traceId: 0x602n, spanId: 1n })],
    ]));
    expect(r.status).toBe(200);
    expect(await stored(agent, 0x602n)).toBe(true);
    const t = (await (await fetch(`${agent.apiUrl}/api/v1/traces/${0x601n}`)).json()) as { spans: { duration: number; start: string }[] };
    expect(t.spans[0]).toMatchObject({ duration: 0, start: far.toString() });
    expect(await metric(agent, 'ecs_trace_normalizer_spans_malformed_total{reason="invalid_duration",lang="nodejs",tracer_version="5.132.0"}')).toBeGreaterThanOrEqual(1);
    // The stats of that span are stored too: nothing is left to fail the flush at shutdown.
    const health = await (await fetch(`${agent.apiUrl}/healthz`)).json() as { status: string };
    expect(health.status).toBe('ok');
  });

  it('skips client stats groups with NaN counts or a uint64 start, counts them, and stores the rest', async () => {
    const packr = new Packr({ useRecords: false, variableMapSize: true, largeBigIntToFloat: false });
    const group = (resource: string, hits: number) => ({ Service: 'stats-svc', Name: 'web.request', Resource: resource, Hits: hits, TopLevelHits: hits, Errors: 0, Duration: 1000 });
    const start = BigInt(Date.now() - 60_000) * 1_000_000n;
    const body = packr.pack({
      Env: 'prod', Version: '1',
      Stats: [
        { Start: start - (start % 10_000_000_000n), Duration: 10_000_000_000n, Stats: [group('GET /good', 3), group('GET /nan', Number.NaN)] },
        { Start: 0xffffffffffffff00n, Duration: 10_000_000_000n, Stats: [group('GET /future', 1)] },
      ],
    });
    const before = await metric(agent, 'ecs_trace_receiver_stats_groups_skipped_total{lang="nodejs"}');
    expect((await put(agent, '/v0.6/stats', body)).status).toBe(200);
    expect(await metric(agent, 'ecs_trace_receiver_stats_groups_skipped_total{lang="nodejs"}')).toBe(before + 2);
    const q = `service=stats-svc&groupBy=resource&start=${Date.now() - 3_600_000}&end=${Date.now() + 60_000}`;
    const groups = (await (await fetch(`${agent.apiUrl}/api/v1/stats?${q}`)).json()) as { groups: { key: string; hits: number }[] };
    expect(groups.groups.map((g) => [g.key, g.hits])).toEqual([['GET /good', 3]]);
  });
});

describe('a slow sender', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ DD_APM_DECODERS: '1', DD_APM_RECEIVER_TIMEOUT: '30' }); });
  afterAll(async () => { await agent.close(); });

  it('sending its body a byte at a time does not starve the tracers sending beside it', async () => {
    const url = new URL(agent.intake);
    const sock = connect(Number(url.port), url.hostname);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('PUT /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: 1000\r\n\r\n');
    const drip = setInterval(() => sock.write('\x91'), 50);
    try {
      const results = [];
      for (let i = 0; i < 15; i++) results.push(await put(agent, '/v0.4/traces', encodeV04([[sp({ traceId: 0x700n + BigInt(i), spanId: 1n })]])));
      expect(results.map((r) => r.status)).toEqual(Array(15).fill(200));
      for (let i = 0; i < 15; i++) expect(await stored(agent, 0x700n + BigInt(i))).toBe(true);
      expect(await metric(agent, 'ecs_trace_receiver_payload_refused_total{endpoint="/v0.4/traces"}')).toBe(0);
    } finally {
      clearInterval(drip);
      sock.destroy();
    }
  });
});
