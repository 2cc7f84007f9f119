import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { taskIdPart, type SimContainer, type SimTask, type SimWorld } from './world.js';

/*
 * The ECS container metadata file (ecs-spec 2), as the ECS agent writes it: first at container
 * create, without a MetadataFileStatus key; then, once the container runs, again with the
 * Docker-derived fields and "READY". Written atomically (temp file + rename), tab-indented.
 */

export interface MetadataFileOptions {
  /** Root directory; files go to `<dir>/<cluster>/<task-id>/<container>/ecs-container-metadata.json`. */
  dir: string;
  /** Delay before the READY version replaces the first one; default 300 ms. */
  readyAfterMs?: number;
  /** Never write the READY version. */
  neverReady?: boolean;
  /** Omit the host fields (the ECS agent could not read them from IMDS when it started). */
  omitHostAddress?: boolean;
}

export interface MetadataFiles {
  /** File path by container docker id. */
  paths: Map<string, string>;
  /** Resolves once every file is READY (never, with neverReady). */
  ready: Promise<void>;
  stop(): void;
}

export function metadataFileContent(world: SimWorld, task: SimTask, c: SimContainer, ready: boolean, omitHostAddress = false): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    Cluster: world.cluster,
    ContainerInstanceARN: world.containerInstanceArn,
    TaskARN: task.arn,
    TaskDefinitionFamily: task.family,
    TaskDefinitionRevision: task.revision,
  };
  if (ready) {
    Object.assign(doc, {
      ContainerID: c.dockerId,
      ContainerName: c.name,
      DockerContainerName: `/${c.dockerName}`,
      ImageID: c.imageId,
      ImageName: c.image,
      // Docker reports one binding per address family.
      PortMappings: c.ports.flatMap((p) => ['0.0.0.0', '::'].map((bindIp) => ({ ContainerPort: p.containerPort, ContainerPortRange: '', HostPort: p.hostPort, BindIp: bindIp, Protocol: p.protocol }))),
      Networks: [{ NetworkMode: task.networkMode, IPv4Addresses: [c.ipv4] }],
      MetadataFileStatus: 'READY',
    });
  } else {
    doc['ContainerName'] = c.name;
  }
  doc['AvailabilityZone'] = world.instance.availabilityZone;
  if (!omitHostAddress) doc['HostPrivateIPv4Address'] = world.instance.localIpv4;
  return doc;
}

function writeAtomically(path: string, doc: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, '\t'), { mode: 0o644 });
  renameSync(tmp, path);
}

export function writeMetadataFiles(world: SimWorld, o: MetadataFileOptions): MetadataFiles {
  const paths = new Map<string, string>();
  const entries: { task: SimTask; c: SimContainer; path: string }[] = [];
  for (const task of world.tasks) {
    for (const c of task.containers) {
      const dir = join(o.dir, taskIdPart(task), c.name);
      mkdirSync(dir, { recursive: true });
      const path = join(dir, 'ecs-container-metadata.json');
      writeAtomically(path, metadataFileContent(world, task, c, false, o.omitHostAddress));
      paths.set(c.dockerId, path);
      entries.push({ task, c, path });
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve) => {
    if (o.neverReady) return;
    timer = setTimeout(() => {
      for (const e of entries) writeAtomically(e.path, metadataFileContent(world, e.task, e.c, true, o.omitHostAddress));
      resolve();
    }, o.readyAfterMs ?? 300);
  });
  return { paths, ready, stop: () => clearTimeout(timer) };
}
