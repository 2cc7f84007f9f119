import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeV04 } from '@ecs-trace/protocol';
import { createLogger, loadConfig, startAgent } from '@ecs-trace/agent';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../packages/agent/src/store/postgres/test-server.js';

/*
 * One PostgreSQL for two hosts: two agents (each its own data directory, as on two EC2 hosts)
 * store into the same database. Two services traced by the real dd-trace call each other, each
 * sending to a different agent; either agent's API then shows the trace whole, with its parentage
 * across the hosts, and both services in its services list.
 */

const SERVER = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));
const run = componentsAvailable(postgresUnavailable(), 'PostgreSQL cluster tests');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const UI_BUILT = existsSync(fileURLToPath(new URL('../packages/ui/dist/index.html', import.meta.url)));
const browserReady = run && componentsAvailable(!existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : !UI_BUILT ? 'the UI is not built (npm run build)' : undefined, 'the cluster\'s browser test');

interface ApiSpan { spanId: string; parentId: string; service: string; name: string }

function service(name: string, agent: TestAgent): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', APP_SERVICE: name, DD_TRACE_AGENT_URL: agent.intake }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: (JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

describe.runIf(run)('two agents, one PostgreSQL', () => {
  let pg: TestPostgres;
  let a: TestAgent;
  let b: TestAgent;
  let clusterUrl = '';
  /** The trace of the first test, which crossed the two hosts. */
  let crossHostTrace = '';
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    pg = startTestPostgres(16_000 + (process.pid % 5000));
    clusterUrl = pg.database('cluster');
    a = await startTestAgent({ ECS_TRACE_STORE: clusterUrl });
    b = await startTestAgent({ ECS_TRACE_STORE: clusterUrl });
  }, 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await a?.close();
    await b?.close();
    pg?.stop();
  });

  it('shows a trace whose services sent to different agents whole, parentage across hosts included', async () => {
    const back = await service('cluster-back', b);
    const front = await service('cluster-front', a);
    children.push(back.child, front.child);
    expect((await fetch(`http://127.0.0.1:${front.port}/call?to=${encodeURIComponent(`http://127.0.0.1:${back.port}/leaf`)}`)).status).toBe(200);

    // The front's root, found through agent A; the whole trace read through agent B.
    let spans: ApiSpan[] = [];
    for (let i = 0; i < 100 && new Set(spans.map((s) => s.service)).size < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const list = (await (await fetch(`${a.apiUrl}/api/v1/traces?service=cluster-front&limit=1`)).json()) as { traces: { traceId: string }[] };
      if (list.traces.length === 0) continue;
      crossHostTrace = list.traces[0]!.traceId;
      const t = await fetch(`${b.apiUrl}/api/v1/traces/${list.traces[0]!.traceId}`);
      if (t.status === 200) spans = ((await t.json()) as { spans: ApiSpan[] }).spans;
    }
    const client = spans.find((s) => s.service === 'cluster-front' && s.name === 'http.request')!;
    const server = spans.find((s) => s.service === 'cluster-back' && s.name === 'web.request')!;
    expect(client).toBeDefined();
    expect(server).toBeDefined();
    expect(server.parentId).toBe(client.spanId);
  }, 30_000);

  it('lists both services on either agent once their stats are stored', async () => {
    // Stats buckets are stored when they close (10 s) or when an agent stops.
    await a.close();
    const names = async () => ((await (await fetch(`${b.apiUrl}/api/v1/services`)).json()) as { services: { service: string }[] }).services.map((s) => s.service);
    let seen: string[] = [];
    for (let i = 0; i < 150 && !(seen.includes('cluster-front') && seen.includes('cluster-back')); i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await names();
    }
    expect(seen).toEqual(expect.arrayContaining(['cluster-front', 'cluster-back']));
  }, 30_000);

  it('never writes the store password to its output', async () => {
    const url = pg.database('masked').replace('postgres@', 'postgres:hunter2-very-secret@');
    const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
    const dataDir = mkdtempSync(join(tmpdir(), 'ecs-trace-masked-'));
    const agent = spawn(process.execPath, [BIN, 'agent', '--store', url, '--data-dir', dataDir, '--api-port', '18981'], {
      env: { PATH: process.env['PATH'] ?? '', DD_APM_RECEIVER_PORT: '18980', DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    agent.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    agent.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    for (let i = 0; i < 100 && !out.includes('query API listening'); i++) await new Promise((r) => setTimeout(r, 50));
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    expect(out).toContain('storing traces in PostgreSQL');
    expect(out).toContain('postgres:***@127.0.0.1');
    expect(out).not.toContain('hunter2-very-secret');
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('acknowledges traces through a database outage, and ships every one once it is back', async () => {
    const url = pg.database('outage');
    const agent = await startTestAgent({ ECS_TRACE_STORE: url });
    try {
      const ids: bigint[] = [];
      const send = async (id: bigint) => {
        const span = { service: 'outage', name: 'web.request', resource: 'GET /', type: 'web', traceId: id, spanId: 1n, parentId: 0n, start: BigInt(Date.now()) * 1_000_000n, duration: 1000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 2 } };
        const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[span]]) });
        expect(res.status).toBe(200);
        ids.push(id);
      };
      await send(0xa001n);
      pg.pause();
      const down = Date.now();
      try {
        // Over 10 s of outage, a payload every 250 ms, each acknowledged.
        for (let i = 2n; Date.now() - down < 10_500; i++) {
          await send(0xa000n + i);
          await new Promise((r) => setTimeout(r, 250));
        }
        const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
        expect(Number(/^ecs_trace_store_spool_bytes (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      } finally {
        pg.resume();
      }
      expect(ids.length).toBeGreaterThan(30);
      for (const id of ids) {
        let status = 0;
        for (let i = 0; i < 150 && status !== 200; i++) {
          status = (await fetch(`${agent.apiUrl}/api/v1/traces/${id}`)).status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 100));
        }
        expect([id.toString(16), status]).toEqual([id.toString(16), 200]);
      }
    } finally {
      await agent.close();
    }
  }, 60_000);

  it('starts on its spool while the database is down, stays healthy, and ships once it is back', async () => {
    const url = pg.database('late');
    pg.pause();
    let agent: TestAgent | undefined;
    try {
      agent = await startTestAgent({ ECS_TRACE_STORE: url });
      const span = { service: 'late', name: 'web.request', resource: 'GET /', type: 'web', traceId: 0xc001n, spanId: 1n, parentId: 0n, start: BigInt(Date.now()) * 1_000_000n, duration: 1000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 2 } };
      expect((await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[span]]) })).status).toBe(200);
      // A load balancer's health check keeps the agent: nothing acknowledged is being lost.
      const health = await fetch(`${agent.apiUrl}/healthz`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as { status: string; problem: string; store: { status: string; diskBytes?: number } };
      expect(body.status).toBe('ok');
      expect(body.store.status).toMatch(/^unreachable, spooling, [1-9]\d* bytes$/);
      expect(body.store.diskBytes).toBeUndefined();
      expect(body.problem).toMatch(/^the store at postgres:\/\/postgres@127\.0\.0\.1:\d+\/late is unreachable: .*ECONNREFUSED/);
      // Reads say why they cannot be answered.
      const read = await fetch(`${agent.apiUrl}/api/v1/services`);
      expect(read.status).toBe(503);
      expect(((await read.json()) as { error: string }).error).toMatch(/^the store at postgres:\/\/postgres@127\.0\.0\.1:\d+\/late is unreachable \(.*ECONNREFUSED.*\); retrying in the background$/);
    } finally {
      pg.resume();
    }
    try {
      let status = 0;
      for (let i = 0; i < 300 && status !== 200; i++) {
        status = (await fetch(`${agent.apiUrl}/api/v1/traces/${0xc001n}`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      const healed = (await (await fetch(`${agent.apiUrl}/healthz`)).json()) as { store: { status: string; spans: number } };
      expect(healed.store).toMatchObject({ status: 'ok', spans: 1 });
    } finally {
      await agent?.close();
    }
  }, 60_000);

  it('ecs-trace ui answers 503 with the reason while the database is down, and /healthz says so', async () => {
    const url = pg.database('ui_outage');
    const token = 'ui-outage-token-0123456789';
    pg.pause();
    try {
      const config = loadConfig({ env: { ECS_TRACE_STORE: url, ECS_TRACE_API_TOKEN: token, DD_LOG_LEVEL: 'off' } });
      const ui = await startAgent(config, { role: 'ui', ephemeralPorts: true, containerized: false, env: {}, log: createLogger('off') });
      try {
        const base = `http://127.0.0.1:${ui.api.port}`;
        const auth = { Authorization: `Bearer ${token}` };
        const services = await fetch(`${base}/api/v1/services`, { headers: auth });
        expect(services.status).toBe(503);
        expect(((await services.json()) as { error: string }).error).toMatch(/\/ui_outage is unreachable \(/);
        const health = await fetch(`${base}/healthz`, { headers: auth });
        expect(health.status).toBe(503);
        expect(await health.json()).toMatchObject({ status: 'error', store: { status: 'unreachable' }, problem: expect.stringMatching(/ui_outage is unreachable: /) });
        expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'error' });
      } finally {
        await ui.close();
      }
    } finally {
      pg.resume();
    }
  }, 60_000);

  it('ships a spool left by an agent killed with -9 when it starts again', async () => {
    const url = pg.database('killed');
    const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
    const dataDir = mkdtempSync(join(tmpdir(), 'ecs-trace-spool-'));
    const start = () => spawn(process.execPath, [BIN, 'agent', '--store', url, '--data-dir', dataDir, '--api-port', '18995'], {
      env: { PATH: process.env['PATH'] ?? '', DD_APM_RECEIVER_PORT: '18994', DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'error' }, stdio: 'ignore',
    });
    const up = async () => {
      for (let i = 0; i < 100; i++) {
        try { if ((await fetch('http://127.0.0.1:18995/healthz')).ok) return; } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('agent did not start');
    };
    let agent = start();
    await up();
    pg.pause();
    const span = { service: 'killed', name: 'web.request', resource: 'GET /', type: 'web', traceId: 0xb001n, spanId: 1n, parentId: 0n, start: BigInt(Date.now()) * 1_000_000n, duration: 1000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 2 } };
    try {
      expect((await fetch('http://127.0.0.1:18994/v0.4/traces', { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[span]]) })).status).toBe(200);
      agent.kill('SIGKILL');
      await new Promise((r) => agent.once('exit', r));
    } finally {
      pg.resume();
    }
    agent = start();
    try {
      await up();
      let status = 0;
      for (let i = 0; i < 150 && status !== 200; i++) {
        status = (await fetch(`http://127.0.0.1:18995/api/v1/traces/${0xb001n}`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      agent.kill('SIGTERM');
      await new Promise((r) => agent.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('ecs-trace store status and migrate show and apply the schema', () => {
    const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
    const url = pg.database('migrations');
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'store', ...args, '--store', url], { encoding: 'utf8' });
    const first = cli('status');
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('schema 0 of 12 (12 to apply: ecs-trace store migrate)\n');
    expect(cli('migrate').stdout).toBe('schema 12 of 12 (up to date)\n');
    expect(cli('status').stdout).toBe('schema 12 of 12 (up to date)\n');
  });

  it('ecs-trace ui serves the cluster without intake, behind its token', async () => {
    const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
    const url = clusterUrl;
    const open = spawnSync(process.execPath, [BIN, 'ui', '--store', url, '--api-host', '0.0.0.0', '--api-port', '18991'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect(open.status).toBe(2);
    expect(open.stderr).toContain('ECS_TRACE_API_HOST=0.0.0.0 opens the API and UI beyond loopback: set ECS_TRACE_API_TOKEN');
    // Both agents stopped: their last stats buckets are in the database.
    await a.close();
    await b.close();
    const token = 'cluster-ui-token-0123456789';
    const ui = spawn(process.execPath, [BIN, 'ui', '--store', url, '--api-port', '18992'], { env: { PATH: process.env['PATH'] ?? '', ECS_TRACE_API_TOKEN: token, DD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    ui.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      for (let i = 0; i < 100 && !err.includes('web UI'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(err).toContain('ui: the query API and web UI of a shared store');
      // A UI replica neither takes traces nor spools: nothing of either, nor a warning about it.
      expect(err).not.toMatch(/intake|spool|DD_APM_ENABLED/);
      expect((await fetch('http://127.0.0.1:18992/api/v1/services')).status).toBe(401);
      const services = (await (await fetch('http://127.0.0.1:18992/api/v1/services', { headers: { Authorization: `Bearer ${token}` } })).json()) as { services: { service: string }[] };
      expect(services.services.map((s) => s.service)).toEqual(expect.arrayContaining(['cluster-front', 'cluster-back']));
      if (browserReady) {
        // A person signs in to the UI service and opens the trace that crossed the two hosts.
        const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
        try {
          const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
          await page.goto(`http://127.0.0.1:18992/traces/${crossHostTrace}`);
          await page.getByTestId('sign-in').waitFor();
          await page.getByLabel('API token').fill(token);
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page.getByTestId('trace-spans').waitFor();
          expect(await page.getByTestId('trace-root').locator('strong').innerText()).toMatch(/^cluster-front /);
          await page.getByRole('button', { name: 'By service' }).click();
          const listed = await page.getByTestId('span-list').locator('tbody tr td:first-child').allInnerTexts();
          expect([...new Set(listed)].sort()).toEqual(['cluster-back', 'cluster-front']);
          // The critical path: the trace waited on both hosts' services, marked in the waterfall.
          const critical = page.getByTestId('critical-path');
          const rows = await critical.locator('tbody tr td:first-child').allInnerTexts();
          expect([...rows].sort()).toEqual(['cluster-back', 'cluster-front']);
          const shares = (await critical.locator('tbody tr td:last-child').allInnerTexts()).map((t) => Number.parseFloat(t));
          expect(Math.round(shares.reduce((a, b) => a + b, 0))).toBe(100);
          await page.getByRole('button', { name: 'Waterfall' }).click();
          expect(await page.locator('.wf-row.crit').count()).toBeGreaterThanOrEqual(2);
          mkdirSync(fileURLToPath(new URL('./screenshots/', import.meta.url)), { recursive: true });
          await page.screenshot({ path: fileURLToPath(new URL('./screenshots/cluster-trace.png', import.meta.url)), fullPage: true });
        } finally {
          await browser.close();
        }
      }
    } finally {
      ui.kill('SIGTERM');
      await new Promise((r) => ui.once('exit', r));
    }
    const local = spawnSync(process.execPath, [BIN, 'ui', '--api-port', '18993'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    expect(local.status).toBe(1);
    expect(local.stderr).toContain('ecs-trace ui serves a shared store: give --store postgres://');
  }, 30_000);
});
