import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type SimulatorOptions } from '@ecs-trace/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { appMissing, LANGUAGES, randomId, startApp, tracedRequest, type Lang, type RunningApp } from './languages.js';
import { TraceNeverCame, twice, waitForTrace } from './traces.js';

/*
 * The real Python, Java and Go tracers, installed as their users install them (e2e/apps/prepare.sh),
 * each started by `ecs-trace run` under the simulator so that discovery sets DD_AGENT_HOST as on
 * ECS: the agent listens only on the host's "private IP" (127.0.0.3), which the tracers' default
 * (localhost) would not reach. Each app continues a trace from Datadog headers, so the test knows
 * the trace id and the server span's parent.
 */

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const HOST_IP = '127.0.0.3';

interface ApiSpan { traceId: string; spanId: string; parentId: string; service: string; name: string; resource: string; error: number; env: string; meta: Record<string, string>; metrics: Record<string, number> }
interface ApiTrace { summary: { spanCount: number; errorCount: number; services: string[] }; spans: ApiSpan[] }

const sources: [string, SimulatorOptions][] = [
  ['metadata-file', { imds: { mode: 'off' }, metadataFiles: { readyAfterMs: 200 } }],
  ['imdsv2', { imds: { mode: 'v2-required' }, metadataFiles: false }],
  ['imdsv1', { imds: { mode: 'v1' }, metadataFiles: false }],
];

async function metrics(agent: TestAgent): Promise<string> {
  return (await fetch(`${agent.apiUrl}/metrics`)).text();
}

/** A trace that never came, with what the app printed and what the agent counted and holds. */
async function explained(e: unknown, running: RunningApp, agent: TestAgent, service: string): Promise<TraceNeverCame> {
  const counted = (await metrics(agent)).split('\n').filter((l) => /^ecs_trace_(receiver_(payloads|traces|spans|payload)|normalizer_traces|sampler|store_spans|filter)/.test(l)).join('\n');
  return new TraceNeverCame(`${(e as Error).message}; the app said:\n${running.stderr().slice(-4000)}\nthe agent counted:\n${counted}\nand holds for ${service}:\n${await recentTraces(agent, service)}`);
}

/** The service's traces the agent holds, newest first, one line each: for a failure's message. */
async function recentTraces(agent: TestAgent, service: string): Promise<string> {
  const res = await fetch(`${agent.apiUrl}/api/v1/traces?service=${service}&start=${Date.now() - 600_000}&limit=20`);
  return res.ok ? JSON.stringify(await res.json()) : `status ${res.status}`;
}

const langs = (Object.keys(LANGUAGES) as Lang[]).filter((l) => componentsAvailable(appMissing(l), `${l} tracer e2e tests`));
// With no app built, the file still says what it would test and how to enable it (a file with no
// test at all is a failure to vitest).
if (langs.length === 0) it.skip('the real Python, Java and Go tracers: none is built (bash e2e/apps/prepare.sh python java go)', () => undefined);

describe.each(langs)('the real %s tracer', (lang) => {
  const app = LANGUAGES[lang];
  const service = `${lang}-web`;
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ DD_BIND_HOST: HOST_IP }); });
  afterAll(async () => { await agent?.close(); });

  it.each(sources)('started by ecs-trace run, host found by %s: its traces come back whole', (source, simOptions) => twice(async () => {
    const sim = await startSimulator({ localIpv4: HOST_IP, ...simOptions });
    try {
      const env = { ...sim.containerEnv('checkout/web'), ...app.env, DD_SERVICE: service, DD_ENV: 'e2e', DD_VERSION: '1.0.0', DD_TRACE_AGENT_PORT: String(agent.receiver!.port) };
      const running = await startApp([process.execPath, BIN, 'run', '--json', '--', ...app.argv], env);
      const ok = randomId();
      const failed = randomId();
      const upstream = randomId();
      let trace: ApiTrace;
      let bad: ApiTrace;
      try {
        expect(running.resolution).toMatchObject({ source, host: HOST_IP });
        expect(await tracedRequest(`http://127.0.0.1:${running.port}/work`, ok.id, upstream.id)).toBe(200);
        expect(await tracedRequest(`http://127.0.0.1:${running.port}/work?fail=1`, failed.id, upstream.id)).toBe(500);
        // Sent on the tracer's own schedule, while the app runs; on a loaded machine that schedule
        // can slip past the wait, and stopping the app flushes what its tracer still holds.
        try {
          trace = await waitForTrace<ApiTrace>(agent.apiUrl, ok.hex, app.manualSpan ? 2 : 1, 30_000);
          bad = await waitForTrace<ApiTrace>(agent.apiUrl, failed.hex, 1, 10_000);
        } catch {
          await running.stop();
          try {
            trace = await waitForTrace<ApiTrace>(agent.apiUrl, ok.hex, app.manualSpan ? 2 : 1, 20_000);
            bad = await waitForTrace<ApiTrace>(agent.apiUrl, failed.hex, 1, 10_000);
          } catch (e) {
            throw await explained(e, running, agent, service);
          }
        }
      } finally {
        await running.stop();
      }
      const server = trace.spans.find((s) => s.name === app.serverSpan)!;
      expect(server).toMatchObject({ traceId: ok.hex.padStart(32, '0'), parentId: upstream.hex, service, resource: 'GET /work', error: 0, env: 'e2e' });
      expect(server.meta).toMatchObject({ 'http.method': 'GET', 'http.status_code': '200', 'span.kind': 'server' });
      expect(server.metrics['_sampling_priority_v1']).toBe(1);
      if (app.manualSpan) {
        const manual = trace.spans.find((s) => s.name === 'work.compute')!;
        expect(manual).toMatchObject({ service, resource: 'compute', error: 0 });
        expect(manual.meta['custom.tag']).toBe(lang);
        expect(manual.metrics['custom.metric']).toBe(42);
        // Its parent is the server span, or a span under it (Python's wsgi.application).
        const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
        let up = byId.get(manual.parentId);
        while (up && up !== server) up = byId.get(up.parentId);
        expect(up).toBe(server);
      }
      expect(bad.spans.find((s) => s.name === app.serverSpan)).toMatchObject({ error: 1, meta: expect.objectContaining({ 'http.status_code': '500' }) });
      expect(bad.summary.errorCount).toBeGreaterThanOrEqual(1);
      expect(await metrics(agent)).toMatch(new RegExp(`ecs_trace_receiver_payloads_total\\{endpoint="${app.defaultEndpoint}",lang="${app.metaLang}",tracer_version="${app.tracerVersion.replace(/\./g, '\\.')}[^"]*"\\} [1-9]`));
    } finally {
      await sim.close();
    }
  }), 240_000);

  it.each(app.otherEndpoints)('sends to %s when set to', (endpoint, versionEnv) => twice(async () => {
    const running = await startApp(app.argv, { ...app.env, ...versionEnv, DD_SERVICE: `${service}-alt`, DD_AGENT_HOST: HOST_IP, DD_TRACE_AGENT_PORT: String(agent.receiver!.port) });
    const t = randomId();
    let trace: ApiTrace;
    try {
      expect(await tracedRequest(`http://127.0.0.1:${running.port}/work`, t.id, 7n)).toBe(200);
      try {
        trace = await waitForTrace<ApiTrace>(agent.apiUrl, t.hex, 1, 30_000);
      } catch {
        // As above: stopping the app flushes what its tracer still holds.
        await running.stop();
        try {
          trace = await waitForTrace<ApiTrace>(agent.apiUrl, t.hex, 1, 20_000);
        } catch (e) {
          throw await explained(e, running, agent, `${service}-alt`);
        }
      }
    } finally {
      await running.stop();
    }
    expect(trace.spans.find((s) => s.name === app.serverSpan)).toMatchObject({ service: `${service}-alt`, parentId: '0000000000000007' });
    expect(await metrics(agent)).toMatch(new RegExp(`ecs_trace_receiver_payloads_total\\{endpoint="${endpoint}",lang="${app.metaLang}",[^}]*\\} [1-9]`));
  }), 120_000);

  it('computes stats itself and sends them to /v0.6/stats, which the agent keeps and serves', async () => {
    const statsService = `${service}-stats`;
    const running = await startApp(app.argv, { ...app.env, ...app.statsEnv, DD_SERVICE: statsService, DD_AGENT_HOST: HOST_IP, DD_TRACE_AGENT_PORT: String(agent.receiver!.port) });
    try {
      for (let i = 0; i < 4; i++) {
        const t = randomId();
        expect(await tracedRequest(`http://127.0.0.1:${running.port}/work`, t.id, 9n)).toBe(200);
      }
      // Tracers flush their stats buckets every 10 s; stopping flushes what is left.
      let hits = 0;
      for (let i = 0; i < 300 && hits < 4; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const body = (await (await fetch(`${agent.apiUrl}/api/v1/stats?service=${statsService}&groupBy=name&start=${Date.now() - 600_000}`)).json()) as { groups: { key: string; hits: number }[] };
        hits = body.groups.find((g) => g.key === app.serverSpan)?.hits ?? 0;
      }
      expect(hits).toBe(4);
      expect(await metrics(agent)).toMatch(new RegExp(`ecs_trace_receiver_stats_payloads_total\\{lang="${app.metaLang}",[^}]*\\} [1-9]`));
    } finally {
      await running.stop();
    }
  }, 60_000);

  it("sends over the agent's Unix socket (DD_TRACE_AGENT_URL=unix://...), which needs nothing in the app's image", () => twice(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-uds-'));
    const socketAgent = await startTestAgent({ DD_APM_RECEIVER_SOCKET: join(dir, 'apm.socket'), DD_BIND_HOST: HOST_IP });
    const running = await startApp(app.argv, { ...app.env, DD_SERVICE: `${service}-uds`, DD_TRACE_AGENT_URL: `unix://${join(dir, 'apm.socket')}` });
    try {
      const t = randomId();
      expect(await tracedRequest(`http://127.0.0.1:${running.port}/work`, t.id, 7n)).toBe(200);
      let trace: ApiTrace;
      try {
        trace = await waitForTrace<ApiTrace>(socketAgent.apiUrl, t.hex, 1, 30_000);
      } catch {
        await running.stop();
        trace = await waitForTrace<ApiTrace>(socketAgent.apiUrl, t.hex, 1, 20_000);
      }
      expect(trace.spans.find((s) => s.name === app.serverSpan)).toMatchObject({ service: `${service}-uds`, parentId: '0000000000000007' });
    } finally {
      await running.stop();
      await socketAgent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }), 120_000);

  it("groups its errors by the stack it records: one bug is one group whatever the customer, the same error from another function another", async () => {
    const errorsService = `${service}-errors`;
    const running = await startApp(app.argv, { ...app.env, DD_SERVICE: errorsService, DD_AGENT_HOST: HOST_IP, DD_TRACE_AGENT_PORT: String(agent.receiver!.port) });
    type Group = { errorType: string; message: string; count: number; sampleTraceIds: string[] };
    let groups: Group[] = [];
    const read = async () => {
      groups = ((await (await fetch(`${agent.apiUrl}/api/v1/errors?service=${errorsService}&start=${Date.now() - 600_000}`)).json()) as { groups: Group[] }).groups;
      return groups.reduce((n, g) => n + g.count, 0);
    };
    try {
      for (const path of ['raise=c135', 'raise=c9876', 'raise=c42&in=refund']) expect(await tracedRequest(`http://127.0.0.1:${running.port}/work?${path}`, randomId().id, 9n)).toBe(500);
      for (let i = 0; i < 300 && (await read()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
      if (groups.reduce((n, g) => n + g.count, 0) < 3) {
        // Stopping the app flushes what its tracer still holds.
        await running.stop();
        for (let i = 0; i < 100 && (await read()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await running.stop();
    }
    // Without the stack's frames the three would be one group (same type, same message but for the id).
    expect(groups.map((g) => [g.errorType, g.message, g.count])).toEqual([[app.errorType, 'card declined for customer ?', 2], [app.errorType, 'card declined for customer ?', 1]]);
    const sample = (await (await fetch(`${agent.apiUrl}/api/v1/traces/${groups[0]!.sampleTraceIds[0]}`)).json()) as ApiTrace;
    // Go's tracer records where the error was handled (error.handling_stack) rather than raised.
    const raised = sample.spans.find((s) => s.meta['error.stack'] ?? s.meta['error.handling_stack'])!;
    expect(raised.meta['error.stack'] ?? raised.meta['error.handling_stack']).toMatch(/charge/i);
  }, 60_000);
});
