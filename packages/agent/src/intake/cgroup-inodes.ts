import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * Container ids from cgroup inodes, for tracers in a private cgroup namespace (the default for
 * Docker on cgroup v2, as on ECS-optimized Amazon Linux 2023): /proc/self/cgroup reads `0::/`, so
 * they send `Datadog-Entity-ID: in-<inode of their /sys/fs/cgroup>`, which is the inode of their
 * container's directory in the host's hierarchy. The agent walks that hierarchy (mounted into its
 * container read-only at /host/sys/fs/cgroup, as the Datadog Agent's task definition does) and
 * keys each directory named with a container id by its inode. Walked again at most every 2 s, and
 * only when an inode is not known.
 */

/** Docker's 64-hex ids (`docker-<id>.scope`, `/ecs/<task>/<id>`) and Fargate's `<32hex>-<digits>`. */
const CONTAINER_ID = /(?:^|[-/])([0-9a-f]{64}|[0-9a-f]{32}-\d+)(?:\.scope)?$/;
const MAX_DEPTH = 6;
const MIN_REFRESH_MS = 2000;

/** The hierarchy to walk: the setting, else the host's when mounted at /host, else this one's. */
export function defaultCgroupRoot(): string {
  return existsSync('/host/sys/fs/cgroup') ? '/host/sys/fs/cgroup' : '/sys/fs/cgroup';
}

export class CgroupInodes {
  private byInode = new Map<bigint, string>();
  private walked = 0;
  private walking: Promise<void> | undefined;

  constructor(private readonly root: string, private readonly now: () => number = Date.now) {}

  /** The container whose cgroup directory has this inode, walking again if it may be new. */
  async containerId(inode: bigint): Promise<string | undefined> {
    const known = this.byInode.get(inode);
    if (known !== undefined || this.now() - this.walked < MIN_REFRESH_MS) return known;
    this.walking ??= this.walk().finally(() => { this.walking = undefined; });
    await this.walking;
    return this.byInode.get(inode);
  }

  private async walk(): Promise<void> {
    this.walked = this.now();
    const next = new Map<bigint, string>();
    const visit = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return; // gone meanwhile, or not readable: nothing to learn there
      }
      await Promise.all(entries.map(async (e) => {
        if (!e.isDirectory() || e.name.endsWith('.mount')) return;
        const path = join(dir, e.name);
        const id = CONTAINER_ID.exec(e.name)?.[1];
        if (id !== undefined) {
          try {
            next.set((await stat(path, { bigint: true })).ino, id);
          } catch { /* gone meanwhile */ }
        }
        if (depth < MAX_DEPTH) await visit(path, depth + 1);
      }));
    };
    await visit(this.root, 1);
    this.byInode = next;
  }
}

/** The inode of an `in-<inode>` item of Datadog-Entity-ID, if it has one. */
export function entityInode(entityId: string): bigint | undefined {
  for (const item of entityId.split(',')) {
    const v = item.trim();
    if (v.startsWith('in-') && /^\d{1,20}$/.test(v.slice(3))) return BigInt(v.slice(3));
  }
  return undefined;
}
