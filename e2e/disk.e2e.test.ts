import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeV04, type Span } from '@ecs-trace/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { componentsAvailable } from './components.js';

/*
 * The agent's data directory as the disk really is: small tmpfs mounts made by the test (root),
 * a read-only one, a full one, a second agent on the same directory. The agent runs as the
 * `ecs-trace agent` command, as a user starts it.
 */

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));

function mountsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'tmpfs mounts need root';
  return undefined;
}
const run = componentsAvailable(mountsUnavailable(), 'disk tests');

const root = mkdtempSync(join(tmpdir(), 'ecs-trace-disk-'));
const mounts: string[] = [];
function tmpfs(name: string, options: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

interface Agent { child: ChildProcess; intake: string; api: string; stderr: () => string; exited: Promise<number | null> }
let ports = 19_300;

/** Starts `ecs-trace agent`; resolves once its API answers, or rejects with what it printed when it exits. */
async function agent(dataDir: string, ...flags: string[]): Promise<Agent> {
  const intakePort = ports++;
  const apiPort = ports++;
  const child = spawn(process.execPath, [BIN, 'agent', '--data-dir', dataDir, '--api-port', String(apiPort), ...flags], {
    env: { PATH: process.env['PATH'] ?? '', DD_APM_RECEIVER_PORT: String(intakePort), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const a: Agent = { child, intake: `http://127.0.0.1:${intakePort}`, api: `http://127.0.0.1:${apiPort}`, stderr: () => err, exited };
  for (let i = 0; i < 200; i++) {
    const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
    if (done) throw new Error(`agent exited ${child.exitCode}: ${err.trim()}`);
    try {
      if ((await fetch(`${a.api}/healthz`)).status > 0) return a;
    } catch {
      // Not listening yet.
    }
  }
  child.kill('SIGKILL');
  throw new Error('agent did not start');
}

async function stop(a: Agent): Promise<void> {
  a.child.kill('SIGTERM');
  await a.exited;
}

/** Bytes of the files in a directory: what `du` would count. */
function filesBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

let nextTrace = 1n;
/** One payload of ~`kb` KiB of traces whose tags do not compress. */
function payload(kb: number): { body: Buffer; ids: bigint[] } {
  const ids: bigint[] = [];
  const chunks: Span[][] = [];
  const start = BigInt(Date.now()) * 1_000_000n;
  for (let i = 0; i < kb / 4; i++) {
    const traceId = nextTrace++;
    ids.push(traceId);
    chunks.push([{ service: 'disk', name: 'web.request', resource: 'GET /', type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: 1000, error: 0, meta: { blob: randomBytes(2048).toString('hex') }, metrics: { _sampling_priority_v1: 2 } }]);
  }
  return { body: encodeV04(chunks), ids };
}

async function put(a: Agent, body: Buffer): Promise<number> {
  return (await fetch(`${a.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body })).status;
}

describe.runIf(run)('the data directory', () => {
  afterAll(() => {
    for (const m of mounts.reverse()) {
      try { execFileSync('umount', [m]); } catch { /* already gone */ }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('--max-disk holds within 10% at every payload, WAL included, while 30 MB of traces arrive', async () => {
    const dir = join(tmpfs('bounded', 'size=40m'), 'data');
    const a = await agent(dir, '--max-disk', '8MB');
    try {
      let peak = 0;
      for (let i = 0; i < 150; i++) {
        expect(await put(a, payload(200).body)).toBe(200);
        peak = Math.max(peak, filesBytes(dir));
      }
      expect(peak).toBeLessThanOrEqual(8e6 * 1.1);
      const health = (await (await fetch(`${a.api}/healthz`)).json()) as { status: string };
      expect(health.status).toBe('ok');
      const metrics = await (await fetch(`${a.api}/metrics`)).text();
      expect(metrics).toMatch(/ecs_trace_store_retention_deleted_spans_total\{reason="size"\} [1-9]/);
    } finally {
      await stop(a);
    }
  }, 120_000);

  it('a full disk: intake answers 503, /healthz says why, nothing acknowledged is lost, and it recovers when space is back', async () => {
    const mount = tmpfs('full', 'size=12m');
    const filler = join(mount, 'filler');
    writeFileSync(filler, Buffer.alloc(6 * 1024 * 1024));
    const dir = join(mount, 'data');
    const a = await agent(dir, '--max-disk', '0');
    try {
      const acknowledged: bigint[] = [];
      let status = 200;
      for (let i = 0; i < 100 && status === 200; i++) {
        const p = payload(200);
        status = await put(a, p.body);
        if (status === 200) acknowledged.push(...p.ids);
      }
      expect(status).toBe(503);
      const sick = await fetch(`${a.api}/healthz`);
      expect(sick.status).toBe(503);
      expect(((await sick.json()) as { problem: string }).problem).toMatch(/^disk full: the store in .*data cannot write/);
      rmSync(filler);
      let after = 0;
      for (let i = 0; i < 20 && after !== 200; i++) after = await put(a, payload(20).body);
      expect(after).toBe(200);
      const well = await fetch(`${a.api}/healthz`);
      expect(well.status).toBe(200);
      for (const id of [acknowledged[0]!, acknowledged[acknowledged.length - 1]!]) {
        expect((await fetch(`${a.api}/api/v1/traces/${id}`)).status).toBe(200);
      }
    } finally {
      await stop(a);
    }
  }, 120_000);

  it('refuses to start on a read-only directory, naming the path and the cause', async () => {
    const dir = tmpfs('readonly', 'size=1m,ro');
    await expect(agent(join(dir, 'data'))).rejects.toThrow(/exited 1: ecs-trace: cannot use .*readonly\/data as the data directory: the file system is read-only/);
  });

  it('refuses a path that is a file, naming it', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, '');
    await expect(agent(join(file, 'data'))).rejects.toThrow(/exited 1: ecs-trace: cannot use .*not-a-dir\/data as the data directory: a part of the path is a file, not a directory/);
  });

  it('lets one agent have a data directory: a second exits naming it and the holder', async () => {
    const dir = join(root, 'shared');
    const first = await agent(dir);
    try {
      await expect(agent(dir)).rejects.toThrow(new RegExp(`exited 1: ecs-trace: the data directory ${dir} is in use by the agent with pid ${first.child.pid}: stop it, or give this agent another --data-dir`));
    } finally {
      await stop(first);
    }
    // Once the first is gone (even by kill -9), the directory is free again.
    const killed = await agent(dir);
    killed.child.kill('SIGKILL');
    await killed.exited;
    const again = await agent(dir);
    await stop(again);
  });
});
