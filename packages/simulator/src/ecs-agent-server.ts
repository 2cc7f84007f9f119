import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { awslogsStream, type SimContainer, type SimTask, type SimWorld } from './world.js';

/*
 * The two HTTP faces of the ECS agent (ecs-spec 3 and 4), from one world:
 *  - task metadata endpoint v4: `/v4/<endpointId>`, `/task`, `/taskWithTags`, as
 *    ECS_CONTAINER_METADATA_URI_V4 points a container at it (169.254.170.2 on a real host);
 *  - the introspection API the Datadog Agent polls on 51678: `/`, `/v1/metadata`, `/v1/tasks`.
 * The paths do not overlap, so one listener serves both; the CLI can open two.
 */

export const ECS_AGENT_VERSION = 'Amazon ECS Agent - v1.97.0 (ecstrace)';

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function labels(world: SimWorld, task: SimTask, c: SimContainer): Record<string, string> {
  return {
    'com.amazonaws.ecs.cluster': world.cluster,
    'com.amazonaws.ecs.container-name': c.name,
    'com.amazonaws.ecs.task-arn': task.arn,
    'com.amazonaws.ecs.task-definition-family': task.family,
    'com.amazonaws.ecs.task-definition-version': task.revision,
    ...c.dockerLabels,
  };
}

function networks(task: SimTask, c: SimContainer) {
  return [{ NetworkMode: task.networkMode, IPv4Addresses: [c.ipv4] }];
}

/** A container as task metadata v4 shows it. */
export function v4Container(world: SimWorld, task: SimTask, c: SimContainer): Record<string, unknown> {
  return {
    DockerId: c.dockerId,
    Name: c.name,
    DockerName: c.dockerName,
    Image: c.image,
    ImageID: c.imageId,
    ...(c.ports.length > 0 ? { Ports: c.ports.map((p) => ({ ContainerPort: p.containerPort, Protocol: p.protocol, HostPort: p.hostPort, HostIp: '0.0.0.0' })) } : {}),
    Labels: labels(world, task, c),
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Limits: { CPU: 2, Memory: 256 },
    CreatedAt: task.createdAt,
    StartedAt: task.createdAt,
    Type: 'NORMAL',
    ContainerARN: `arn:aws:ecs:${world.instance.region}:${world.instance.accountId}:container/${world.cluster}/${task.arn.split('/').pop()}/${c.dockerId.slice(0, 36)}`,
    Networks: networks(task, c),
    // As ECS gives them on EC2 and Fargate alike: the stream named in full.
    ...(c.awslogs ? { LogDriver: 'awslogs', LogOptions: { 'awslogs-create-group': 'true', 'awslogs-group': c.awslogs.group, 'awslogs-region': c.awslogs.region, 'awslogs-stream': awslogsStream(task, c) } } : {}),
  };
}

export function v4Task(world: SimWorld, task: SimTask): Record<string, unknown> {
  return {
    // Fargate gives the cluster's ARN, EC2 its name.
    Cluster: world.launchType === 'FARGATE' ? `arn:aws:ecs:${world.instance.region}:${world.instance.accountId}:cluster/${world.cluster}` : world.cluster,
    TaskARN: task.arn,
    Family: task.family,
    Revision: task.revision,
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Limits: { CPU: 0.25, Memory: 512 },
    PullStartedAt: task.createdAt,
    PullStoppedAt: task.createdAt,
    AvailabilityZone: world.instance.availabilityZone,
    LaunchType: world.launchType,
    Containers: task.containers.map((c) => v4Container(world, task, c)),
    VPCID: world.instance.vpcId,
    FaultInjectionEnabled: false,
  };
}

/** A task as the introspection API shows it. */
export function introspectionTask(task: SimTask): Record<string, unknown> {
  return {
    Arn: task.arn,
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Family: task.family,
    Version: task.revision,
    Containers: task.containers.map((c) => ({
      DockerId: c.dockerId,
      DockerName: c.dockerName,
      Name: c.name,
      Image: c.image,
      ImageID: c.imageId,
      CreatedAt: task.createdAt,
      StartedAt: task.createdAt,
      ...(c.ports.length > 0 ? { Ports: c.ports.map((p) => ({ ContainerPort: p.containerPort, Protocol: p.protocol, HostPort: p.hostPort, HostIp: '0.0.0.0' })) } : {}),
      Networks: networks(task, c),
    })),
  };
}

export interface EcsAgentServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function startEcsAgentServer(world: SimWorld, host = '127.0.0.1', port = 0): Promise<EcsAgentServer> {
  const byEndpoint = new Map<string, { task: SimTask; container: SimContainer }>();
  for (const task of world.tasks) for (const container of task.containers) byEndpoint.set(container.endpointId, { task, container });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method !== 'GET') return json(res, 405, 'method not allowed');
    const v4 = /^\/v4\/([^/]+)(\/task|\/taskWithTags)?\/?$/.exec(path);
    if (v4) {
      const found = byEndpoint.get(v4[1]!);
      if (v4[2] === undefined) {
        if (!found) return json(res, 404, `V4 container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: ${v4[1]}`);
        return json(res, 200, v4Container(world, found.task, found.container));
      }
      if (!found) return json(res, 404, `V4 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: ${v4[1]}`);
      const task = v4Task(world, found.task);
      return json(res, 200, v4[2] === '/taskWithTags' ? { ...task, TaskTags: {}, ContainerInstanceTags: {} } : task);
    }
    // Fargate has no ECS agent on the host to introspect: only task metadata answers.
    if (world.launchType === 'FARGATE') return json(res, 404, '404 page not found');
    if (path === '/') return json(res, 200, { AvailableCommands: ['/v1/metadata', '/v1/tasks', '/license'] });
    if (path === '/v1/metadata') return json(res, 200, { Cluster: world.cluster, ContainerInstanceArn: world.containerInstanceArn, Version: ECS_AGENT_VERSION });
    if (path === '/license') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('Amazon Elastic Container Service Agent (simulated by ecs-trace)\n');
    }
    if (path === '/v1/tasks') {
      const dockerId = url.searchParams.get('dockerid');
      const taskArn = url.searchParams.get('taskarn');
      const empty = { Arn: '', DesiredStatus: '', KnownStatus: '', Family: '', Version: '', Containers: null };
      if (dockerId !== null && taskArn !== null) return json(res, 400, empty);
      if (taskArn !== null) {
        const task = world.tasks.find((t) => t.arn === taskArn);
        return task ? json(res, 200, introspectionTask(task)) : json(res, 404, empty);
      }
      if (dockerId !== null) {
        // A full id, or a short one of up to 12 characters that must be unambiguous.
        const matches = world.tasks.filter((t) => t.containers.some((c) => c.dockerId === dockerId || (dockerId.length > 0 && dockerId.length <= 12 && c.dockerId.startsWith(dockerId))));
        if (matches.length > 1) return json(res, 400, empty);
        return matches.length === 1 ? json(res, 200, introspectionTask(matches[0]!)) : json(res, 404, empty);
      }
      return json(res, 200, { Tasks: world.tasks.map(introspectionTask) });
    }
    return json(res, 404, `404 page not found`);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({
        url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
        port: addr.port,
        close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
      });
    });
  });
}
