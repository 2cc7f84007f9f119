import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * `ecs-trace run` and `ecs-trace discover` as a container's entryPoint uses them: the built CLI
 * in its own process, the app a real child process.
 */

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

interface Ran { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string>, onSpawn?: (pid: number) => void): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', AWS_EC2_METADATA_DISABLED: 'true', AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9', ECS_TRACE_APM_SOCKET: '/nonexistent/ecs-trace-test/apm.socket', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (onSpawn && stdout.includes('ready')) { onSpawn(child.pid!); onSpawn = undefined; }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let dir: string;
let metadataPath: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecs-trace-run-'));
  metadataPath = join(dir, 'ecs-container-metadata.json');
  writeFileSync(metadataPath, JSON.stringify({ HostPrivateIPv4Address: '127.0.0.5', MetadataFileStatus: 'READY' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const printEnv = 'process.stdout.write(JSON.stringify({ host: process.env.DD_AGENT_HOST, mine: process.env.MY_SETTING, port: process.env.DD_TRACE_AGENT_PORT }))';

describe('ecs-trace run', () => {
  it('sets DD_AGENT_HOST, keeps the user\'s variables, and leaves stdout to the app', async () => {
    const r = await cli(['run', '--', process.execPath, '-e', printEnv], { ECS_CONTAINER_METADATA_FILE: metadataPath, MY_SETTING: 'kept', DD_TRACE_AGENT_PORT: '9000' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ host: '127.0.0.5', mine: 'kept', port: '9000' });
    expect(r.stderr).toBe('');
  });

  it('never overrides a DD_AGENT_HOST the user set', async () => {
    const r = await cli(['run', '--', process.execPath, '-e', printEnv], { ECS_CONTAINER_METADATA_FILE: metadataPath, DD_AGENT_HOST: 'agent.local' });
    expect(JSON.parse(r.stdout)).toMatchObject({ host: 'agent.local' });
  });

  it('prints the whole resolution on stderr with --json, naming the source that won', async () => {
    const r = await cli(['run', '--json', '--', process.execPath, '-e', ''], { ECS_CONTAINER_METADATA_FILE: metadataPath });
    const resolution = JSON.parse(r.stderr.trim()) as { source: string; host: string; tried: { source: string }[] };
    expect(resolution).toMatchObject({ source: 'metadata-file', host: '127.0.0.5', url: 'http://127.0.0.5:8126' });
    expect(r.stdout).toBe('');
  });

  it('passes the app\'s options through untouched', async () => {
    const r = await cli(['run', '--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', '--json', '--order', 'x'], { ECS_CONTAINER_METADATA_FILE: metadataPath });
    expect(JSON.parse(r.stdout)).toEqual(['--json', '--order', 'x']);
  });

  it('passes the app\'s exit code through', async () => {
    expect((await cli(['run', '--', process.execPath, '-e', 'process.exit(42)'], {})).code).toBe(42);
  });

  it('forwards SIGTERM to the app, which can shut down cleanly', async () => {
    const app = "process.on('SIGTERM', () => { process.stdout.write(' got SIGTERM'); process.exit(7); }); process.stdout.write('ready'); setInterval(() => {}, 1000);";
    const r = await cli(['run', '--', process.execPath, '-e', app], {}, (pid) => process.kill(pid, 'SIGTERM'));
    expect(r.stdout).toBe('ready got SIGTERM');
    expect(r.code).toBe(7);
  });

  it('dies of the same signal as the app', async () => {
    const r = await cli(['run', '--', process.execPath, '-e', "process.stdout.write('ready'); process.kill(process.pid, 'SIGKILL')"], {});
    expect(r.signal).toBe('SIGKILL');
  });

  it('answers 127 for a command that does not exist', async () => {
    const r = await cli(['run', '--', 'no-such-command-ecs-trace'], {});
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('ecs-trace run: cannot start "no-such-command-ecs-trace": command not found');
  });

  it('starts the app on loopback when nothing is found, and says why on stderr', async () => {
    const r = await cli(['run', '--', process.execPath, '-e', printEnv], { ECS_CONTAINER_METADATA_FILE: join(dir, 'absent.json'), ECS_TRACE_DISCOVERY_TIMEOUT: '200' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ host: '127.0.0.1' });
    expect(r.stderr).toContain('ecs-trace run: no agent host found; the app starts with DD_AGENT_HOST=127.0.0.1. Tried:');
    expect(r.stderr).toContain(`metadata-file: ${join(dir, 'absent.json')} does not exist`);
    expect(r.stderr).toContain('imdsv2: AWS_EC2_METADATA_DISABLED is true');
  });

  it('replaces a DD_AGENT_HOST that holds an error page, and says so', async () => {
    const r = await cli(['run', '--', process.execPath, '-e', printEnv], { ECS_CONTAINER_METADATA_FILE: metadataPath, DD_AGENT_HOST: '<html>401 - Unauthorized</html>' });
    expect(JSON.parse(r.stdout)).toMatchObject({ host: '127.0.0.5' });
    expect(r.stderr).toContain('DD_AGENT_HOST held "<html>401 - Unauthorized</html>", which is not a host; replaced with 127.0.0.5 (from metadata-file)');
  });
});

describe('ecs-trace discover', () => {
  it('prints the host alone, for shells', async () => {
    const r = await cli(['discover'], { ECS_CONTAINER_METADATA_FILE: metadataPath });
    expect(r).toMatchObject({ code: 0, stdout: '127.0.0.5\n', stderr: '' });
  });

  it('prints the whole result with --json', async () => {
    const r = await cli(['discover', '--json', '--order', 'metadata-file'], { ECS_CONTAINER_METADATA_FILE: metadataPath });
    expect(JSON.parse(r.stdout)).toMatchObject({ host: '127.0.0.5', source: 'metadata-file', tried: [{ source: 'metadata-file', outcome: 'found' }] });
  });

  it('refuses an unknown source in --order', async () => {
    const r = await cli(['discover', '--order', 'imdsv3'], {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--order: unknown source "imdsv3"; use env, uds, fargate, metadata-file, imdsv2, imdsv1, loopback');
  });
});
