import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '@ecs-trace/simulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';

/*
 * ecs-trace's tracer in real processes: services with hostname 'auto' find the agent through the
 * simulator and form one distributed trace; the real dd-trace and our tracer continue each other's
 * traces.
 */

const OURS = fileURLToPath(new URL('./apps/ecs-tracer-server.mjs', import.meta.url));
const DD = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));
const HOST_IP = '127.0.0.3';

interface App { child: ChildProcess; url: string }
let apps: App[] = [];

function startApp(file: string, env: Record<string, string>): Promise<App> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        const app = { child, url: `http://127.0.0.1:${(JSON.parse(line!) as { port: number }).port}` };
        apps.push(app);
        resolve(app);
      }
    });
    child.on('exit', (code) => reject(new Error(`${file} exited ${code}: ${err}`)));
  });
}

afterEach(() => {
  for (const a of apps) a.child.kill('SIGTERM');
  apps = [];
});

interface ApiSpan { traceId: string; spanId: string; parentId: string; service: string; name: string; resource: string; meta: Record<string, string>; error: number }

async function traceOf(agent: TestAgent, service: string, minSpans: number): Promise<ApiSpan[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const list = (await (await fetch(`${agent.apiUrl}/api/v1/traces?service=${service}&limit=1`)).json()) as { traces: { traceId: string }[] };
    if (list.traces[0]) {
      const t = (await (await fetch(`${agent.apiUrl}/api/v1/traces/${list.traces[0].traceId}`)).json()) as { spans: ApiSpan[] };
      if (t.spans.length >= minSpans) return t.spans;
    }
    if (Date.now() > deadline) {
      const metrics = (await (await fetch(`${agent.apiUrl}/metrics`)).text()).split('\n').filter((l) => !l.startsWith('#') && / [1-9]/.test(l));
      throw new Error(`no trace of ${minSpans} spans for ${service}; agent metrics: ${metrics.join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('two services with hostname: auto on a simulated ECS host', () => {
  let sim: Simulator;
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startTestAgent({ DD_BIND_HOST: HOST_IP });
    sim = await startSimulator({ localIpv4: HOST_IP, imds: { mode: 'v2-required' }, metadataFiles: false });
  });
  afterAll(async () => {
    await sim.close();
    await agent.close();
  });

  it('find the agent and form one trace across an http client call, over fetch and http', async () => {
    const env = { ...sim.containerEnv('web'), DD_TRACE_AGENT_PORT: String(agent.receiver!.port), APP_HOSTNAME: 'auto' };
    const b = await startApp(OURS, { ...env, APP_SERVICE: 'inventory' });
    const a = await startApp(OURS, { ...env, APP_SERVICE: 'storefront' });
    const res = await fetch(`${a.url}/call?to=${encodeURIComponent(`${b.url}/leaf`)}`);
    expect(await res.json()).toEqual({ fetch: 200, http: 200 });

    const spans = await traceOf(agent, 'storefront', 7);
    const root = spans.find((s) => s.service === 'storefront' && s.name === 'web.request')!;
    expect(root.parentId).toBe('0000000000000000');
    expect(root.meta).toMatchObject({ 'span.kind': 'server', component: 'http', 'http.method': 'GET', 'http.status_code': '200' });
    const clients = spans.filter((s) => s.name === 'http.request');
    expect(clients.map((c) => c.meta['component']).sort()).toEqual(['fetch', 'http']);
    for (const c of clients) {
      expect(c.parentId).toBe(root.spanId);
      expect(c.meta['http.url']).toBe(`${b.url}/leaf`);
      // Each client call reached inventory as a child of that client span.
      const server = spans.find((s) => s.service === 'inventory' && s.name === 'web.request' && s.parentId === c.spanId);
      expect(server).toBeDefined();
      expect(spans.find((s) => s.name === 'leaf.work' && s.parentId === server!.spanId)).toBeDefined();
    }
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  });
});

describe.each([
  ['Datadog and W3C headers', {}],
  ['W3C headers only', { DD_TRACE_PROPAGATION_STYLE: 'tracecontext' }],
])('the real dd-trace and ecs-trace in one trace (%s)', (_label, ddEnv) => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('dd-trace calls a service traced by ecs-trace', async () => {
    const ours = await startApp(OURS, { DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'ours-callee' });
    const dd = await startApp(DD, { DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'dd-caller', ...ddEnv });
    await (await fetch(`${dd.url}/call?to=${encodeURIComponent(`${ours.url}/leaf`)}`)).text();
    const spans = await traceOf(agent, 'dd-caller', 4);
    const client = spans.find((s) => s.service === 'dd-caller' && s.name === 'http.request')!;
    const server = spans.find((s) => s.service === 'ours-callee' && s.name === 'web.request')!;
    expect(server.parentId).toBe(client.spanId);
    expect(server.traceId).toBe(client.traceId);
  });

  it('ecs-trace calls a service traced by dd-trace', async () => {
    const dd = await startApp(DD, { DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'dd-callee', ...ddEnv });
    const ours = await startApp(OURS, { DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'ours-caller' });
    await (await fetch(`${ours.url}/call?to=${encodeURIComponent(`${dd.url}/leaf`)}`)).text();
    const spans = await traceOf(agent, 'ours-caller', 6);
    const clients = spans.filter((s) => s.service === 'ours-caller' && s.name === 'http.request');
    expect(clients).toHaveLength(2);
    for (const c of clients) {
      const server = spans.find((s) => s.service === 'dd-callee' && s.name === 'web.request' && s.parentId === c.spanId);
      expect(server?.traceId).toBe(c.traceId);
    }
  });
});

describe('a script that ends on its own', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('sends its spans before the process exits', async () => {
    const script = fileURLToPath(new URL('./apps/ecs-tracer-script.mjs', import.meta.url));
    const code = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, [script], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agent.intake }, stdio: 'ignore' }).on('exit', resolve);
    });
    expect(code).toBe(0);
    // The process has exited: whatever it sent is already stored.
    const list = (await (await fetch(`${agent.apiUrl}/api/v1/traces?service=batch-job`)).json()) as { traces: { rootResource: string }[] };
    expect(list.traces.map((t) => t.rootResource)).toEqual(['nightly']);
  });
});
