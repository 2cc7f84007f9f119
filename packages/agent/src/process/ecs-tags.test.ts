import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { startSimulator, type Simulator } from '@ecs-trace/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { EcsTagger, splitImage } from './ecs-tags.js';
import { createLogger } from '../runtime/index.js';

const log = createLogger('off');
let sim: Simulator | undefined;
let server: Server | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  if (server) await new Promise<void>((r) => { server!.close(() => r()); server!.closeAllConnections(); });
  server = undefined;
});

describe('splitImage', () => {
  it.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout:1.4.2', '123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout', '1.4.2'],
    ['localhost:5000/app', 'localhost:5000/app', 'latest'],
    ['nginx', 'nginx', 'latest'],
    ['nginx@sha256:abc', 'nginx', ''],
    ['repo/app:2@sha256:abc', 'repo/app', '2'],
  ])('%s', (image, name, tag) => {
    expect(splitImage(image)).toEqual({ name, tag });
  });
});

describe('EcsTagger', () => {
  it('tags a container of each task with its task, container, image, cluster and zone', async () => {
    sim = await startSimulator({ metadataFiles: false });
    const web = sim.world.tasks[0]!.containers[0]!;
    const worker = sim.world.tasks[1]!.containers[1]!;
    const tagger = new EcsTagger({ agentUrl: sim.ecsAgent.url, taskMetadataUrl: sim.containerEnv('web')['ECS_CONTAINER_METADATA_URI_V4'], log });
    await tagger.refresh();
    expect(tagger.lookup(web.dockerId)).toEqual({
      ecs_cluster_name: 'ecs-trace-sim',
      task_arn: sim.world.tasks[0]!.arn,
      task_family: 'checkout',
      task_version: '7',
      ecs_container_name: 'web',
      container_id: web.dockerId,
      image_name: '123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout',
      image_tag: '1.4.2',
      availability_zone: 'us-east-1a',
    });
    expect(tagger.lookup(worker.dockerId)).toMatchObject({ task_family: 'billing', task_version: '3', ecs_container_name: 'worker' });
    expect(tagger.stats.tasks).toBe(2);
  });

  it("on Fargate, knows where each container logs (awslogs group, region and stream) from task metadata; on EC2 introspection does not say", async () => {
    sim = await startSimulator({ metadataFiles: false, launchType: 'FARGATE', tasks: [{ family: 'shop', containers: [{ name: 'web', image: 'shop:1' }, { name: 'side', image: 'side:1', awslogs: null }] }] });
    const [web, side] = sim.world.tasks[0]!.containers;
    const tagger = new EcsTagger({ taskMetadataUrl: sim.containerEnv('web')['ECS_CONTAINER_METADATA_URI_V4'], log });
    await tagger.refresh();
    expect(tagger.logsOf(web!.dockerId)).toEqual({ awslogs_group: '/ecs/shop', awslogs_region: 'us-east-1', awslogs_stream: `ecs/web/${sim.world.tasks[0]!.arn.split('/').pop()}` });
    expect(tagger.logsOf(side!.dockerId)).toBeUndefined();
    await sim.close();
    sim = await startSimulator({ metadataFiles: false });
    const ec2 = new EcsTagger({ agentUrl: sim.ecsAgent.url, log });
    await ec2.refresh();
    expect(ec2.logsOf(sim.world.tasks[0]!.containers[0]!.dockerId)).toBeUndefined();
  });

  it("on EC2, reads each container's awslogs settings once through the Docker socket, as the Datadog Agent does", async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'ecs-trace-docker-')), 'docker.sock');
    sim = await startSimulator({ metadataFiles: false, dockerSocket: socket, tasks: [{ family: 'shop', containers: [{ name: 'web', image: 'shop:1' }, { name: 'side', image: 'side:1', awslogs: null }] }] });
    const [web, side] = sim.world.tasks[0]!.containers;
    let now = 0;
    const tagger = new EcsTagger({ agentUrl: sim.ecsAgent.url, dockerSocket: socket, log, now: () => now });
    await tagger.refresh();
    expect(tagger.logsOf(web!.dockerId)).toEqual({ awslogs_group: '/ecs/shop', awslogs_region: 'us-east-1', awslogs_stream: `ecs/web/${sim.world.tasks[0]!.arn.split('/').pop()}` });
    expect(tagger.logsOf(side!.dockerId)).toBeUndefined();
    expect(sim.docker!.requests.filter((r) => r.startsWith('/containers/')).sort()).toEqual([`/containers/${side!.dockerId}/json`, `/containers/${web!.dockerId}/json`].sort());
    // A container's log configuration never changes: not asked again at the next refresh.
    now += 61_000;
    await tagger.refresh();
    expect(sim.docker!.requests.filter((r) => r.startsWith('/containers/'))).toHaveLength(2);
    expect(tagger.logsOf(web!.dockerId)).toMatchObject({ awslogs_group: '/ecs/shop' });
  });

  it('a Docker socket that does not answer leaves spans tagged, without a logs link, and is said', async () => {
    sim = await startSimulator({ metadataFiles: false });
    const warned: string[] = [];
    const said = pino({ level: 'warn' }, { write: (line: string) => { warned.push((JSON.parse(line) as { msg: string }).msg); } });
    const tagger = new EcsTagger({ agentUrl: sim.ecsAgent.url, dockerSocket: join(tmpdir(), 'ecs-trace-no-such.sock'), log: said });
    await tagger.refresh();
    const web = sim.world.tasks[0]!.containers[0]!;
    expect(tagger.lookup(web.dockerId)).toMatchObject({ ecs_container_name: 'web' });
    expect(tagger.logsOf(web.dockerId)).toBeUndefined();
    expect(warned).toEqual(['cannot inspect containers through Docker: their spans have no logs link']);
  });

  it('answers an unknown container at once, caches the miss, and refreshes at most once a second', async () => {
    sim = await startSimulator({ metadataFiles: false });
    let now = 0;
    const tagger = new EcsTagger({ agentUrl: sim.ecsAgent.url, log, now: () => now });
    expect(tagger.lookup('f'.repeat(64))).toBeUndefined();
    await tagger.refresh();
    expect(tagger.stats.refreshes).toBe(1);
    for (let i = 0; i < 100; i++) expect(tagger.lookup('f'.repeat(64))).toBeUndefined();
    await tagger.refresh();
    expect(tagger.stats.refreshes).toBe(1);
    now += 31_000; // past the miss TTL: asked again
    tagger.lookup('f'.repeat(64));
    await tagger.refresh();
    expect(tagger.stats.refreshes).toBe(2);
  });

  it('never waits for an ECS agent that does not answer', async () => {
    // Accepts and never answers.
    server = createServer(() => {});
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const errors: unknown[] = [];
    const tagger = new EcsTagger({ agentUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log, timeoutMs: 200, onRefresh: (r) => errors.push(r) });
    expect(tagger.lookup('a'.repeat(64))).toBeUndefined();
    // The lookup has answered while the ECS agent has not: the refresh it started is still pending.
    expect(errors).toHaveLength(0);
    await tagger.refresh();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/abort|timeout/i);
  });
});
