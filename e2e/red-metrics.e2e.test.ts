import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { emfSpecViolations } from './emf-spec.js';
import { freePort } from './ports.js';
import { BUILD } from './languages.js';

/*
 * RED metrics for Prometheus: the real dd-trace's requests through an agent, scraped from
 * /metrics/red and read by the Prometheus project's OpenMetrics parser (prometheus-client, from
 * PyPI: e2e/apps/prepare.sh pytools), which refuses what the format does not allow.
 */

const SERVER = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));
const PARSER = fileURLToPath(new URL('./apps/pytools/openmetrics.py', import.meta.url));
const PYTHON = `${BUILD}/pytools/bin/python`;
const run = componentsAvailable(existsSync(PYTHON) ? undefined : `no Python tools (${PYTHON}): bash e2e/apps/prepare.sh pytools`, 'OpenMetrics parser tests');

interface Sample { family: string; type: string; unit: string; name: string; labels: Record<string, string>; value: number }

describe.runIf(run)('RED metrics (/metrics/red)', () => {
  it("count the real dd-trace's requests and errors, with a latency histogram Prometheus's parser accepts", async () => {
    const agent = await startTestAgent();
    const app = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'red-shop', DD_ENV: 'e2e' }, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((resolve) => app.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      for (let i = 0; i < 8; i++) expect((await fetch(`http://127.0.0.1:${port}/leaf${i < 3 ? '?fail=1' : ''}`)).status).toBe(i < 3 ? 500 : 200);
      let samples: Sample[] = [];
      const of = (name: string, cls: string) => samples.filter((s) => s.name === name && s.labels['service'] === 'red-shop' && s.labels['status_class'] === cls);
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${agent.apiUrl}/metrics/red`);
        expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
        const parsed = spawnSync(PYTHON, [PARSER], { input: await res.text(), encoding: 'utf8' });
        expect(parsed.stderr).toBe('');
        samples = parsed.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Sample);
        if ((of('ecs_trace_requests_total', '2xx')[0]?.value ?? 0) + (of('ecs_trace_requests_total', '5xx')[0]?.value ?? 0) >= 8) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(of('ecs_trace_requests_total', '2xx').map((s) => [s.labels['env'], s.labels['resource'], s.value])).toEqual([['e2e', 'GET', 5]]); // dd-trace names a plain http server's requests by method
      expect(of('ecs_trace_requests_total', '5xx')[0]!.value).toBe(3);
      expect(of('ecs_trace_errors_total', '5xx')[0]!.value).toBe(3);
      expect(of('ecs_trace_errors_total', '2xx')[0]!.value).toBe(0);
      const buckets = of('ecs_trace_request_duration_seconds_bucket', '2xx');
      expect(buckets.at(-1)).toMatchObject({ labels: expect.objectContaining({ le: '+Inf' }), value: 5 });
      expect(samples.find((s) => s.family === 'ecs_trace_request_duration_seconds')).toMatchObject({ type: 'histogram', unit: 'seconds' });
      expect(of('ecs_trace_request_duration_seconds_count', '2xx')[0]!.value).toBe(5);
    } finally {
      app.kill('SIGKILL');
      await agent.close();
    }
  }, 60_000);
});

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));

describe('CloudWatch EMF lines (ECS_TRACE_EMF_NAMESPACE)', () => {
  it("are written on stdout for the real dd-trace's requests, each as the EMF specification asks", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-emf-'));
    const receiverPort = await freePort();
    const agent = spawn(process.execPath, [BIN, 'agent', '--data-dir', dir, '--receiver-port', String(receiverPort), '--api-port', '0', '--emf-namespace', 'ecs-trace/e2e'], { env: { PATH: process.env['PATH'] ?? '', DD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    agent.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    agent.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      // The banner comes once it listens.
      for (let i = 0; i < 100 && !err.includes('web UI'); i++) await new Promise((r) => setTimeout(r, 100));
      const intake = `http://127.0.0.1:${receiverPort}`;
      const app = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: intake, APP_SERVICE: 'emf-shop', DD_ENV: 'e2e' }, stdio: ['ignore', 'pipe', 'ignore'] });
      const port = await new Promise<number>((resolve) => app.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      for (let i = 0; i < 4; i++) await fetch(`http://127.0.0.1:${port}/leaf${i === 0 ? '?fail=1' : ''}`);
      app.kill('SIGTERM');
      await new Promise((r) => app.once('exit', r));
    } finally {
      // Shutdown flushes the open stats buckets: their EMF lines with them.
      agent.kill('SIGTERM');
      await new Promise((r) => agent.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
    const lines = out.split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    // The service's requests are its web.request entry spans (dd-trace has others at times).
    const shop = lines.filter((l) => l['Service'] === 'emf-shop' && l['Operation'] === 'web.request');
    expect(shop.reduce((n, l) => n + (l['Requests'] as number), 0)).toBe(4);
    expect(shop.reduce((n, l) => n + (l['Errors'] as number), 0)).toBe(1);
    for (const l of lines) expect(emfSpecViolations(l)).toEqual([]);
    expect((shop[0]!['_aws'] as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]!.Namespace).toBe('ecs-trace/e2e');
  }, 60_000);
});
