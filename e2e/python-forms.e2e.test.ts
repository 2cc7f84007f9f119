import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseTaskDefinition, patchAppTaskDefinition } from '@ecs-trace/taskdef';
import { startSimulator, type Simulator } from '@ecs-trace/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { appMissing, BUILD, LANGUAGES, randomId, startApp, tracedRequest } from './languages.js';
import { twice, waitForTrace } from './traces.js';

/*
 * The ECS guide's Python forms with the real ddtrace: `ddtrace-run` behind the entryPoint shell
 * form that `ecs-trace taskdef app` writes (run by sh as Docker runs entryPoint ++ command), and
 * the in-code form. The agent listens only on the host's "private IP".
 */

const HOST_IP = '127.0.0.3';
const INCODE = fileURLToPath(new URL('./apps/python/incode.py', import.meta.url));

interface ApiTrace { spans: { name: string; service: string; resource: string }[] }

describe.skipIf(!componentsAvailable(appMissing('python'), 'Python form e2e tests'))('the guide\'s Python forms with the real ddtrace', () => {
  let agent: TestAgent;
  let sim: Simulator;
  beforeAll(async () => {
    agent = await startTestAgent({ DD_BIND_HOST: HOST_IP });
    sim = await startSimulator({ localIpv4: HOST_IP, imds: { mode: 'v2-required' }, metadataFiles: { readyAfterMs: 200 } });
  });
  afterAll(async () => {
    await sim?.close();
    await agent?.close();
  });

  it('ddtrace-run behind the metadata-file shell form of taskdef app: the app is exec\'ed with DD_AGENT_HOST set', () => twice(async () => {
    const { doc } = parseTaskDefinition(JSON.stringify({
      family: 'storefront',
      containerDefinitions: [{ name: 'web', image: 'storefront:1', memory: 256, command: LANGUAGES.python.argv }],
    }));
    const c = patchAppTaskDefinition(doc, { container: 'web', discovery: 'metadata-file', imageEntrypoint: [] }).doc.containerDefinitions![0]!;
    const argv = [...c.entryPoint!, ...(c.command ?? [])];
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    const app = await startApp(argv, { ...sim.containerEnv('checkout/web'), ...LANGUAGES.python.env, DD_SERVICE: 'shell-form', DD_TRACE_AGENT_PORT: String(agent.receiver!.port) });
    const t = randomId();
    try {
      expect(await tracedRequest(`http://127.0.0.1:${app.port}/work`, t.id, 3n)).toBe(200);
      const trace = await waitForTrace<ApiTrace>(agent.apiUrl, t.hex, 2, 30_000);
      expect(trace.spans.find((s) => s.name === 'wsgi.request')).toMatchObject({ service: 'shell-form', resource: 'GET /work' });
      // exec: the process sh started is the Python app itself, which docker stop's SIGTERM reaches.
      const comm = await new Promise<string>((resolve) => {
        const ps = spawn('ps', ['-o', 'comm=', '-p', String(app.child.pid)]);
        let out = '';
        ps.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        ps.on('exit', () => resolve(out.trim()));
      });
      expect(comm).toMatch(/^python/);
    } finally {
      await app.stop();
    }
  }), 120_000);

  it('the in-code form: tracer.configure(hostname=) is refused by this ddtrace; DD_AGENT_HOST set in code before the import works', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(`${BUILD}/python/bin/python`, [INCODE], {
        env: { PATH: process.env['PATH'] ?? '', AWS_EC2_METADATA_SERVICE_ENDPOINT: sim.imds.url, DD_TRACE_AGENT_PORT: String(agent.receiver!.port), DD_ENV: 'e2e' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`incode.py exited ${code}: ${stderr}`))));
    });
    const result = JSON.parse(out.trim().split('\n').pop()!) as { traceId: string; configure_hostname: string | null };
    expect(result.configure_hostname).toMatch(/^TypeError: .*hostname/);
    const trace = await waitForTrace<ApiTrace>(agent.apiUrl, result.traceId, 1, 30_000);
    expect(trace.spans[0]).toMatchObject({ name: 'incode.job', service: 'incode', resource: 'nightly' });
  }, 60_000);
});
