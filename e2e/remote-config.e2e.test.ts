import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import type { ApiInstances, ApiRemoteConfig, ApiTrace, ApiTraces } from '@ecs-trace/agent/api-types';
import { componentsAvailable } from './components.js';
import { appMissing, LANGUAGES, startApp, type RunningApp } from './languages.js';

/*
 * What the real tracers tell the agent about themselves, and what the agent tells them back:
 * dd-trace (Node), ddtrace (Python), dd-java-agent and dd-trace-go post their telemetry (each
 * service's instances: tracer, runtime, dependencies) and poll /v0.7/config; a sample rate set
 * through the API is applied by each running tracer (its next traces carry `_dd.rule_psr` at that
 * rate, its sampling decision made by a rule) and reported applied, without a restart; removed,
 * the tracer goes back to its own.
 */

const NODE_APP = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));

interface Case { lang: 'node' | 'python' | 'java' | 'go'; argv: string[]; env: Record<string, string>; path: string; language: string }

const CASES: Case[] = [
  { lang: 'node', argv: [process.execPath, NODE_APP], env: {}, path: '/leaf', language: 'node' },
  ...(['python', 'java', 'go'] as const).filter((l) => componentsAvailable(appMissing(l), `the remote-config e2e test (${l})`))
    .map((l): Case => ({ lang: l, argv: LANGUAGES[l].argv, env: LANGUAGES[l].env, path: '/work', language: l })),
];

/** What each tracer's telemetry calls its language. */
const TELEMETRY_LANGUAGE = { node: 'nodejs', python: 'python', java: 'jvm', go: 'go' } as const;
/** A library each app runs on, as its tracer names it among its dependencies (with a version): the inventory's question. */
const DEPENDENCY = { node: /^(dd-trace|pino|msgpackr)$/, python: /^(ddtrace|wrapt|bytecode)$/, java: /jetty/, go: /^github\.com\/DataDog\/dd-trace-go/ } as const;
const DD_TRACE_VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../node_modules/dd-trace/package.json', import.meta.url)), 'utf8')) as { version: string }).version;

describe('the real tracers: their telemetry, and remote configuration applied', () => {
  let agent: TestAgent;
  const apps: RunningApp[] = [];

  beforeAll(async () => { agent = await startTestAgent(); }, 30_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await agent?.close();
  });

  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const r = await fetch(`${agent.apiUrl}${path}`, init);
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };

  async function until<T>(what: () => Promise<T | undefined>, timeoutMs: number, said: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await what();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out: ${said}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The root spans of the service's traces stored since `since` (ms). */
  async function roots(service: string, since: number): Promise<ApiTrace['spans']> {
    const { traces } = await api<ApiTraces>(`/api/v1/traces?service=${service}&start=${since}&limit=200`);
    const out: ApiTrace['spans'] = [];
    for (const t of traces) {
      const trace = await api<ApiTrace>(`/api/v1/traces/${t.traceId}`);
      const root = trace.spans.find((s) => s.parentId === '0000000000000000');
      if (root) out.push(root);
    }
    return out;
  }

  const started = new Map<string, RunningApp>();
  /** The case's app, started once for both tests (Java takes seconds to start). */
  async function appOf({ lang, argv, env }: Case): Promise<RunningApp> {
    const had = started.get(lang);
    if (had) return had;
    const service = `rc-${lang}`;
    const app = await startApp(argv, {
      ...env, DD_SERVICE: service, APP_SERVICE: service, DD_ENV: 'e2e', DD_VERSION: '1.0.0',
      DD_TRACE_AGENT_URL: agent.intake, DD_TRACE_AGENT_PORT: String(agent.receiver!.port), DD_AGENT_HOST: '127.0.0.1',
      DD_REMOTE_CONFIG_POLL_INTERVAL_SECONDS: '1', DD_TELEMETRY_HEARTBEAT_INTERVAL: '1',
    });
    apps.push(app);
    started.set(lang, app);
    return app;
  }

  it.each(CASES)("$lang: its telemetry shows the service's instance: tracer, language version, host, configuration and dependencies", async (c) => {
    const service = `rc-${c.lang}`;
    const app = await appOf(c);
    await (await fetch(`http://127.0.0.1:${app.port}${c.path}`)).arrayBuffer();
    const inst = await until(async () => {
      const { instances } = await api<ApiInstances>(`/api/v1/services/${service}/instances`);
      // Dependencies come as the app loads them, in batches: until the one looked for.
      return instances.find((i) => i.dependencies.some((d) => DEPENDENCY[c.lang].test(d.name) && d.version !== ''));
    }, 60_000, `${service}'s telemetry never listed the dependency it runs on`);
    const tracerVersion = c.lang === 'node' ? DD_TRACE_VERSION : LANGUAGES[c.lang].tracerVersion.replace(/^v/, '');
    expect(inst).toMatchObject({ service, env: 'e2e', version: '1.0.0', language: TELEMETRY_LANGUAGE[c.lang] });
    expect(inst.tracerVersion.replace(/^v/, '')).toMatch(new RegExp(`^${tracerVersion.replace(/\./g, '\\.')}`));
    expect(inst.hostname).not.toBe('');
    expect(inst.languageVersion).toMatch(/\d/);
    expect(inst.configuration.length).toBeGreaterThan(10);
    expect(inst.dependencies.filter((d) => d.name === '')).toEqual([]);
  }, 90_000);

  it.each(CASES)('$lang: applies a sample rate set through the API with no restart, reports it applied, and drops it when removed', async (c) => {
    const { lang, path, language } = c;
    const service = `rc-${lang}`;
    const app = await appOf(c);
    const get = async () => { const r = await fetch(`http://127.0.0.1:${app.port}${path}`); await r.arrayBuffer(); };

    // The tracer polls: the agent lists it, with what it can take.
    await get();
    const client = await until(async () => (await api<ApiRemoteConfig>(`/api/v1/remote-config?service=${service}`)).clients[0], 30_000, `${service} never polled /v0.7/config`);
    expect(client).toMatchObject({ service, env: 'e2e', language });
    expect(client.supports.sampleRate).toBe(true);

    // Before: no rule decided the sampling.
    const before = Date.now();
    for (let i = 0; i < 5; i++) await get();
    const first = await until(async () => { const r = await roots(service, before); return r.length > 0 ? r : undefined; }, 20_000, `no trace of ${service}`);
    expect(first.every((s) => s.metrics['_dd.rule_psr'] === undefined)).toBe(true);

    // Set: applied at the tracer's next poll, and reported so.
    const saved = await api<{ id: string; version: number }>('/api/v1/remote-config', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ service, env: 'e2e', sampleRate: 0.5 }) });
    await until(async () => {
      const c = (await api<ApiRemoteConfig>(`/api/v1/remote-config?service=${service}`)).clients.find((x) => x.runtimeId === client.runtimeId);
      return c?.configStates.some((s) => s.id === saved.id && s.version === saved.version && s.applyState === 2) ? c : undefined;
    }, 30_000, `${service} never reported the settings applied`);

    // Its next traces were sampled at that rate, by the rule it was sent.
    const after = Date.now();
    for (let i = 0; i < 30; i++) await get();
    const next = await until(async () => { const r = await roots(service, after); return r.length >= 3 ? r : undefined; }, 20_000, `no trace of ${service} after the change`);
    for (const root of next) expect([root.name, root.metrics['_dd.rule_psr']]).toEqual([root.name, 0.5]);

    // Removed: the tracer drops the settings at its next poll and goes back to its own sampling.
    expect((await fetch(`${agent.apiUrl}/api/v1/remote-config/${saved.id}`, { method: 'DELETE' })).status).toBe(204);
    await until(async () => {
      const c = (await api<ApiRemoteConfig>(`/api/v1/remote-config?service=${service}`)).clients.find((x) => x.runtimeId === client.runtimeId);
      return c && c.lastSeen > Date.now() - 1500 && !c.configStates.some((s) => s.id === saved.id) ? c : undefined;
    }, 30_000, `${service} never dropped the removed settings`);
    const reverted = Date.now();
    for (let i = 0; i < 10; i++) await get();
    const last = await until(async () => { const r = await roots(service, reverted); return r.length >= 3 ? r : undefined; }, 20_000, `no trace of ${service} after the removal`);
    expect(last.filter((s) => s.metrics['_dd.rule_psr'] !== undefined)).toEqual([]);
    expect(app.child.exitCode).toBeNull();
  }, 120_000);
});
