import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import type { ApiErrors, ApiServices, ApiServiceMap, ApiTrace, ApiTraces } from '@ecs-trace/agent/api-types';
import { engineMissing, sharedEngine } from '../packages/agent/src/store/clickhouse/test-engine.js';
import { componentsAvailable } from './components.js';
import { runDdTraceApp } from './dd-trace-app.js';
import { waitForTrace } from './traces.js';

/*
 * The agent on ClickHouse (ECS_TRACE_STORE=clickhouse://...), its store reached through
 * ClickHouse's engine in process instead of HTTP: the real dd-trace's traces go through intake,
 * the spool and the store, and come back through the query API as the UI reads them: the trace,
 * the services list, a tag search, error groups and the service map.
 */

const ready = componentsAvailable(engineMissing(), 'the ClickHouse e2e test');

describe.skipIf(!ready)('the agent on ClickHouse', () => {
  let agent: TestAgent;
  let engine: ReturnType<typeof sharedEngine>;
  beforeAll(async () => {
    engine = sharedEngine();
    agent = await startTestAgent({ ECS_TRACE_STORE: 'clickhouse://default:not-used@127.0.0.1:8123/ecs_trace' }, { transports: { clickhouse: engine.transport } });
  }, 30_000);
  afterAll(async () => {
    await agent?.close();
    await engine?.close();
  });

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${agent.apiUrl}${path}`);
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };

  it("stores the real dd-trace's trace and serves it back through every reading the UI makes", async () => {
    const app = await runDdTraceApp(agent.intake);
    const trace = await waitForTrace<ApiTrace>(agent.apiUrl, app.traceId, 6, 30_000);
    expect(trace.summary).toMatchObject({ rootService: 'e2e-checkout', rootResource: 'checkout-flow', spanCount: 6, incomplete: false });
    const failing = trace.spans.find((s) => s.spanId === app.failingSpanId)!;
    expect(failing).toMatchObject({ error: 1, meta: { 'error.message': 'boom e2e' } });
    expect(trace.spans.find((s) => s.name === 'inner.compute')!.meta['custom.tag']).toBe('v');

    const start = Date.now() - 3_600_000;
    // Search by a tag one span carries, and by free text of an error message.
    const byTag = await api<ApiTraces>(`/api/v1/traces?q=${encodeURIComponent('custom.tag:v')}&start=${start}`);
    expect(byTag.traces.map((t) => t.traceId)).toContain(app.traceId);
    const byText = await api<ApiTraces>(`/api/v1/traces?q=${encodeURIComponent('"boom e2e"')}&start=${start}`);
    expect(byText.traces.map((t) => t.traceId)).toContain(app.traceId);
    // The services list from the stats (counted before sampling), once the bucket is written.
    await expect.poll(async () => (await api<ApiServices>(`/api/v1/services?start=${start}`)).services.find((s) => s.service === 'e2e-checkout')?.hits, { timeout: 30_000 }).toBeGreaterThan(0);
    // Error tracking's group for the failing step.
    const errors = await api<ApiErrors>(`/api/v1/errors?start=${start}`);
    expect(errors.groups.find((g) => g.errorType === 'TypeError')).toMatchObject({ service: 'e2e-checkout', count: 1, sampleTraceIds: [app.traceId] });
    // The store's size and counts as /healthz shows them.
    const health = await api<{ store: { spans: number; payloads: number } }>('/healthz');
    expect(health.store.spans).toBeGreaterThanOrEqual(6);
    const map = await api<ApiServiceMap>(`/api/v1/service-map?start=${start}`);
    expect(map.nodes.map((n) => n.service)).toContain('e2e-checkout');
  }, 60_000);
});
