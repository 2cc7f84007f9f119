import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { postgresUnavailable, startTestPostgres } from '../packages/agent/src/store/postgres/test-server.js';
import { componentsAvailable } from './components.js';
import { runDdTraceApp } from './dd-trace-app.js';
import { freePort } from './ports.js';
import { waitForTrace } from './traces.js';

/** The dd-trace these tests run (5 on the machine's Node, 6 on Node 24 in CI), as it reports itself. */
const DD_TRACE_VERSION = (createRequire(import.meta.url)('dd-trace/package.json') as { version: string }).version.replace(/\./g, '\\.');

/*
 * The real dd-trace (5.x) sends to our agent unchanged; the trace comes back from the query API
 * with ids, parentage, service, resource, error, meta and metrics intact.
 */

const APP = fileURLToPath(new URL('./apps/dd-trace-app.cjs', import.meta.url));
/** The small http service of e2e/apps, traced by the real dd-trace. */
const SERVER = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));

interface AppOutput { traceId: string; rootSpanId: string; failingSpanId: string }
interface ApiSpan { spanId: string; parentId: string; service: string; name: string; resource: string; type: string; error: number; env: string; meta: Record<string, string>; metrics: Record<string, number> }

function runApp(env: Record<string, string>): Promise<AppOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`app exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as AppOutput);
    });
  });
}

describe.each([
  ['v0.4 (default)', {}],
  ['v0.5', { DD_TRACE_AGENT_PROTOCOL_VERSION: '0.5' }],
])('real dd-trace over %s', (_label, extraEnv) => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('stores the whole trace and serves it back intact', async () => {
    const app = await runApp({ DD_TRACE_AGENT_URL: agent.intake, ...extraEnv });
    // Six spans: the root, the http client call and its tcp.connect (dd-trace's net plugin), the
    // server span, a nested manual span and the failing one.
    const trace = await waitForTrace<{ summary: Record<string, unknown>; spans: ApiSpan[] }>(agent.apiUrl, app.traceId, 6);
    expect(trace.summary).toMatchObject({ traceId: app.traceId, rootService: 'e2e-checkout', rootName: 'e2e.root', rootResource: 'checkout-flow', spanCount: 6, errorCount: 1, env: 'e2e', incomplete: false });

    const byName = new Map(trace.spans.map((s) => [s.name, s]));
    const root = byName.get('e2e.root')!;
    const client = byName.get('http.request')!;
    const server = byName.get('web.request')!;
    const inner = byName.get('inner.compute')!;
    const failing = byName.get('failing.op')!;
    expect(root.spanId).toBe(app.rootSpanId);
    expect(root.parentId).toBe('0000000000000000');
    expect(client.parentId).toBe(root.spanId);
    expect(server.parentId).toBe(client.spanId);
    expect(byName.get('tcp.connect')!.parentId).toBe(client.spanId);
    expect(inner.parentId).toBe(server.spanId);
    expect(failing.spanId).toBe(app.failingSpanId);
    expect(failing.parentId).toBe(root.spanId);

    expect(server).toMatchObject({ service: 'e2e-checkout', type: 'web', env: 'e2e', meta: { 'http.method': 'GET', 'http.status_code': '200', 'span.kind': 'server', component: 'http', version: '1.2.3' } });
    expect(server.resource).toMatch(/^GET/);
    expect(client.meta['span.kind']).toBe('client');
    expect(inner.meta['custom.tag']).toBe('v');
    expect(failing).toMatchObject({ error: 1, meta: { 'error.type': 'TypeError', 'error.message': 'boom e2e' } });
    expect(failing.meta['error.stack']).toContain('TypeError: boom e2e');
    expect(root.metrics['_sampling_priority_v1']).toBe(1);
    expect(root.metrics['_top_level']).toBe(1);
    expect(root.meta['_dd.p.tid']).toBe(app.traceId.slice(0, 16));

    // Search finds it by service, by resource and by error.
    const search = async (q: string) => ((await (await fetch(`${agent.apiUrl}/api/v1/traces?${q}`)).json()) as { traces: { traceId: string }[] }).traces.map((t) => t.traceId);
    expect(await search('service=e2e-checkout')).toContain(app.traceId);
    expect(await search('service=e2e-checkout&resource=failing&error=true')).toEqual([app.traceId]);
    expect(await search('service=e2e-checkout&resource=nope')).toEqual([]);
    const services = (await (await fetch(`${agent.apiUrl}/api/v1/services`)).json()) as { services: { service: string; env: string }[] };
    expect(services.services).toContainEqual(expect.objectContaining({ service: 'e2e-checkout', env: 'e2e' }));

    // dd-trace's own side calls (telemetry, remote config) were answered without errors counted as bad payloads.
    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/payload_errors_total\{/);
    expect(metrics).toMatch(new RegExp(`ecs_trace_receiver_payloads_total\\{endpoint="/v0\\.[45]/traces",lang="nodejs",tracer_version="${DD_TRACE_VERSION}"\\} [1-9]`));
  });
});

describe('the real dd-trace computing stats itself (DD_TRACE_STATS_COMPUTATION_ENABLED)', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('sends /v0.6/stats, which the agent keeps and serves', async () => {
    const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'stats-app', DD_TRACE_STATS_COMPUTATION_ENABLED: 'true' }, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${port}/leaf`)).text();
      // dd-trace flushes its stats every 10 s.
      let hits = 0;
      for (let i = 0; i < 250 && hits < 5; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const body = (await (await fetch(`${agent.apiUrl}/api/v1/stats?service=stats-app&groupBy=name&start=${Date.now() - 600_000}`)).json()) as { groups: { key: string; hits: number }[] };
        hits = body.groups.find((g) => g.key === 'web.request')?.hits ?? 0;
      }
      expect(hits).toBe(5);
      const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`ecs_trace_receiver_stats_payloads_total\\{lang="javascript",tracer_version="${DD_TRACE_VERSION}"\\} [1-9]`));
    } finally {
      child.kill('SIGKILL');
    }
  }, 40_000);
});

describe('single-span sampling with the real dd-trace (DD_SPAN_SAMPLING_RULES)', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('keeps the spans a span rule kept when the trace is dropped, and nothing else of it', async () => {
    // Every trace is rejected by a trace rule; the span rule keeps the failing op's span.
    const app = await runApp({
      DD_TRACE_AGENT_URL: agent.intake,
      DD_TRACE_SAMPLING_RULES: JSON.stringify([{ sample_rate: 0 }]),
      DD_SPAN_SAMPLING_RULES: JSON.stringify([{ service: 'e2e-checkout', name: 'failing.op' }]),
    });
    const trace = await waitForTrace<{ summary: Record<string, unknown>; spans: ApiSpan[] }>(agent.apiUrl, app.traceId, 1);
    // Let the rest of the payloads arrive: nothing else of the trace may be stored.
    await new Promise((r) => setTimeout(r, 1000));
    const again = (await (await fetch(`${agent.apiUrl}/api/v1/traces/${app.traceId}`)).json()) as { spans: ApiSpan[] };
    expect(again.spans.map((s) => s.name)).toEqual(['failing.op']);
    const span = trace.spans[0]!;
    expect(span.spanId).toBe(app.failingSpanId);
    expect(span.metrics['_dd.span_sampling.mechanism']).toBe(8);
    expect(span.metrics['_sampling_priority_v1']).toBe(2);
    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/ecs_trace_sampler_traces_total\{decision="kept",reason="single_span"\} [1-9]/);
  });
});

describe('errors the real dd-trace marks without a message', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('are named by what they are: the 500 a server answered, the 404 a call got', async () => {
    const start = (service: string) => {
      const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: service }, stdio: ['ignore', 'pipe', 'ignore'] });
      const port = new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      return { child, port };
    };
    const back = start('named-back');
    const front = start('named-front');
    // Something the front calls that is not there: 404, untraced.
    const missing = createServer((_req, res) => { res.statusCode = 404; res.end(); });
    await new Promise<void>((r) => missing.listen(0, '127.0.0.1', r));
    try {
      const backPort = await back.port;
      const frontPort = await front.port;
      const call = (to: string) => fetch(`http://127.0.0.1:${frontPort}/call?to=${encodeURIComponent(to)}`);
      for (let i = 0; i < 3; i++) {
        // The back fails its query and answers 500, which the front answers too.
        expect((await call(`http://127.0.0.1:${backPort}/leaf?fail=1`)).status).toBe(500);
        // dd-trace marks a call answered 4xx an error, without a message.
        expect((await call(`http://127.0.0.1:${(missing.address() as AddressInfo).port}/gone`)).status).toBe(404);
      }
      type Group = { service: string; errorType: string; message: string; count: number };
      let named: Group[] = [];
      for (let i = 0; i < 100 && named.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 200));
        named = ((await (await fetch(`${agent.apiUrl}/api/v1/errors?start=${Date.now() - 600_000}`)).json()) as { groups: Group[] }).groups.filter((g) => g.service.startsWith('named-'));
      }
      // A failing request is one occurrence, named by the error raised under it (the back's
      // query) or, when none was, by what it answered (the front's 500).
      expect(named.map((g) => [g.service, g.message, g.count]).sort()).toEqual([
        ['named-back', 'relation ? is locked', 3],
        // Named by its peer: peer.service where the tracer sets it, else the host it called.
        ['named-front', expect.stringMatching(/^HTTP 404 from \S+$/), 3],
        ['named-front', 'HTTP 500', 3],
      ]);
    } finally {
      back.child.kill('SIGKILL');
      front.child.kill('SIGKILL');
      missing.close();
    }
  }, 40_000);
});

const PG_APP = fileURLToPath(new URL('./apps/dd-trace-pg.cjs', import.meta.url));

describe.runIf(componentsAvailable(postgresUnavailable(), "the service map of the real dd-trace's PostgreSQL queries"))('the service map of an app querying PostgreSQL through the real dd-trace', () => {
  it("draws the app and its database (dd-trace's inferred `<service>-postgres`) as one hop, every query a call", async () => {
    const pg = startTestPostgres(await freePort());
    const agent = await startTestAgent();
    try {
      const app = await runDdTraceApp<{ traceId: string; queries: string[] }>(agent.intake, { PG_URL: pg.database('orders') }, PG_APP);
      const trace = await waitForTrace<{ spans: ApiSpan[] }>(agent.apiUrl, app.traceId, app.queries.length + 1);
      const dbService = trace.spans.find((s) => s.name === 'pg.query')!.service;
      type Map = { nodes: { service: string }[]; edges: { from: string; to: string; calls: number }[] };
      let map: Map = { nodes: [], edges: [] };
      for (let i = 0; i < 100 && !map.edges.some((e) => e.from === 'e2e-orders'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        map = (await (await fetch(`${agent.apiUrl}/api/v1/service-map`)).json()) as Map;
      }
      // dd-trace 5 names the database's spans' service after the app's (`e2e-orders-postgres`, an
      // inferred service); with the app's own service (schema v1) the database is a leaf. One hop either way.
      const to = dbService !== 'e2e-orders' ? dbService : expect.not.stringMatching(/^e2e-orders$/);
      expect(map.edges.map((e) => [e.from, e.to, e.calls])).toEqual([['e2e-orders', to, app.queries.length]]);
      expect(map.nodes).toHaveLength(2);
    } finally {
      await agent.close();
      pg.stop();
    }
  }, 40_000);
});

describe("the real dd-trace's telemetry", () => {
  it("makes the service's instance known: language, tracer, env and version, configuration as it reports it, a key never shown", async () => {
    const agent = await startTestAgent();
    const app = spawn(process.execPath, [SERVER], {
      env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'tele-shop', DD_ENV: 'e2e', DD_VERSION: '3.1.4', DD_API_KEY: 'abcdef0123456789abcdef0123456789', DD_TELEMETRY_HEARTBEAT_INTERVAL: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const port = await new Promise<number>((resolve) => app.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      expect((await fetch(`http://127.0.0.1:${port}/leaf`)).status).toBe(200);
      type Instances = { kept: boolean; instances: { service: string; env: string; version: string; language: string; tracerVersion: string; configuration: { name: string; value: string; origin: string }[] }[] };
      let body: Instances = { kept: false, instances: [] };
      for (let i = 0; i < 100 && body.instances.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        body = (await (await fetch(`${agent.apiUrl}/api/v1/services/tele-shop/instances`)).json()) as Instances;
      }
      expect(body.kept).toBe(true);
      const inst = body.instances[0]!;
      expect(inst).toMatchObject({ service: 'tele-shop', env: 'e2e', version: '3.1.4', language: 'nodejs' });
      expect(inst.tracerVersion).toMatch(new RegExp(`^${DD_TRACE_VERSION}`));
      // dd-trace 5 names settings by their variables (DD_ENV), others by their option (env).
      expect(inst.configuration.filter((c) => /^(DD_ENV|env)$/.test(c.name)).map((c) => c.value)).toContain('e2e');
      for (const c of inst.configuration.filter((x) => /api_?key/i.test(x.name) && x.value !== '')) expect(c.value).toBe('(set, not shown)');
      expect(JSON.stringify(body)).not.toContain('abcdef0123456789abcdef0123456789');
    } finally {
      app.kill('SIGKILL');
      await agent.close();
    }
  }, 40_000);
});
