import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '@ecs-trace/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { appMissing, LANGUAGES, randomId, startApp, tracedRequest, type RunningApp } from './languages.js';
import { inFakeContainer, requireMountNamespaces } from './netns.js';
import { waitForTrace } from './traces.js';

/*
 * One trace across four languages, as on an ECS host: Python (ddtrace) calls Java
 * (dd-java-agent) calls Go (dd-trace-go) calls Node (dd-trace), each a container of its own
 * simulated task, each started by `ecs-trace run` (the metadata file gives it the host's IP) inside
 * a mount namespace whose /proc/self/cgroup names its container, where every tracer reads the
 * container id it sends. The trace comes back whole, and each span carries its own task's tags.
 */

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const NODE_APP = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));
const HOST_IP = '127.0.0.3';

interface ApiSpan { spanId: string; parentId: string; service: string; name: string; meta: Record<string, string> }
interface ApiTrace { summary: { services: string[]; incomplete: boolean; rootService: string }; spans: ApiSpan[] }

const TASKS = [
  { family: 'storefront', revision: 4, containers: [{ name: 'web', image: 'ecs-trace/storefront-python:1.0.0' }] },
  { family: 'payments', revision: 9, containers: [{ name: 'api', image: 'ecs-trace/payments-java:2.1.0' }] },
  { family: 'inventory', revision: 2, containers: [{ name: 'api', image: 'ecs-trace/inventory-go:0.9.1' }] },
  { family: 'pricing', revision: 5, containers: [{ name: 'api', image: 'ecs-trace/pricing-node:3.3.0' }] },
];

const ready = (['python', 'java', 'go'] as const).every((l) => componentsAvailable(appMissing(l), 'the four-language e2e test')) && requireMountNamespaces();

describe.skipIf(!ready)('one trace through Python, Java, Go and Node on a simulated ECS host', () => {
  let sim: Simulator;
  let agent: TestAgent;
  let dir: string;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecs-trace-4lang-'));
    sim = await startSimulator({ localIpv4: HOST_IP, imds: { mode: 'off' }, tasks: TASKS });
    agent = await startTestAgent({ DD_BIND_HOST: HOST_IP, DD_ECS_AGENT_URL: sim.ecsAgent.url });
    for (let i = 0; i < 100; i++) {
      if ((await (await fetch(`${agent.apiUrl}/metrics`)).text()).includes('ecs_trace_ecs_tasks_known 4')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await agent?.close();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `ecs-trace run -- <the app, inside its container>`, with what ECS gives that container. */
  async function start(family: string, argv: string[], env: Record<string, string>): Promise<RunningApp> {
    const task = sim.world.tasks.find((t) => t.family === family)!;
    const container = task.containers[0]!;
    const [cmd, args] = inFakeContainer(container.dockerId, join(dir, `cgroup-${family}`), argv[0]!, argv.slice(1));
    const app = await startApp([process.execPath, BIN, 'run', '--json', '--', cmd, ...args], {
      ...sim.containerEnv(`${family}/${container.name}`), ...env, DD_SERVICE: family, DD_ENV: 'e2e', DD_TRACE_AGENT_PORT: String(agent.receiver!.port),
    });
    apps.push(app);
    expect(app.resolution).toMatchObject({ source: 'metadata-file', host: HOST_IP });
    return app;
  }

  it('comes back whole, parent to child across the four, each span tagged with its task', async () => {
    const node = await start('pricing', [process.execPath, NODE_APP], { APP_SERVICE: 'pricing' });
    const go = await start('inventory', LANGUAGES.go.argv, { ...LANGUAGES.go.env, DOWNSTREAM: `http://127.0.0.1:${node.port}/leaf` });
    const java = await start('payments', LANGUAGES.java.argv, { ...LANGUAGES.java.env, DOWNSTREAM: `http://127.0.0.1:${go.port}/work` });
    const python = await start('storefront', LANGUAGES.python.argv, { ...LANGUAGES.python.env, DOWNSTREAM: `http://127.0.0.1:${java.port}/work` });

    // A request with a trace id but no parent: Python's server span is the root.
    const t = randomId();
    expect(await tracedRequest(`http://127.0.0.1:${python.port}/work`, t.id, 0n)).toBe(200);
    let trace = await waitForTrace<ApiTrace>(agent.apiUrl, t.hex, 10, 30_000);
    for (let i = 0; i < 100 && trace.summary.services.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 200));
      trace = await waitForTrace<ApiTrace>(agent.apiUrl, t.hex, 10);
    }
    expect([...trace.summary.services].sort()).toEqual(['inventory', 'payments', 'pricing', 'storefront']);
    expect(trace.summary).toMatchObject({ rootService: 'storefront', incomplete: false });

    // Each service's server span hangs under a span of the service that called it.
    const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
    const serverOf = (service: string, name: string) => trace.spans.find((s) => s.service === service && s.name === name)!;
    const callerOf = (s: ApiSpan) => byId.get(s.parentId)?.service;
    expect(callerOf(serverOf('payments', LANGUAGES.java.serverSpan))).toBe('storefront');
    expect(callerOf(serverOf('inventory', LANGUAGES.go.serverSpan))).toBe('payments');
    expect(callerOf(serverOf('pricing', 'web.request'))).toBe('inventory');
    // Every span but the root has its parent in the trace.
    expect(trace.spans.filter((s) => !byId.has(s.parentId)).map((s) => s.name)).toEqual([LANGUAGES.python.serverSpan]);

    for (const s of trace.spans) {
      const task = sim.world.tasks.find((x) => x.family === s.service)!;
      expect({ service: s.service, span: s.name, tags: s.meta }).toMatchObject({
        service: s.service, span: s.name,
        tags: expect.objectContaining({ task_family: task.family, task_arn: task.arn, ecs_container_name: task.containers[0]!.name, container_id: task.containers[0]!.dockerId, ecs_cluster_name: 'ecs-trace-sim' }),
      });
    }
  }, 120_000);
});
