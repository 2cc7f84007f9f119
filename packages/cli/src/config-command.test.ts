import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/* `ecs-trace config`: the values in effect and where each comes from, checked as the agent checks them. */

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-config-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, 'config', ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env } });
const line = (out: string, name: string) => out.split('\n').find((l) => l.startsWith(`${name} `));

describe('ecs-trace config', () => {
  it('prints each value in effect with its source: a flag over the environment over the default', () => {
    const r = config(['--receiver-port', '9999'], { DD_APM_TARGET_TPS: '25', DD_APM_RECEIVER_PORT: '9126' });
    expect(r.status).toBe(0);
    expect(line(r.stdout, 'DD_APM_RECEIVER_PORT')).toBe('DD_APM_RECEIVER_PORT (--receiver-port) = 9999  [flag --receiver-port]');
    expect(line(r.stdout, 'DD_APM_TARGET_TPS')).toBe('DD_APM_TARGET_TPS = 25  [env DD_APM_TARGET_TPS]');
    expect(line(r.stdout, 'DD_APM_MAX_PAYLOAD_SIZE')).toBe('DD_APM_MAX_PAYLOAD_SIZE = 26214400  [default]');
    expect(line(r.stdout, 'DD_APM_DECODERS')).toMatch(/^DD_APM_DECODERS = \(unset: \d+\) {2}\[unset\]$/);
  });

  it('exits 2 naming a value that is not valid, as the agent would at start', () => {
    const r = config([], { DD_APM_TARGET_TPS: 'abc' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('ecs-trace: DD_APM_TARGET_TPS="abc" is not valid: expected a number of at least 0, such as 10 or 0.5\n');
    expect(config(['--receiver-port', '70000']).stderr).toContain('--receiver-port="70000" is not valid');
  });

  it('says a secret is set without showing it, from the environment or a file, and a store URL without its password', () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'file-token-0123456789abcdef\n');
    const r = config(['--api-token-file', tokenFile], { DD_API_KEY: 'dd-key-never-shown', ECS_TRACE_STORE: 'postgres://u:pw-never-shown@db/x' });
    expect(r.status).toBe(0);
    expect(line(r.stdout, 'DD_API_KEY')).toBe('DD_API_KEY = (set, not shown)  [env DD_API_KEY]');
    expect(line(r.stdout, 'ECS_TRACE_API_TOKEN')).toBe('ECS_TRACE_API_TOKEN = (set, not shown)  [unset]');
    expect(line(r.stdout, 'ECS_TRACE_STORE')).toBe('ECS_TRACE_STORE (--store) = postgres://u:***@db/x  [env ECS_TRACE_STORE]');
    for (const secret of ['dd-key-never-shown', 'pw-never-shown', 'file-token-0123456789abcdef']) expect(r.stdout + r.stderr).not.toContain(secret);
  });
});
