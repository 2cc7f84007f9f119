import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { awslogsStream, type SimWorld } from './world.js';

/*
 * The part of the Docker Engine API an agent reads on an EC2 host (as the Datadog Agent does
 * through the mounted /var/run/docker.sock): `GET [/v1.NN]/containers/{id}/json`, the container's
 * name, labels and log configuration (HostConfig.LogConfig), awslogs as ECS sets it on EC2 (the
 * stream named in full). Served on a unix socket, as dockerd serves it.
 */

export interface DockerApiServer {
  socket: string;
  /** Requests answered, by path (tests count reads). */
  requests: string[];
  close(): Promise<void>;
}

export async function startDockerApiServer(world: SimWorld, socket: string): Promise<DockerApiServer> {
  const byId = new Map(world.tasks.flatMap((task) => task.containers.map((c) => [c.dockerId, { task, c }] as const)));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    const m = /^(?:\/v\d+\.\d+)?\/containers\/([^/]+)\/json$/.exec(path);
    const found = m && req.method === 'GET' ? byId.get(m[1]!) ?? [...byId.values()].find((x) => x.c.dockerId.startsWith(m[1]!) || x.c.dockerName === m[1]) : undefined;
    if (!found) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: m ? `No such container: ${m[1]}` : 'page not found' }));
      return;
    }
    const { task, c } = found;
    const logConfig = c.awslogs
      ? { Type: 'awslogs', Config: { 'awslogs-group': c.awslogs.group, 'awslogs-region': c.awslogs.region, 'awslogs-stream': awslogsStream(task, c)! } }
      : { Type: 'json-file', Config: {} };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.47' });
    res.end(JSON.stringify({
      Id: c.dockerId, Name: `/${c.dockerName}`, Image: c.imageId,
      Config: { Image: c.image, Labels: { 'com.amazonaws.ecs.task-arn': task.arn, 'com.amazonaws.ecs.container-name': c.name, 'com.amazonaws.ecs.task-definition-family': task.family, ...c.dockerLabels } },
      HostConfig: { LogConfig: logConfig, NetworkMode: task.networkMode },
      State: { Status: 'running', Running: true },
    }));
  });
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(socket, resolve); });
  return {
    socket,
    requests,
    close: () => new Promise<void>((resolve) => { server.close(() => { rmSync(socket, { force: true }); resolve(); }); server.closeAllConnections(); }),
  };
}
