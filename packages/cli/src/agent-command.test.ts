import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/* `ecs-trace agent` and its API token, as an operator meets them. */

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-agent-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ecs-trace agent', () => {
  it('refuses to open the API beyond loopback without a token, naming the variable (exit 2)', () => {
    const r = spawnSync(process.execPath, [BIN, 'agent', '--api-host', '0.0.0.0', '--data-dir', join(dir, 'a')], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ecs-trace: ECS_TRACE_API_HOST=0.0.0.0 opens the API and UI beyond loopback: set ECS_TRACE_API_TOKEN');
  });

  it('never writes its token to its output', async () => {
    const token = 'secret-token-never-logged-0123';
    const child = spawn(process.execPath, [BIN, 'agent', '--data-dir', join(dir, 'b'), '--api-port', '18931'], {
      env: { PATH: process.env['PATH'] ?? '', ECS_TRACE_API_TOKEN: token, DD_APM_RECEIVER_PORT: '18930', DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    for (let i = 0; i < 100 && !out.includes('query API listening'); i++) await new Promise((r) => setTimeout(r, 50));
    // A request with the token and one without, so that the handling of both is in the log.
    await fetch('http://127.0.0.1:18931/api/v1/services', { headers: { Authorization: `Bearer ${token}` } });
    await fetch('http://127.0.0.1:18931/api/v1/services');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(out).toContain('query API listening');
    expect(out).not.toContain(token);
  });
});
