import { encodeV04, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { startTestAgent, type TestAgent } from '../testing.js';

/* What a user sees through the query API after the pipeline: obfuscated, filtered, rewritten. */

const T0 = BigInt(Date.now()) * 1_000_000n;
const sp = (p: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span => ({
  service: 'checkout', name: 'web.request', resource: 'GET /', type: 'web', parentId: 0n, start: T0,
  duration: 1000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 1 }, ...p,
});

async function send(agent: TestAgent, chunks: Span[][]): Promise<void> {
  const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) });
  expect(res.status).toBe(200);
}
const trace = async (agent: TestAgent, id: bigint) => (await fetch(`${agent.apiUrl}/api/v1/traces/${id.toString(16).padStart(32, '0')}`));

describe('pipeline through the agent', () => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startTestAgent({
      DD_APM_IGNORE_RESOURCES: 'GET /health',
      DD_APM_REPLACE_TAGS: '[{"name": "customer.email", "pattern": "@.*$", "repl": "@redacted"}]',
    });
  });
  afterAll(async () => { await agent.close(); });

  it('stores SQL resources obfuscated and tags rewritten', async () => {
    await send(agent, [[
      sp({ traceId: 11n, spanId: 1n, meta: { 'customer.email': 'ann@example.com' } }),
      sp({ traceId: 11n, spanId: 2n, parentId: 1n, service: 'db', name: 'pg.query', type: 'sql', resource: "SELECT * FROM orders WHERE id = 42 AND owner = 'ann'", meta: { 'sql.query': "SELECT * FROM orders WHERE id = 42 AND owner = 'ann'" } }),
    ]]);
    const t = (await (await trace(agent, 11n)).json()) as { spans: { name: string; resource: string; meta: Record<string, string> }[] };
    const db = t.spans.find((s) => s.name === 'pg.query')!;
    expect(db.resource).toBe('SELECT * FROM orders WHERE id = ? AND owner = ?');
    expect(db.meta['sql.query']).toBe('SELECT * FROM orders WHERE id = ? AND owner = ?');
    expect(t.spans.find((s) => s.name === 'web.request')!.meta['customer.email']).toBe('ann@redacted');
  });

  it('drops ignored resources and counts them', async () => {
    await send(agent, [[sp({ traceId: 12n, spanId: 1n, resource: 'GET /healthz' })]]);
    expect((await trace(agent, 12n)).status).toBe(404);
    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    expect(metrics).toContain('ecs_trace_filter_traces_total{reason="ignore_resources"} 1');
  });

  it('drops user-rejected traces and keeps user-kept ones', async () => {
    await send(agent, [[sp({ traceId: 13n, spanId: 1n, metrics: { _sampling_priority_v1: -1 } })], [sp({ traceId: 14n, spanId: 1n, metrics: { _sampling_priority_v1: 2 } })]]);
    expect((await trace(agent, 13n)).status).toBe(404);
    expect((await trace(agent, 14n)).status).toBe(200);
  });
});

describe('filter settings at start-up', () => {
  it('stop the agent with the variable named', () => {
    expect(() => loadConfig({ env: { DD_APM_FILTER_TAGS_REGEX_REQUIRE: 'env:[prod' } })).toThrow(/^DD_APM_FILTER_TAGS_REGEX_REQUIRE: "\[prod" is not a valid regular expression/);
    expect(() => loadConfig({ env: { DD_APM_TARGET_TPS: 'ten' } })).toThrow(/DD_APM_TARGET_TPS/);
  });
});
