import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awslogsStream, startSimulator, type Simulator } from '@ecs-trace/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { appMissing, LANGUAGES, randomId, startApp, tracedRequest } from './languages.js';
import { inFakeContainer, requireMountNamespaces } from './netns.js';
import { twice, waitForTrace } from './traces.js';
import { awslogsOf, cloudWatchLogsHref } from '../packages/ui/src/log-links.js';
import { readInsightsLink } from '../packages/ui/src/log-links.testing.js';
import type { ApiSpan } from '@ecs-trace/agent/api-types';

/*
 * ECS on Fargate: the agent is a sidecar in the app's task (one network namespace: apps send to
 * localhost), it knows it is on Fargate from AWS_EXECUTION_ENV and takes its ECS tags from task
 * metadata v4 (there is no ECS agent to introspect), and discovery answers localhost without
 * trying IMDS (there is none). The simulator plays the Fargate task; the real dd-trace and
 * ddtrace run in its containers, whose cgroup paths are Fargate's `/ecs/<task>/<task>-<digits>`.
 */

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const NODE_APP = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));

const TASK = {
  family: 'storefront', revision: 12,
  containers: [
    { name: 'web', image: 'ecs-trace/storefront-node:4.0.0' },
    { name: 'api', image: 'ecs-trace/storefront-python:4.0.0' },
    { name: 'datadog-agent', image: 'ecs-trace/agent:0.2.0' },
  ],
};

interface ApiTrace { spans: { service: string; meta: Record<string, string> }[] }

const ready = requireMountNamespaces() && componentsAvailable(appMissing('python'), 'the Fargate e2e tests');

describe.skipIf(!ready)('ECS Fargate: the agent as a sidecar in the app\'s task', () => {
  let sim: Simulator;
  let agent: TestAgent;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecs-trace-fargate-'));
    sim = await startSimulator({ launchType: 'FARGATE', tasks: [TASK] });
    // The agent container's own environment, as Fargate gives it; DD_ECS_AGENT_URL unset.
    agent = await startTestAgent({ ...sim.containerEnv('datadog-agent') });
  });
  afterAll(async () => {
    await agent?.close();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['dd-trace (Node)', 'web', [process.execPath, NODE_APP], '/leaf'],
    ['ddtrace (Python)', 'api', LANGUAGES.python.argv, '/work'],
  ] as const)('the real %s, started by ecs-trace run, finds the sidecar on localhost and its spans carry the task', (_label, name, argv, path) => twice(async () => {
    const task = sim.world.tasks[0]!;
    const container = task.containers.find((c) => c.name === name)!;
    const taskId = task.arn.split('/').pop()!;
    const [cmd, args] = inFakeContainer(container.dockerId, join(dir, `cgroup-${name}`), argv[0]!, argv.slice(1), `/ecs/${taskId}/${container.dockerId}`);
    const app = await startApp([process.execPath, BIN, 'run', '--json', '--', cmd, ...args], {
      ...sim.containerEnv(name), ...LANGUAGES.python.env, APP_SERVICE: `fargate-${name}`, DD_SERVICE: `fargate-${name}`, DD_TRACE_AGENT_PORT: String(agent.receiver!.port),
    });
    const t = randomId();
    try {
      expect(app.resolution).toMatchObject({ source: 'fargate', host: '127.0.0.1' });
      expect(await tracedRequest(`http://127.0.0.1:${app.port}${path}`, t.id, 11n)).toBe(200);
      const trace = await waitForTrace<ApiTrace>(agent.apiUrl, t.hex, 1, 30_000);
      for (const s of trace.spans) {
        expect(s.meta).toMatchObject({
          ecs_cluster_name: 'ecs-trace-sim', task_arn: task.arn, task_family: 'storefront', task_version: '12',
          ecs_container_name: name, container_id: container.dockerId, image_tag: '4.0.0', availability_zone: 'us-east-1a',
        });
      }
    } finally {
      await app.stop();
    }
  }), 120_000);

  it("links a span to its container's logs: Logs Insights on the group, region and stream task metadata gives, with a query that finds the real dd-trace's injected log line", () => twice(async () => {
    const task = sim.world.tasks[0]!;
    const container = task.containers.find((c) => c.name === 'web')!;
    const taskId = task.arn.split('/').pop()!;
    const [cmd, args] = inFakeContainer(container.dockerId, join(dir, 'cgroup-web-logs'), process.execPath, [NODE_APP], `/ecs/${taskId}/${container.dockerId}`);
    const app = await startApp([process.execPath, BIN, 'run', '--json', '--', cmd, ...args], {
      ...sim.containerEnv('web'), APP_SERVICE: 'fargate-logs', DD_SERVICE: 'fargate-logs', APP_LOG: '1', DD_LOGS_INJECTION: 'true', DD_TRACE_AGENT_PORT: String(agent.receiver!.port),
    });
    const t = randomId();
    try {
      expect(await tracedRequest(`http://127.0.0.1:${app.port}/leaf`, t.id, 11n)).toBe(200);
      const trace = await waitForTrace<ApiTrace & { spans: ApiSpan[] }>(agent.apiUrl, t.hex, 1, 30_000);
      // The agent put the container's awslogs settings, from task metadata v4, on the chunk's root.
      const withLogs = trace.spans.find((s) => s.meta['awslogs_group'] !== undefined)!;
      expect(withLogs.meta).toMatchObject({ awslogs_group: container.awslogs!.group, awslogs_region: 'us-east-1', awslogs_stream: awslogsStream(task, container) });
      // Every span of the container links there, the way the UI builds the link.
      for (const s of trace.spans) {
        const href = cloudWatchLogsHref(s, awslogsOf(s, trace.spans)!);
        expect(href.startsWith('https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights')).toBe(true);
        const link = readInsightsLink(href);
        expect(link.source).toEqual([`/ecs/storefront`]);
        expect(link.query).toContain(`| filter @logStream = 'ecs/web/${taskId}'`);
        // The query's pattern finds the line the app logged for this request, and no other request's.
        const pattern = new RegExp(/like \/(.+)\//.exec(link.query)![1]!);
        const line = app.stderr().split('\n').find((l) => l.includes('"handled"'));
        expect(line, app.stderr()).toBeDefined();
        expect(pattern.test(line!)).toBe(true);
        expect(pattern.test(line!.replace(/"trace_id":"[0-9a-f]+"/, '"trace_id":"1"'))).toBe(false);
      }
    } finally {
      await app.stop();
    }
  }), 120_000);
});
