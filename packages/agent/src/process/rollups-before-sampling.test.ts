import { encodeV04, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrors, ApiServiceMap, ApiTraces } from '../query/api-types.js';
import { startTestAgent, type TestAgent } from '../testing.js';

/*
 * The service map's calls and error tracking's occurrences are counted before sampling, as the
 * stats are: of 12 calls from a front to a back, the tracer rejected 8 (priority -1, so the agent
 * stores none of them), yet the edge counts 12, as the back's requests do; the 4 failures among
 * them are 4 occurrences of their error. Only the 4 kept traces are stored.
 */

describe('counts before sampling', () => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startTestAgent();
    const now = BigInt(Date.now()) * 1_000_000n;
    const chunks: Span[][] = [];
    for (let i = 0; i < 12; i++) {
      const traceId = 0xb5a0000n + BigInt(i);
      const start = now - 60_000_000_000n + BigInt(i) * 1_000_000_000n;
      const kept = i % 3 === 0;
      const failing = i % 3 === 1;
      chunks.push([
        { service: 'front', name: 'web.request', resource: 'GET /', type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: 5_000_000, error: 0, meta: { env: 'prod' }, metrics: { _sampling_priority_v1: kept ? 2 : -1, _top_level: 1 } },
        { service: 'front', name: 'http.request', resource: 'GET', type: 'http', traceId, spanId: 2n, parentId: 1n, start: start + 100_000n, duration: 4_000_000, error: 0, meta: { env: 'prod', 'span.kind': 'client', 'http.method': 'GET' }, metrics: {} },
        { service: 'back', name: 'web.request', resource: 'GET /stock', type: 'web', traceId, spanId: 3n, parentId: 2n, start: start + 200_000n, duration: 3_000_000, error: failing ? 1 : 0,
          meta: { env: 'prod', 'span.kind': 'server', ...(failing ? { 'error.type': 'StockError', 'error.message': `no stock for item ${i}` } : {}) }, metrics: { _top_level: 1 } },
      ]);
    }
    expect((await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
  });
  afterAll(async () => { await agent.close(); });

  it('counts every call and every failure, and stores only the traces kept', async () => {
    const range = `start=${Date.now() - 3_600_000}&end=${Date.now() + 60_000}`;
    const map = (await (await fetch(`${agent.apiUrl}/api/v1/service-map?${range}`)).json()) as ApiServiceMap;
    expect(map.edges.map((e) => [e.from, e.to, e.calls, e.errors])).toEqual([['front', 'back', 12, 4]]);
    const errors = (await (await fetch(`${agent.apiUrl}/api/v1/errors?${range}`)).json()) as ApiErrors;
    expect(errors.groups.map((g) => [g.service, g.errorType, g.count])).toEqual([['back', 'StockError', 4]]);
    const stored = (await (await fetch(`${agent.apiUrl}/api/v1/traces?${range}&limit=100`)).json()) as ApiTraces;
    expect(stored.traces).toHaveLength(4);
  });
});
