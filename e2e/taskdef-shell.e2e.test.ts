import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTaskDefinition, patchAppTaskDefinition, type ShellMode } from '@ecs-trace/taskdef';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, requireNamespaces } from './netns.js';

/*
 * Every shell form `taskdef app` writes, run by sh as Docker would run it (entryPoint ++ command)
 * inside a network namespace where the simulator is IMDS at 169.254.169.254:80 and writes the
 * container metadata files: the quoting is proven by running it.
 */

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const HOST_IP = '169.254.10.10';
// The app: prints what it got. `$HOME` and the spaces must reach it literally.
const PRINT = 'process.stdout.write(JSON.stringify({ host: process.env.DD_AGENT_HOST ?? null, pid: process.pid, args: process.argv.slice(1) }))';

function argvFor(mode: ShellMode): string[] {
  const { doc } = parseTaskDefinition(JSON.stringify({
    family: 'app',
    containerDefinitions: [{ name: 'web', image: 'app:1', memory: 128, entryPoint: [process.execPath], command: ['-e', PRINT, 'two words', '$HOME', '"q"'] }],
  }));
  const c = patchAppTaskDefinition(doc, { container: 'web', discovery: mode }).doc.containerDefinitions![0]!;
  return [...c.entryPoint!, ...(c.command ?? [])];
}

interface AppSaw { host: string | null; pid: number; args: string[] }

/** Runs a container's argv in the namespace; the app must be the very process started (exec). */
function runContainer(ns: Netns, argv: string[], env: Record<string, string>): Promise<{ saw: AppSaw; pid: number }> {
  return new Promise((resolve, reject) => {
    // `ip netns exec` execs in place, so the pid is the shell's, then the app's.
    const child = spawn('ip', ['netns', 'exec', ns.name, ...argv], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`exit ${code}: ${err}`));
      resolve({ saw: JSON.parse(out) as AppSaw, pid: child.pid! });
    });
  });
}

const enabled = requireNamespaces();

describe.skipIf(!enabled).each([
  ['v2-required'],
  ['v2-optional'],
])('taskdef shell forms run by sh, IMDS %s', (imdsMode) => {
  let host: Netns;
  let sim: ChildProcess;
  let containerEnv: Record<string, string>;

  beforeAll(async () => {
    host = new Netns('host');
    host.ip('addr', 'add', '169.254.169.254/32', 'dev', 'lo');
    const started = await host.start(process.execPath, [BIN, 'simulate', '--imds', imdsMode, '--imds-host', '169.254.169.254', '--imds-port', '80', '--ecs-port', '0', '--local-ipv4', HOST_IP, '--ready-after', '0', '--json']);
    sim = started.child;
    const info = JSON.parse(started.firstLine) as { containers: Record<string, Record<string, string>> };
    // The variables ECS gives the container, less the simulator's endpoint: the forms use the real address.
    const env = { ...info.containers['checkout/web']! };
    delete env['AWS_EC2_METADATA_SERVICE_ENDPOINT'];
    containerEnv = env;
    // Wait until the metadata file is READY.
    for (let i = 0; i < 50 && !readFileSync(env['ECS_CONTAINER_METADATA_FILE']!, 'utf8').includes('READY'); i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(() => {
    sim?.kill('SIGTERM');
    host?.delete();
  });

  const expected = (mode: ShellMode) => (mode === 'imdsv1' && imdsMode === 'v2-required' ? null : HOST_IP);

  it.each(['metadata-file', 'imdsv2', 'imdsv1'] as ShellMode[])('%s: exports the host IP, execs the app, passes the command through', async (mode) => {
    const { saw, pid } = await runContainer(host, argvFor(mode), containerEnv);
    // IMDSv1 where IMDSv2 is required: unset, never the 401 page (curl -f).
    expect(saw.host).toBe(expected(mode));
    expect(saw.args).toEqual(['two words', '$HOME', '"q"']);
    expect(saw.pid).toBe(pid);
  });

  it.each(['metadata-file', 'imdsv2', 'imdsv1'] as ShellMode[])('%s: leaves a DD_AGENT_HOST the user set alone', async (mode) => {
    const { saw } = await runContainer(host, argvFor(mode), { ...containerEnv, DD_AGENT_HOST: 'agent.internal' });
    expect(saw.host).toBe('agent.internal');
  });
});
