import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeV04 } from '@ecs-trace/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';

/*
 * The fuzz harness of the HTTP intake: random bodies, mutated dd-trace payloads and the committed
 * corpus, to every endpoint with any content type and odd headers. The agent answers each with a
 * status the Datadog Agent would give (never a 500), and afterwards still takes and serves traces.
 * FUZZ_RUNS (default 300) sets the cases per property; the HTTP ones run a third of them.
 */

const RUNS = Math.max(20, Math.floor(Number(process.env['FUZZ_RUNS'] ?? 300) / 3));
const protocolDir = fileURLToPath(new URL('../../../protocol/', import.meta.url));
const fixtures = ['v0.4-traces', 'v0.5-traces', 'v0.6-stats'].map((n) => readFileSync(`${protocolDir}fixtures/dd-trace-js-5.132-${n}.msgpack`));
const corpus = readdirSync(`${protocolDir}fuzz-corpus`).map((f) => readFileSync(`${protocolDir}fuzz-corpus/${f}`));

const ENDPOINTS = ['/v0.3/traces', '/v0.4/traces', '/v0.5/traces', '/v0.6/stats', '/v0.4/services', '/info', '/telemetry/proxy/api/v2/apmtelemetry', '/v0.7/config'];
const CONTENT_TYPES = ['application/msgpack', 'application/json', 'text/json', '', 'application/octet-stream', 'application/msgpack; charset=utf-8'];
const ALLOWED = new Set([200, 400, 404, 413]);

const body = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.constantFrom(...fixtures), fc.nat(), fc.nat(255), fc.nat()).map(([f, at, x, cut]) => {
    const b = Buffer.from(f);
    b[at % b.length] ^= x;
    return b.subarray(0, b.length - (cut % 64));
  }),
  fc.json({ maxDepth: 5 }).map((s) => Buffer.from(s)),
);

async function send(agent: TestAgent, path: string, contentType: string, data: Buffer, extra: Record<string, string>): Promise<number> {
  const res = await fetch(agent.intake + path, { method: 'PUT', headers: { ...(contentType ? { 'Content-Type': contentType } : {}), ...extra }, body: data });
  await res.arrayBuffer();
  return res.status;
}

describe('intake fuzzing', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ DD_APM_MAX_PAYLOAD_SIZE: '2MB' }); });
  afterAll(async () => { await agent.close(); });

  it('answers the corpus with a reason, never a 500', async () => {
    for (const data of corpus) {
      for (const path of ['/v0.4/traces', '/v0.5/traces', '/v0.6/stats']) {
        expect(ALLOWED).toContain(await send(agent, path, 'application/msgpack', data, {}));
      }
      expect(ALLOWED).toContain(await send(agent, '/v0.4/traces', 'application/json', data, {}));
    }
  });

  it('answers any body, endpoint, content type and header with a status the Datadog Agent gives', async () => {
    const headers = fc.record({
      'X-Datadog-Trace-Count': fc.oneof(fc.nat().map(String), fc.string({ maxLength: 8 })),
      'Datadog-Entity-ID': fc.string({ maxLength: 40 }),
      'Datadog-Client-Dropped-P0-Traces': fc.oneof(fc.nat().map(String), fc.constant('NaN'), fc.constant('-5')),
      'Datadog-Client-Computed-Stats': fc.constantFrom('', 'true', 'yes', '0'),
    }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.constantFrom(...CONTENT_TYPES), body, headers, async (path, type, data, extra) => {
      const clean = Object.fromEntries(Object.entries(extra).filter(([, v]) => /^[\x20-\x7e]*$/.test(v)));
      expect(ALLOWED).toContain(await send(agent, path, type, data, clean));
    }), { numRuns: RUNS });
  });

  it('still takes and serves traces afterwards', async () => {
    const span = { service: 'after-fuzz', name: 'web.request', resource: 'GET /', type: 'web', traceId: 0xf00dn, spanId: 1n, parentId: 0n, start: BigInt(Date.now()) * 1_000_000n, duration: 1000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 2 } };
    expect(await send(agent, '/v0.4/traces', 'application/msgpack', encodeV04([[span]]), {})).toBe(200);
    expect((await fetch(`${agent.apiUrl}/api/v1/traces/${0xf00dn}`)).status).toBe(200);
    expect(((await (await fetch(`${agent.apiUrl}/healthz`)).json()) as { status: string }).status).toBe('ok');
  });
});
