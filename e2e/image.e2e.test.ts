import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentsAvailable } from './components.js';
import { waitForTrace } from './traces.js';

/*
 * The agent image built from deploy/Dockerfile (scripts/build-image.sh, which .ci/run runs),
 * started as its ENTRYPOINT and CMD say, as the unprivileged user it names: the real dd-trace
 * sends it a trace, the query API serves the trace and the image's own web UI is served.
 * buildah runs it with chroot isolation (no OCI runtime, which cannot start here), sharing the
 * host's network, so the ports are the test's own.
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
const IMAGE = `localhost/ecs-trace/agent:${VERSION}`;
const APP = fileURLToPath(new URL('./apps/dd-trace-app.cjs', import.meta.url));
const INTAKE = 18_960;
const API = 18_961;

function imageMissing(): string | undefined {
  try {
    execFileSync('buildah', ['inspect', '--type', 'image', IMAGE], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `no ${IMAGE} image (root and buildah needed; scripts/build-image.sh builds it)`;
  }
}

const run = componentsAvailable(imageMissing(), 'image tests');

describe.runIf(run)('the agent image', () => {
  let container = '';
  let agent: ChildProcess | undefined;
  let err = '';

  beforeAll(async () => {
    container = execFileSync('buildah', ['from', IMAGE], { encoding: 'utf8' }).trim();
    const config = (JSON.parse(execFileSync('buildah', ['inspect', '--type', 'container', container], { encoding: 'utf8' })) as { OCIv1: { config: { Entrypoint: string[]; Cmd: string[] } } }).OCIv1.config;
    const env = [`DD_APM_RECEIVER_PORT=${INTAKE}`, `ECS_TRACE_API_PORT=${API}`, 'DD_APM_NON_LOCAL_TRAFFIC=false'].flatMap((e) => ['--env', e]);
    agent = spawn('buildah', ['run', '--isolation', 'chroot', '--network', 'host', ...env, container, '--', ...config.Entrypoint, ...config.Cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    agent.stdout!.resume();
    for (let i = 0; i < 300; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${API}/healthz`)).ok) return;
      } catch {
        // Not up yet.
      }
      if (agent.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the image's agent did not start: ${err}`);
  }, 60_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((r) => agent!.once('exit', r));
    }
    if (container) execFileSync('buildah', ['rm', container], { stdio: 'ignore' });
  });

  it('runs as the unprivileged user its Dockerfile names, and says its version', () => {
    expect(err).toContain(`ecs-trace ${VERSION} agent`);
    const pid = execFileSync('pgrep', ['-f', 'ecs-trace agent'], { encoding: 'utf8' }).trim().split('\n')
      .find((p) => readFileSync(`/proc/${p}/environ`, 'utf8').includes(`ECS_TRACE_API_PORT=${API}`))!;
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]).toBe('1000');
  });

  it('takes a trace from the real dd-trace and serves it, and serves its web UI', async () => {
    const out = execFileSync(process.execPath, [APP], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: `http://127.0.0.1:${INTAKE}` }, encoding: 'utf8' });
    const { traceId } = JSON.parse(out.trim().split('\n').pop()!) as { traceId: string };
    const trace = await waitForTrace<{ spans: { service: string }[] }>(`http://127.0.0.1:${API}`, traceId, 6);
    expect(trace.spans.map((s) => s.service)).toContain('e2e-checkout');
    const page = await fetch(`http://127.0.0.1:${API}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>ecs-trace</title>');
  }, 30_000);
});
