import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/*
 * The quick start as a new user meets it: `npm start` prints where everything is, and stopping
 * it (kill, or Ctrl-C in a terminal) stops the agent with it; logs are JSON lines for a log
 * driver and lines a person reads on a terminal.
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-first-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function up(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean>, tries = 600): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('first run', () => {
  it('npm start prints where intake, UI and data are, and a kill of npm stops the agent and frees its ports', async () => {
    const env = { ...process.env, ECS_TRACE_DATA_DIR: join(dir, 'npm-start'), ECS_TRACE_API_PORT: '18871', DD_APM_RECEIVER_PORT: '18870', DD_APM_NON_LOCAL_TRAFFIC: 'false' };
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    npm.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    npm.stdout!.resume();
    try {
      expect(await until(() => up('http://127.0.0.1:18871/healthz'))).toBe(true);
      expect(await until(async () => err.includes('  data '))).toBe(true);
      expect(err).toMatch(/ecs-trace \d+\.\d+\.\d+ agent\n {2}intake {4}http:\/\/127\.0\.0\.1:18870 \(loopback only\)\n {2}web UI {4}http:\/\/127\.0\.0\.1:18871\/ \(loopback only\)/);
      expect(err).toContain(`  data      ${join(dir, 'npm-start')} (embedded SQLite`);
    } finally {
      npm.kill('SIGTERM');
    }
    await new Promise((r) => npm.once('exit', r));
    expect(await until(async () => !(await up('http://127.0.0.1:18871/healthz')), 100)).toBe(true);
    expect(await until(async () => !(await up('http://127.0.0.1:18870/info')), 100)).toBe(true);
  }, 120_000);

  it('logs JSON lines into a pipe and lines a person reads on a terminal', async () => {
    const run = (tty: boolean, port: number) => {
      const cmd = `${process.execPath} ${BIN} agent --data-dir ${join(dir, `log-${port}`)} --api-port ${port}`;
      // `timeout` ends it with SIGTERM after 3 s (and exits 124, which is not a failure here).
      const shell = `timeout -s TERM 3 ${cmd}; true`;
      const args = tty ? ['-qec', shell, '/dev/null'] : ['-c', shell];
      return execFileSync(tty ? 'script' : 'sh', args, { env: { ...process.env, DD_APM_RECEIVER_PORT: String(port - 1), DD_APM_NON_LOCAL_TRAFFIC: 'false' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    };
    const piped = run(false, 18881).trim().split('\n');
    expect(piped.length).toBeGreaterThan(0);
    for (const line of piped) expect(JSON.parse(line)).toHaveProperty('msg');
    const terminal = run(true, 18891);
    expect(terminal).toMatch(/INFO.*query API listening/);
    expect(() => JSON.parse(terminal.split('\n').find((l) => l.includes('query API listening'))!)).toThrow();
  }, 30_000);
});
