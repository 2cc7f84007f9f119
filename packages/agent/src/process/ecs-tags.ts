import { request } from 'node:http';
import type { Logger } from '../runtime/index.js';

/*
 * ECS tags for a container id (the Datadog-Container-ID header). On EC2 the ECS agent's
 * introspection API lists the tasks on this host (/v1/tasks) and the cluster (/v1/metadata); the
 * availability zone comes from task metadata v4 of the agent's own task. On Fargate the agent is a
 * sidecar and its task is the only one: task metadata v4 (`/task`) says it all. Lookups never wait on the network:
 * an unknown id schedules a refresh (one at a time, at most one a second) and is answered from
 * the cache, so a slow or absent ECS agent never holds up intake. Misses are cached too.
 */

export type EcsTags = Readonly<Record<string, string>>;

export interface EcsTaggerOptions {
  /** The ECS agent's introspection API, e.g. http://169.254.172.1:51678; unset on Fargate. */
  agentUrl?: string;
  /** Task metadata v4 of the agent's own task (ECS_CONTAINER_METADATA_URI_V4): the AZ, and on Fargate everything. */
  taskMetadataUrl?: string;
  log: Logger;
  hitTtlMs?: number;
  missTtlMs?: number;
  timeoutMs?: number;
  now?: () => number;
  /**
   * The Docker Engine API's unix socket (a mounted /var/run/docker.sock), where on EC2 each
   * container's log configuration is read, as the Datadog Agent reads it; unset: not read.
   */
  dockerSocket?: string;
  /** Told the number of running tasks after each refresh, and each failed refresh. */
  onRefresh?: (tasks: number | Error) => void;
}

interface IntrospectionContainer { DockerId?: string; Name?: string; Image?: string }
interface IntrospectionTask { Arn?: string; Family?: string; Version?: string; KnownStatus?: string; Containers?: MetadataContainer[] | null }
interface MetadataContainer extends IntrospectionContainer { KnownStatus?: string; LogDriver?: string; LogOptions?: Record<string, string> }
interface MetadataTask {
  Cluster?: string; TaskARN?: string; Family?: string; Revision?: string; AvailabilityZone?: string; KnownStatus?: string;
  Containers?: MetadataContainer[] | null;
}

/**
 * Where a container's output goes, when awslogs: the group, region and stream, as tags a span's
 * logs link is made from. Task metadata says (Fargate); ECS's introspection API does not, so on
 * EC2 they come from Docker's container inspection (HostConfig.LogConfig), where ECS names the
 * stream in full.
 */
function awslogsTags(driver: string | undefined, o: Record<string, string> | undefined): Record<string, string> | undefined {
  if (driver !== 'awslogs' || !o || !o['awslogs-group'] || !o['awslogs-region']) return undefined;
  return { awslogs_group: o['awslogs-group'], awslogs_region: o['awslogs-region'], ...(o['awslogs-stream'] ? { awslogs_stream: o['awslogs-stream'] } : {}) };
}

/** GET a path of the Docker Engine API on its unix socket: the JSON, or an Error saying why not. */
function dockerGet(socket: string, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET', headers: { Host: 'docker' }, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        // An inspection is a few KB; a larger answer is not one.
        if (size > 4 << 20) { req.destroy(new Error('answer over 4 MiB')); return; }
        parts.push(d);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new Error(`docker ${path} answered ${res.statusCode}`)); return; }
        try { resolve(JSON.parse(Buffer.concat(parts).toString('utf8'))); } catch (err) { reject(err as Error); }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`docker ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Fargate's task metadata names the cluster by ARN; the tag is its name. */
const clusterName = (c: string): string => c.slice(c.lastIndexOf('cluster/') >= 0 ? c.lastIndexOf('cluster/') + 'cluster/'.length : 0);

/** `repo/name:tag` -> name and tag, as the Datadog Agent splits an image reference. */
export function splitImage(image: string): { name: string; tag: string } {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const hasTag = colon > slash;
  return { name: hasTag ? ref.slice(0, colon) : ref, tag: hasTag ? ref.slice(colon + 1) : at >= 0 ? '' : 'latest' };
}

export class EcsTagger {
  private readonly cache = new Map<string, { tags: EcsTags | undefined; logs?: EcsTags; expires: number }>();
  /** Containers inspected through Docker: their awslogs tags, or null for another driver (a container's never changes). */
  private readonly inspected = new Map<string, EcsTags | null>();
  private dockerWarnedAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  private lastRefresh = -Infinity;
  private cluster = '';
  private availabilityZone = '';
  private readonly hitTtl: number;
  private readonly missTtl: number;
  private readonly timeout: number;
  private readonly now: () => number;
  /** What the tagger has done (the payload-level hit and miss counts are in the pipeline's metrics). */
  readonly stats = { refreshes: 0, refreshErrors: 0, tasks: 0 };

  constructor(private readonly o: EcsTaggerOptions) {
    this.hitTtl = o.hitTtlMs ?? 60_000;
    this.missTtl = o.missTtlMs ?? 30_000;
    this.timeout = o.timeoutMs ?? 1000;
    this.now = o.now ?? Date.now;
  }

  /** Tags for a container, from the cache only; schedules a refresh when it knows nothing fresh. */
  lookup(containerId: string): EcsTags | undefined {
    if (containerId === '') return undefined;
    const e = this.cache.get(containerId);
    const now = this.now();
    if (e === undefined || e.expires <= now) {
      if (e === undefined) this.cache.set(containerId, { tags: undefined, expires: now + this.missTtl });
      void this.refresh();
    }
    return e?.tags;
  }

  /** A container's awslogs tags (group, region, stream), from the cache only: lookup() refreshes it. */
  logsOf(containerId: string): EcsTags | undefined {
    return containerId === '' ? undefined : this.cache.get(containerId)?.logs;
  }

  /** Fetches the task list; concurrent and too-frequent calls share one fetch. */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.now() - this.lastRefresh < 1000) return Promise.resolve();
    this.lastRefresh = this.now();
    this.refreshing = this.load()
      .catch((err: unknown) => {
        this.stats.refreshErrors++;
        this.o.onRefresh?.(err as Error);
        this.o.log.warn({ err: (err as Error).message, url: this.o.agentUrl ?? this.o.taskMetadataUrl }, 'cannot list ECS tasks; spans are not tagged with their task');
      })
      .finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  private async getJson(url: string): Promise<unknown> {
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeout) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return res.json();
  }

  private async loadIntrospection(agentUrl: string): Promise<{ Tasks?: IntrospectionTask[] }> {
    const base = agentUrl.replace(/\/+$/, '');
    if (this.cluster === '') {
      const meta = (await this.getJson(`${base}/v1/metadata`)) as { Cluster?: string };
      this.cluster = meta.Cluster ?? '';
    }
    if (this.availabilityZone === '' && this.o.taskMetadataUrl) {
      try {
        const task = (await this.getJson(`${this.o.taskMetadataUrl.replace(/\/+$/, '')}/task`)) as { AvailabilityZone?: string };
        this.availabilityZone = task.AvailabilityZone ?? '';
      } catch (err) {
        this.o.log.debug({ err: (err as Error).message }, 'no availability zone from task metadata');
      }
    }
    return (await this.getJson(`${base}/v1/tasks`)) as { Tasks?: IntrospectionTask[] };
  }

  /** Fargate: the agent's own task, the only one, from task metadata v4. */
  private async loadTaskMetadata(): Promise<{ Tasks?: IntrospectionTask[] }> {
    if (!this.o.taskMetadataUrl) throw new Error('no task metadata endpoint (ECS_CONTAINER_METADATA_URI_V4)');
    const task = (await this.getJson(`${this.o.taskMetadataUrl.replace(/\/+$/, '')}/task`)) as MetadataTask;
    this.cluster = clusterName(task.Cluster ?? '');
    this.availabilityZone = task.AvailabilityZone ?? '';
    return {
      Tasks: [{
        ...(task.TaskARN !== undefined ? { Arn: task.TaskARN } : {}), ...(task.Family !== undefined ? { Family: task.Family } : {}),
        ...(task.Revision !== undefined ? { Version: task.Revision } : {}), ...(task.KnownStatus !== undefined ? { KnownStatus: task.KnownStatus } : {}),
        Containers: (task.Containers ?? []).filter((c) => c.KnownStatus !== 'STOPPED'),
      }],
    };
  }

  /** Reads the log configuration of containers not inspected yet, four at a time. */
  private async inspectNew(socket: string, expires: number): Promise<void> {
    const todo = [...this.cache.entries()].filter(([id, e]) => e.tags !== undefined && e.expires === expires && !this.inspected.has(id)).map(([id]) => id);
    const next = async (): Promise<void> => {
      for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
        try {
          const c = (await dockerGet(socket, `/containers/${encodeURIComponent(id)}/json`, this.timeout)) as { HostConfig?: { LogConfig?: { Type?: string; Config?: Record<string, string> } } };
          const logs = awslogsTags(c.HostConfig?.LogConfig?.Type, c.HostConfig?.LogConfig?.Config) ?? null;
          this.inspected.set(id, logs);
          const e = this.cache.get(id);
          if (e && logs) e.logs = logs;
        } catch (err) {
          // Tried again at the next refresh; said at most once a minute.
          if (this.now() - this.dockerWarnedAt > 60_000) {
            this.dockerWarnedAt = this.now();
            this.o.log.warn({ err: (err as Error).message, socket }, 'cannot inspect containers through Docker: their spans have no logs link');
          }
          todo.length = 0;
        }
      }
    };
    await Promise.all([next(), next(), next(), next()]);
    if (this.inspected.size > 10_000) for (const id of this.inspected.keys()) if (!this.cache.has(id)) this.inspected.delete(id);
  }

  private async load(): Promise<void> {
    this.stats.refreshes++;
    const { Tasks } = this.o.agentUrl === undefined ? await this.loadTaskMetadata() : await this.loadIntrospection(this.o.agentUrl);
    const expires = this.now() + this.hitTtl;
    let tasks = 0;
    for (const task of Tasks ?? []) {
      if (task.KnownStatus === 'STOPPED') continue;
      tasks++;
      for (const c of task.Containers ?? []) {
        if (!c.DockerId) continue;
        const image = splitImage(c.Image ?? '');
        const tags: Record<string, string> = {
          ecs_cluster_name: this.cluster,
          task_arn: task.Arn ?? '',
          task_family: task.Family ?? '',
          task_version: task.Version ?? '',
          ecs_container_name: c.Name ?? '',
          container_id: c.DockerId,
          image_name: image.name,
          image_tag: image.tag,
          availability_zone: this.availabilityZone,
        };
        for (const k of Object.keys(tags)) if (tags[k] === '') delete tags[k];
        const logs = awslogsTags(c.LogDriver, c.LogOptions) ?? this.inspected.get(c.DockerId) ?? undefined;
        this.cache.set(c.DockerId, { tags, ...(logs ? { logs } : {}), expires });
      }
    }
    this.stats.tasks = tasks;
    if (this.o.dockerSocket && this.o.agentUrl !== undefined) await this.inspectNew(this.o.dockerSocket, expires);
    this.o.onRefresh?.(tasks);
    // Entries for containers the ECS agent no longer lists stay until their TTL ends; bound the rest.
    if (this.cache.size > 10_000) {
      const now = this.now();
      for (const [id, e] of this.cache) if (e.expires <= now) this.cache.delete(id);
    }
  }
}
