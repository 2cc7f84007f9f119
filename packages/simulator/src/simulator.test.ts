import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './simulator.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as unknown };
};

describe('ECS container metadata file', () => {
  it('is written first without MetadataFileStatus, then READY with the Docker fields', async () => {
    sim = await startSimulator({ metadataFiles: { readyAfterMs: 50 } });
    const env = sim.containerEnv('web');
    const first = readJson(env['ECS_CONTAINER_METADATA_FILE']!);
    expect(first).not.toHaveProperty('MetadataFileStatus');
    expect(first).not.toHaveProperty('ContainerID');
    expect(first).toMatchObject({ Cluster: 'ecs-trace-sim', TaskDefinitionFamily: 'checkout', TaskDefinitionRevision: '7', HostPrivateIPv4Address: '127.0.0.1' });
    await sim.metadataFiles!.ready;
    const ready = readJson(env['ECS_CONTAINER_METADATA_FILE']!);
    const web = sim.world.tasks[0]!.containers[0]!;
    expect(ready).toMatchObject({ MetadataFileStatus: 'READY', ContainerID: web.dockerId, ContainerName: 'web', DockerContainerName: `/${web.dockerName}`, ImageName: web.image });
    expect(ready['PortMappings']).toEqual([
      { ContainerPort: 3000, ContainerPortRange: '', HostPort: 32768, BindIp: '0.0.0.0', Protocol: 'tcp' },
      { ContainerPort: 3000, ContainerPortRange: '', HostPort: 32768, BindIp: '::', Protocol: 'tcp' },
    ]);
    // Tab-indented, as the ECS agent writes it.
    expect(readFileSync(env['ECS_CONTAINER_METADATA_FILE']!, 'utf8')).toContain('\n\t"Cluster"');
  });

  it('omits the host address when the ECS agent could not read it', async () => {
    sim = await startSimulator({ metadataFiles: { readyAfterMs: 0, omitHostAddress: true } });
    await sim.metadataFiles!.ready;
    expect(readJson(sim.containerEnv('web')['ECS_CONTAINER_METADATA_FILE']!)).not.toHaveProperty('HostPrivateIPv4Address');
  });

  it('gives no file to a host without ECS_ENABLE_CONTAINER_METADATA', async () => {
    sim = await startSimulator({ metadataFiles: false });
    expect(sim.containerEnv('web')).not.toHaveProperty('ECS_CONTAINER_METADATA_FILE');
  });
});

describe('task metadata v4 and introspection', () => {
  it('serves the calling container and its task, consistent with the metadata file', async () => {
    sim = await startSimulator({ metadataFiles: { readyAfterMs: 0 } });
    await sim.metadataFiles!.ready;
    const env = sim.containerEnv('billing/api');
    const file = readJson(env['ECS_CONTAINER_METADATA_FILE']!);
    const container = await getJson(env['ECS_CONTAINER_METADATA_URI_V4']!);
    expect(container.type).toBe('application/json');
    expect(container.body).toMatchObject({ DockerId: file['ContainerID'], Name: 'api', Image: file['ImageName'], Labels: { 'com.amazonaws.ecs.task-arn': file['TaskARN'], 'com.amazonaws.ecs.cluster': 'ecs-trace-sim' } });
    const task = await getJson(`${env['ECS_CONTAINER_METADATA_URI_V4']}/task`);
    expect(task.body).toMatchObject({ Cluster: 'ecs-trace-sim', TaskARN: file['TaskARN'], Family: 'billing', Revision: '3', LaunchType: 'EC2', AvailabilityZone: file['AvailabilityZone'] });
    expect((task.body as { Containers: { Name: string }[] }).Containers.map((c) => c.Name)).toEqual(['api', 'worker']);
  });

  it('answers an unknown endpoint id with 404 and a JSON string', async () => {
    sim = await startSimulator({ metadataFiles: false });
    const r = await getJson(`${sim.ecsAgent.url}/v4/not-a-container`);
    expect(r.status).toBe(404);
    expect(r.body).toMatch(/^V4 container metadata handler: unable to get container ID/);
  });

  it('lists the tasks on the instance and finds one by full or short docker id or by ARN', async () => {
    sim = await startSimulator({ metadataFiles: false });
    const base = sim.ecsAgent.url;
    expect((await getJson(`${base}/`)).body).toEqual({ AvailableCommands: ['/v1/metadata', '/v1/tasks', '/license'] });
    expect((await getJson(`${base}/v1/metadata`)).body).toMatchObject({ Cluster: 'ecs-trace-sim', ContainerInstanceArn: sim.world.containerInstanceArn });
    const all = (await getJson(`${base}/v1/tasks`)).body as { Tasks: { Arn: string; Family: string }[] };
    expect(all.Tasks.map((t) => t.Family)).toEqual(['checkout', 'billing']);
    const worker = sim.world.tasks[1]!.containers[1]!;
    expect((await getJson(`${base}/v1/tasks?dockerid=${worker.dockerId}`)).body).toMatchObject({ Arn: sim.world.tasks[1]!.arn, Family: 'billing', Version: '3' });
    expect((await getJson(`${base}/v1/tasks?dockerid=${worker.dockerId.slice(0, 12)}`)).body).toMatchObject({ Family: 'billing' });
    expect((await getJson(`${base}/v1/tasks?taskarn=${encodeURIComponent(sim.world.tasks[0]!.arn)}`)).body).toMatchObject({ Family: 'checkout' });
    expect((await getJson(`${base}/v1/tasks?dockerid=ffffffffffff`)).status).toBe(404);
    expect((await getJson(`${base}/v1/tasks?dockerid=a&taskarn=b`)).status).toBe(400);
  });

  it('names the containers it runs when asked for one it does not', async () => {
    sim = await startSimulator({ metadataFiles: false });
    expect(() => sim!.containerEnv('nope')).toThrow('no container "nope" in the simulated host; it runs checkout/web, billing/api, billing/worker');
  });
});

describe('Fargate mode', () => {
  it('is one awsvpc task with Fargate\'s ids, task metadata v4 only, and the Fargate environment', async () => {
    sim = await startSimulator({ launchType: 'FARGATE' });
    expect(sim.world.tasks).toHaveLength(1);
    const task = sim.world.tasks[0]!;
    const web = task.containers[0]!;
    expect(web.dockerId).toMatch(/^[0-9a-f]{32}-\d{10}$/);
    expect(web.dockerId.startsWith(task.arn.split('/').pop()!)).toBe(true);
    const env = sim.containerEnv('web');
    expect(env['AWS_EXECUTION_ENV']).toBe('AWS_ECS_FARGATE');
    expect(env).not.toHaveProperty('ECS_CONTAINER_METADATA_FILE');
    expect(env).not.toHaveProperty('AWS_EC2_METADATA_SERVICE_ENDPOINT');
    const { body } = await getJson(`${env['ECS_CONTAINER_METADATA_URI_V4']}/task`);
    expect(body).toMatchObject({ LaunchType: 'FARGATE', Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/ecs-trace-sim', TaskARN: task.arn, Family: 'checkout' });
    expect((body as { Containers: { DockerId: string; Networks: { NetworkMode: string }[] }[] }).Containers[0]).toMatchObject({ DockerId: web.dockerId, Networks: [{ NetworkMode: 'awsvpc' }] });
    // No ECS agent on a host to introspect, and no IMDS to answer.
    expect((await fetch(`${sim.ecsAgent.url}/v1/tasks`)).status).toBe(404);
    expect((await fetch(`${sim.imds.url}/latest/meta-data/local-ipv4`)).status).toBe(403);
  });
});
