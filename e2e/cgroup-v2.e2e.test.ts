import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '@ecs-trace/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { appMissing, LANGUAGES, randomId, startApp, tracedRequest, type Lang } from './languages.js';
import { requireMountNamespaces } from './netns.js';
import { twice, waitForTrace } from './traces.js';

/*
 * Container identity on cgroup v2 (ECS-optimized Amazon Linux 2023): the app runs in a private
 * cgroup namespace, so /proc/self/cgroup reads `0::/` and the real tracers send
 * `Datadog-Entity-ID: in-<inode>` of their /sys/fs/cgroup, the inode of their container's
 * directory in the host's hierarchy. Here that hierarchy is a directory tree in AL2023's layout,
 * given to the agent as DD_CONTAINER_CGROUP_ROOT (on ECS, the host's /sys/fs/cgroup mounted at
 * /host/sys/fs/cgroup), and the app's /sys/fs/cgroup is its container's directory, bind-mounted
 * inside `unshare --cgroup --mount`. dd-trace for Node reads a path that this machine's hybrid
 * cgroup layout does not have, so it is not among them.
 */

const HOST_IP = '127.0.0.3';
const LANGS: Lang[] = ['python', 'go'];

/** Where a tracer looks for its cgroup: the v2 mount, and on a hybrid host the memory controller's too. */
function cgroupMounts(): string[] {
  const fs = execFileSync('stat', ['-fc', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).trim();
  return fs === 'cgroup2fs' ? ['/sys/fs/cgroup'] : ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/memory'];
}

const ready = requireMountNamespaces() && LANGS.every((l) => componentsAvailable(appMissing(l), 'cgroup v2 e2e tests'));

describe.skipIf(!ready)('ECS tags for tracers that name their container by cgroup inode', () => {
  let sim: Simulator;
  let agent: TestAgent;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ecs-trace-hostcg-'));
    sim = await startSimulator({ localIpv4: HOST_IP, metadataFiles: false });
    for (const task of sim.world.tasks) {
      const taskId = task.arn.split('/').pop()!;
      for (const c of task.containers) mkdirSync(join(root, `ecstasks.slice/ecstasks-${taskId}.slice/docker-${c.dockerId}.scope`), { recursive: true });
    }
    mkdirSync(join(root, 'system.slice/ecs-agent.scope'), { recursive: true });
    agent = await startTestAgent({ DD_BIND_HOST: HOST_IP, DD_ECS_AGENT_URL: sim.ecsAgent.url, DD_CONTAINER_CGROUP_ROOT: root });
  });
  afterAll(async () => {
    await agent?.close();
    await sim?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each(LANGS)('the real %s tracer: in-<inode> resolves to its container, and its spans carry its task', (lang) => twice(async () => {
    const task = sim.world.tasks[1]!;
    const container = task.containers[0]!;
    const taskId = task.arn.split('/').pop()!;
    const dir = join(root, `ecstasks.slice/ecstasks-${taskId}.slice/docker-${container.dockerId}.scope`);
    const binds = cgroupMounts().map((m) => `mount --bind "$1" ${m}`).join(' && ');
    const app = LANGUAGES[lang];
    const running = await startApp(['unshare', '--cgroup', '--mount', 'sh', '-c', `${binds} && shift && exec "$@"`, 'sh', dir, ...app.argv], {
      ...app.env, DD_SERVICE: `cg-${lang}`, DD_AGENT_HOST: HOST_IP, DD_TRACE_AGENT_PORT: String(agent.receiver!.port),
    });
    const t = randomId();
    try {
      expect(await tracedRequest(`http://127.0.0.1:${running.port}/work`, t.id, 5n)).toBe(200);
      const trace = await waitForTrace<{ spans: { meta: Record<string, string> }[] }>(agent.apiUrl, t.hex, 1, 30_000);
      for (const s of trace.spans) {
        expect(s.meta).toMatchObject({ container_id: container.dockerId, task_arn: task.arn, task_family: task.family, ecs_container_name: container.name });
      }
    } finally {
      await running.stop();
    }
  }), 120_000);
});
