import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator, type SimulatorOptions } from '@ecs-trace/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { waitForTrace } from './traces.js';

/*
 * The whole ECS flow on one machine: the simulator plays the EC2 host, the agent listens on the
 * host's "private IP" (127.0.0.3, where dd-trace's default 127.0.0.1 would not reach it), and an
 * app using the real dd-trace with no address configured is started by `ecs-trace run`.
 */

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const APP = fileURLToPath(new URL('./apps/dd-trace-app.cjs', import.meta.url));
const HOST_IP = '127.0.0.3';

interface Trace { summary: { spanCount: number; rootService: string }; spans: unknown[] }
interface Launched { resolution: { source: string; host: string; url: string }; app: { traceId: string } }

function launch(env: Record<string, string>): Promise<Launched> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '--json', '--', process.execPath, APP], { env: { PATH: process.env['PATH'] ?? '', ECS_TRACE_APM_SOCKET: '/nonexistent/ecs-trace-test/apm.socket', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`ecs-trace run exited ${code}: ${err}`));
      const line = err.split('\n').find((l) => l.startsWith('{"host"'));
      if (!line) return reject(new Error(`no resolution printed: ${err}`));
      resolve({ resolution: JSON.parse(line) as Launched['resolution'], app: JSON.parse(out.trim().split('\n').pop()!) as Launched['app'] });
    });
  });
}

describe('ecs-trace run with the agent\'s unix socket (a host volume shared with the agent)', () => {
  let agent: TestAgent;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecs-trace-uds-'));
    agent = await startTestAgent({ DD_APM_RECEIVER_SOCKET: join(dir, 'apm.socket') });
  });
  afterAll(async () => {
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('points the real dd-trace at the socket with DD_TRACE_AGENT_URL, and the trace arrives', async () => {
    const socket = join(dir, 'apm.socket');
    const { resolution, app } = await launch({ ECS_TRACE_APM_SOCKET: socket, AWS_EC2_METADATA_DISABLED: 'true' });
    expect(resolution).toMatchObject({ source: 'uds', host: '', url: `unix://${socket}` });
    const trace = await waitForTrace<Trace>(agent.apiUrl, app.traceId, 6);
    expect(trace.summary).toMatchObject({ spanCount: 6, rootService: 'e2e-checkout' });
  });
});

const cases: [string, SimulatorOptions][] = [
  ['metadata-file', { imds: { mode: 'off' }, metadataFiles: { readyAfterMs: 200 } }],
  ['imdsv2', { imds: { mode: 'v2-required' }, metadataFiles: false }],
  ['imdsv1', { imds: { mode: 'v1' }, metadataFiles: false }],
];

describe.each(cases)('ecs-trace run with the host found by %s', (source, simOptions) => {
  let agent: TestAgent;
  let sim: Simulator;
  beforeAll(async () => {
    agent = await startTestAgent({ DD_BIND_HOST: HOST_IP });
    sim = await startSimulator({ localIpv4: HOST_IP, ...simOptions });
  });
  afterAll(async () => {
    await sim?.close();
    await agent?.close();
  });

  it('the real dd-trace, given no address, reaches the agent on the host IP', async () => {
    const env = { ...sim.containerEnv('checkout/web'), DD_TRACE_AGENT_PORT: String(agent.receiver!.port) };
    const { resolution, app } = await launch(env);
    expect(resolution).toMatchObject({ source, host: HOST_IP, url: `http://${HOST_IP}:${agent.receiver!.port}` });
    const trace = await waitForTrace<Trace>(agent.apiUrl, app.traceId, 6);
    expect(trace.summary).toMatchObject({ spanCount: 6, rootService: 'e2e-checkout' });
  });
});
