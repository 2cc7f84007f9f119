import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awslogsStream, startSimulator, type Simulator } from '@ecs-trace/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { waitForTrace } from './traces.js';
import { inFakeContainer, requireMountNamespaces } from './netns.js';

/*
 * The simulator runs two tasks; apps using the real dd-trace run "inside" a container of each
 * (a mount namespace whose /proc/self/cgroup names the container, which is where dd-trace reads
 * its Datadog-Container-ID), and their spans come back tagged with that container's task.
 */

const APP = fileURLToPath(new URL('./apps/dd-trace-app.cjs', import.meta.url));

function runApp(dockerId: string, cgroupFile: string, env: Record<string, string>): Promise<{ traceId: string }> {
  const [cmd, args] = inFakeContainer(dockerId, cgroupFile, process.execPath, [APP]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as { traceId: string }) : reject(new Error(`app exited ${code}: ${err}`))));
  });
}

interface ApiSpan { name: string; meta: Record<string, string> }

describe.skipIf(!requireMountNamespaces())('ECS task tags on spans from the real dd-trace', () => {
  let sim: Simulator;
  let agent: TestAgent;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecs-trace-cgroup-'));
    // The host's Docker socket, mounted into the agent as the Datadog Agent's task definition mounts it.
    sim = await startSimulator({ metadataFiles: false, dockerSocket: join(dir, 'docker.sock') });
    agent = await startTestAgent({ DD_ECS_AGENT_URL: sim.ecsAgent.url, ECS_CONTAINER_METADATA_URI_V4: sim.containerEnv('web')['ECS_CONTAINER_METADATA_URI_V4']!, DOCKER_HOST: `unix://${sim.docker!.socket}` });
    // The agent lists the tasks at start-up; wait for it, as an operator would watch /metrics.
    for (let i = 0; i < 100; i++) {
      if ((await (await fetch(`${agent.apiUrl}/metrics`)).text()).includes('ecs_trace_ecs_tasks_known 2')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    await agent?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['checkout/web', 0, 0],
    ['billing/worker', 1, 1],
  ])('spans from %s carry that task\'s tags', async (_name, taskIndex, containerIndex) => {
    const task = sim.world.tasks[taskIndex]!;
    const container = task.containers[containerIndex]!;
    const app = await runApp(container.dockerId, join(dir, `cgroup-${taskIndex}`), { DD_TRACE_AGENT_URL: agent.intake });
    const { spans } = await waitForTrace<{ spans: ApiSpan[] }>(agent.apiUrl, app.traceId, 6);
    for (const s of spans) {
      expect(s.meta).toMatchObject({
        ecs_cluster_name: 'ecs-trace-sim',
        task_arn: task.arn,
        task_family: task.family,
        task_version: task.revision,
        ecs_container_name: container.name,
        container_id: container.dockerId,
        image_tag: container.image.split(':').pop(),
        availability_zone: 'us-east-1a',
      });
    }
    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/ecs_trace_ecs_tag_lookups_total\{result="hit"\} [1-9]/);
    // Where the container logs, read from Docker (ECS's introspection API does not say), on the chunk's root.
    const root = spans.find((s) => s.name === 'e2e.root')!;
    expect(root.meta).toMatchObject({ awslogs_group: `/ecs/${task.family}`, awslogs_region: 'us-east-1', awslogs_stream: awslogsStream(task, container) });
  });
});
