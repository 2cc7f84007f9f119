import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CgroupInodes, entityInode } from './cgroup-inodes.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('container ids from cgroup inodes', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function dir(path: string): bigint {
    mkdirSync(join(root, path), { recursive: true });
    return BigInt(statSync(join(root, path)).ino);
  }

  it('knows the layouts of ECS on cgroup v2 and v1, and Fargate\'s ids', async () => {
    root = mkdtempSync(join(tmpdir(), 'cgroup-'));
    const al2023 = dir(`ecstasks.slice/ecstasks-0123456789abcdef0123456789abcdef.slice/docker-${A}.scope`);
    const plain = dir(`system.slice/docker-${B}.scope`);
    const v1 = dir(`memory/ecs/0123456789abcdef0123456789abcdef/${C}`);
    const fargate = dir('ecs/0123456789abcdef0123456789abcdef/0123456789abcdef0123456789abcdef-1527735041');
    const task = dir('ecs/0123456789abcdef0123456789abcdef');
    const mount = dir(`system.slice/var-lib-docker-${A}.mount`);
    const cg = new CgroupInodes(root);
    expect(await cg.containerId(al2023)).toBe(A);
    expect(await cg.containerId(plain)).toBe(B);
    expect(await cg.containerId(v1)).toBe(C);
    expect(await cg.containerId(fargate)).toBe('0123456789abcdef0123456789abcdef-1527735041');
    expect(await cg.containerId(task)).toBeUndefined();
    expect(await cg.containerId(mount)).toBeUndefined();
  });

  it('walks again for an unknown inode, at most every 2 s', async () => {
    root = mkdtempSync(join(tmpdir(), 'cgroup-'));
    let now = 0;
    const cg = new CgroupInodes(root, () => now);
    expect(await cg.containerId(1n)).toBeUndefined();
    const later = dir(`system.slice/docker-${A}.scope`);
    now = 1000;
    expect(await cg.containerId(later)).toBeUndefined();
    now = 2500;
    expect(await cg.containerId(later)).toBe(A);
  });

  it('reads the inode from Datadog-Entity-ID, beside a container id or alone', () => {
    expect(entityInode('in-12345')).toBe(12345n);
    expect(entityInode('ci-abc,in-7')).toBe(7n);
    expect(entityInode('ci-abc')).toBeUndefined();
    expect(entityInode('in-x')).toBeUndefined();
  });
});
