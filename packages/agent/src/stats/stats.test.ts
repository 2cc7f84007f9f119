import { readFileSync } from 'node:fs';
import { clientStatsFromValue, decodeClientStats, emptySpan, encodeV04, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';
import { groupBy, timeSeries } from '../query/aggregate.js';
import { clientStatsRows } from './client-stats.js';
import { BUCKET_NS, Concentrator, MAX_GROUPS_PER_BUCKET, OTHER_RESOURCE } from './concentrator.js';

/*
 * Stats for a synthetic workload with known durations: hits and errors exact, percentiles within
 * the sketch's 1% relative accuracy, before sampling and after it.
 */

const T0 = (BigInt(Date.now()) * 1_000_000n / BUCKET_NS) * BUCKET_NS;
const MS = 1_000_000;

/** Spans of 1..n ms, every tenth an error, all ending in the same 10-s bucket (the one of t0). */
function workload(n: number, o: { priority?: (i: number) => number; t0?: bigint } = {}): Span[][] {
  const t0 = o.t0 ?? T0;
  const chunks: Span[][] = [];
  for (let i = 1; i <= n; i++) {
    const s: Span = { ...emptySpan(), traceId: BigInt(i), spanId: BigInt(i), service: 'api', name: 'web.request', resource: i % 2 ? 'GET /a' : 'GET /b', type: 'web', start: t0 + 1_000_000_000n, duration: i * MS, error: i % 10 === 0 ? 1 : 0 };
    s.meta = { env: 'prod', 'span.kind': 'server', 'http.status_code': i % 10 === 0 ? '500' : '200' };
    s.metrics = { _top_level: 1, _sampling_priority_v1: o.priority ? o.priority(i) : 1 };
    chunks.push([s]);
  }
  return chunks;
}

/** The exact value at a quantile, with the sketch's rank convention. */
const exact = (n: number, q: number) => (Math.floor(q * (n - 1)) + 1) * MS;
const within = (actual: number | null, expected: number) => {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected).toBeLessThanOrEqual(0.0101);
};

describe('Concentrator', () => {
  it('counts hits and errors exactly and gets percentiles within 1%', () => {
    const c = new Concentrator(T0);
    for (const chunk of workload(1000)) c.add(chunk, { root: chunk[0]!, env: 'prod', origin: '' });
    const rows = c.flush(T0 + 10n * BUCKET_NS);
    const [total] = groupBy(rows, 'service');
    expect(total).toMatchObject({ key: 'api', hits: 1000, errors: 100 });
    within(total!.p50, exact(1000, 0.5));
    within(total!.p95, exact(1000, 0.95));
    within(total!.p99, exact(1000, 0.99));
    expect(total!.avgDuration).toBe(500.5 * MS);
    // Grouped by resource and by status code, as the Datadog Agent keys them.
    expect(groupBy(rows, 'resource').map((g) => [g.key, g.hits, g.errors])).toEqual([['GET /a', 500, 0], ['GET /b', 500, 100]]);
    expect(groupBy(rows, 'httpStatusCode').map((g) => [g.key, g.hits])).toEqual([['200', 900], ['500', 100]]);
  });

  it('weights by the root sample rate and skips spans that are neither top-level, measured nor of a stats kind', () => {
    const c = new Concentrator(T0);
    const root: Span = { ...emptySpan(), traceId: 1n, spanId: 1n, service: 'api', name: 'a', start: T0, duration: MS };
    root.metrics = { _top_level: 1, _sample_rate: 0.25 };
    const inner: Span = { ...emptySpan(), traceId: 1n, spanId: 2n, parentId: 1n, service: 'api', name: 'inner', start: T0, duration: MS };
    const measured: Span = { ...inner, spanId: 3n, name: 'measured', metrics: { '_dd.measured': 1 }, meta: {} };
    c.add([root, inner, measured], { root, env: 'prod', origin: '' });
    const rows = c.flush(T0, true);
    expect(rows.map((r) => [r.name, r.hits])).toEqual([['a', 4], ['measured', 4]]);
  });

  it('groups client, producer and consumer spans by the peer tags they carry, sorted, and no others', () => {
    const c = new Concentrator(T0);
    const root: Span = { ...emptySpan(), traceId: 1n, spanId: 1n, service: 'api', name: 'web.request', start: T0, duration: MS, metrics: { _top_level: 1 } };
    const call = (spanId: bigint, kind: string, meta: Record<string, string>): Span =>
      ({ ...emptySpan(), traceId: 1n, spanId, parentId: 1n, service: 'api', name: 'call', start: T0, duration: MS, meta: { 'span.kind': kind, ...meta } });
    c.add([
      root,
      call(2n, 'client', { 'out.host': 'db1', 'db.system': 'postgresql', 'http.url': 'x', 'peer.service': '' }),
      call(3n, 'client', { 'db.system': 'postgresql', 'out.host': 'db1' }),
      call(4n, 'producer', { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' }),
      call(5n, 'server', { 'out.host': 'db1' }),
    ], { root, env: 'prod', origin: '' });
    const rows = c.flush(T0, true);
    expect(rows.map((r) => [r.spanKind, r.peerTags, r.hits]).sort()).toEqual([
      ['', [], 1],
      ['client', ['db.system:postgresql', 'out.host:db1'], 2],
      ['producer', ['messaging.destination.name:orders', 'messaging.system:kafka'], 1],
      ['server', [], 1],
    ]);
  });

  it('bounds the groups of a bucket: a flood of distinct resources is counted under one', () => {
    const c = new Concentrator(T0);
    const n = MAX_GROUPS_PER_BUCKET + 500;
    for (let i = 0; i < n; i++) {
      const s: Span = { ...emptySpan(), traceId: BigInt(i + 1), spanId: 1n, service: 'api', name: 'web.request', resource: `GET /users/${i}`, start: T0, duration: MS };
      s.metrics = { _top_level: 1 };
      c.add([s], { root: s, env: 'prod', origin: '' });
    }
    const rows = c.flush(T0, true);
    expect(rows).toHaveLength(MAX_GROUPS_PER_BUCKET + 1);
    expect(rows.find((r) => r.resource === OTHER_RESOURCE)!.hits).toBe(500);
    expect(rows.reduce((a, r) => a + r.hits, 0)).toBe(n);
  });

  it('keeps the open buckets until they are 20 s old', () => {
    const c = new Concentrator(T0);
    const chunk = workload(1)[0]!;
    c.add(chunk, { root: chunk[0]!, env: 'prod', origin: '' });
    expect(c.flush(T0 + BUCKET_NS)).toEqual([]);
    expect(c.pending()).toHaveLength(1);
    expect(c.flush(T0 + 2n * BUCKET_NS)).toHaveLength(1);
  });
});

describe('client-computed stats (/v0.6/stats)', () => {
  it('reads what dd-trace 5.132 sends, sketches included', () => {
    const payload = decodeClientStats(readFileSync(new URL('../../../protocol/fixtures/dd-trace-js-5.132-v0.6-stats.msgpack', import.meta.url)));
    const { rows, skipped } = clientStatsRows(payload, 'none');
    expect(skipped).toBe(0);
    expect(rows).toHaveLength(8);
    const web = rows.filter((r) => r.name === 'web.request');
    expect(web.map((r) => [r.httpStatusCode, r.hits, r.errors])).toEqual([[200, 2, 0], [500, 2, 2]]);
    expect(web[0]).toMatchObject({ service: 'checkout', resource: 'GET', spanKind: 'server', source: 'client' });
    expect(web[0]!.okSketch.count).toBe(2);
    const series = timeSeries(rows, rows[0]!.start, rows[0]!.start + BUCKET_NS, BUCKET_NS);
    expect(series).toHaveLength(1);
    expect(series[0]!.hits).toBe(14);
  });

  it('skips groups without service or name, or with a broken sketch', () => {
    const { rows, skipped } = clientStatsRows(clientStatsFromValue({ Stats: [{ Start: 1n, Duration: 10n, Stats: [{ Service: 's' }, { Service: 's', Name: 'n', OkSummary: new Uint8Array([255, 255]) }, { Service: 's', Name: 'n', Hits: 3 }] }] }), 'prod');
    expect(skipped).toBe(2);
    expect(rows.map((r) => [r.resource, r.hits, r.env])).toEqual([['n', 3, 'prod']]);
  });
});

describe('stats through the agent', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('counts every trace, including the 90% that sampling drops', async () => {
    // The current bucket, taken now: the agent folds anything older than its start into it.
    const t0 = (BigInt(Date.now()) * 1_000_000n / BUCKET_NS) * BUCKET_NS;
    const chunks = workload(1000, { priority: (i) => (i % 10 === 1 ? 1 : 0), t0 });
    const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) });
    expect(res.status).toBe(200);
    // Sampling kept 100 traces (priority 1), plus the errors the errors sampler rescued.
    const stored = (await (await fetch(`${agent.apiUrl}/api/v1/traces?service=api&limit=1000&start=${Number(t0 / 1_000_000n) - 60_000}`)).json()) as { traces: unknown[] };
    expect(stored.traces.length).toBeLessThan(300);
    const q = `service=api&start=${Number(t0 / 1_000_000n)}&end=${Number(t0 / 1_000_000n) + 10_000}&step=10`;
    const series = (await (await fetch(`${agent.apiUrl}/api/v1/stats?${q}`)).json()) as { step: number; points: { hits: number; errors: number; p50: number; p95: number; p99: number }[] };
    expect(series.step).toBe(10);
    expect(series.points).toHaveLength(1);
    expect(series.points[0]).toMatchObject({ hits: 1000, errors: 100 });
    within(series.points[0]!.p50, exact(1000, 0.5));
    within(series.points[0]!.p99, exact(1000, 0.99));
    const byResource = (await (await fetch(`${agent.apiUrl}/api/v1/stats?${q}&groupBy=resource`)).json()) as { groups: { key: string; hits: number }[] };
    expect(byResource.groups.map((g) => [g.key, g.hits])).toEqual([['GET /a', 500], ['GET /b', 500]]);
  });

  it('answers a bad stats query with 400 and the reason', async () => {
    const res = await fetch(`${agent.apiUrl}/api/v1/stats?groupBy=colour`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'groupBy: "colour" is not one of resource, name, service, env, version, httpStatusCode, spanKind' });
  });
});
