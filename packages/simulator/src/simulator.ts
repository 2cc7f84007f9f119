import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDockerApiServer, type DockerApiServer } from './docker-api-server.js';
import { startEcsAgentServer, type EcsAgentServer } from './ecs-agent-server.js';
import { startImdsServer, type ImdsServer, type ImdsServerOptions } from './imds-server.js';
import { writeMetadataFiles, type MetadataFileOptions, type MetadataFiles } from './metadata-files.js';
import { createWorld, findContainer, type SimWorld, type WorldOptions } from './world.js';

/** One simulated ECS container instance: IMDS, the ECS agent's endpoints and the metadata files. */
export interface SimulatorOptions extends WorldOptions {
  imds?: Omit<ImdsServerOptions, 'world'> & { host?: string; port?: number };
  ecsAgent?: { host?: string; port?: number };
  /** Metadata files; `false` for an instance without ECS_ENABLE_CONTAINER_METADATA. */
  metadataFiles?: Omit<MetadataFileOptions, 'dir'> & { dir?: string } | false;
  /** Serve the Docker Engine API's container inspection on this unix socket (EC2: what a mounted docker.sock gives). */
  dockerSocket?: string;
}

export interface Simulator {
  world: SimWorld;
  imds: ImdsServer;
  ecsAgent: EcsAgentServer;
  metadataFiles: MetadataFiles | undefined;
  /** The Docker Engine API stand-in, when `dockerSocket` was given. */
  docker: DockerApiServer | undefined;
  /** The variables ECS gives a container (by name, `family/name` or docker id) on this host. */
  containerEnv(container: string): Record<string, string>;
  close(): Promise<void>;
}

export class UnknownContainerError extends Error {
  override name = 'UnknownContainerError';
}

export async function startSimulator(o: SimulatorOptions = {}): Promise<Simulator> {
  const world = createWorld(o);
  const { host: imdsHost, port: imdsPort, ...imdsOptions } = o.imds ?? {};
  // Fargate tasks cannot reach IMDS: it refuses, as a stand-in for nothing answering.
  const imds = await startImdsServer({ world, ...imdsOptions, ...(world.launchType === 'FARGATE' ? { mode: 'off' as const } : {}) }, imdsHost ?? '127.0.0.1', imdsPort ?? 0);
  const ecsAgent = await startEcsAgentServer(world, o.ecsAgent?.host ?? '127.0.0.1', o.ecsAgent?.port ?? 0).catch(async (err: unknown) => {
    await imds.close();
    throw err;
  });
  let ownDir: string | undefined;
  let metadataFiles: MetadataFiles | undefined;
  // Container metadata files are an EC2 container instance's feature.
  if (o.metadataFiles !== false && world.launchType !== 'FARGATE') {
    const dir = o.metadataFiles?.dir ?? (ownDir = mkdtempSync(join(tmpdir(), 'ecs-trace-sim-metadata-')));
    metadataFiles = writeMetadataFiles(world, { ...o.metadataFiles, dir });
  }
  const docker = o.dockerSocket !== undefined ? await startDockerApiServer(world, o.dockerSocket) : undefined;
  return {
    world,
    imds,
    ecsAgent,
    metadataFiles,
    docker,
    containerEnv(name) {
      const found = findContainer(world, name);
      if (!found) throw new UnknownContainerError(`no container ${JSON.stringify(name)} in the simulated host; it runs ${world.tasks.flatMap((t) => t.containers.map((c) => `${t.family}/${c.name}`)).join(', ')}`);
      const id = found.container.endpointId;
      const env: Record<string, string> = {
        AWS_EXECUTION_ENV: world.launchType === 'FARGATE' ? 'AWS_ECS_FARGATE' : 'AWS_ECS_EC2',
        ...(world.launchType === 'FARGATE' ? {} : { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }),
        ECS_CONTAINER_METADATA_URI: `${ecsAgent.url}/v3/${id}`,
        ECS_CONTAINER_METADATA_URI_V4: `${ecsAgent.url}/v4/${id}`,
        ECS_AGENT_URI: `${ecsAgent.url}/api/${id}`,
      };
      const file = metadataFiles?.paths.get(found.container.dockerId);
      if (file !== undefined) env['ECS_CONTAINER_METADATA_FILE'] = file;
      return env;
    },
    async close() {
      metadataFiles?.stop();
      await Promise.all([imds.close(), ecsAgent.close(), docker?.close()]);
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
