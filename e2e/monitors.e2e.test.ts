import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from '@ecs-trace/agent/testing';
import { startWebhook } from './webhook.js';

/*
 * Monitors in a running agent: the real dd-trace serves requests, some failing; the agent's
 * monitor on the service's error rate alerts and posts the alert to a webhook (on loopback); the
 * API shows the monitor, its state and the transition. A bad monitors file stops the agent at
 * start, naming its field.
 */

const SERVER = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));
const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'ecs-trace-monitors-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monitors in the agent', () => {
  it("alert on the real dd-trace's failing requests, post the alert to a webhook, and show it in the API", async () => {
    const hook = await startWebhook();
    type Post = { state: string; value: number; summary: string; monitor: { id: string } };
    /** What the webhook has been posted so far, read as JSON. */
    const posts = () => hook.posts.map((b) => JSON.parse(b) as Post);
    const file = join(dir, 'monitors.yaml');
    writeFileSync(file, `channels:
  - { name: hook, kind: webhook, url: "${hook.url}" }
monitors:
  - { id: shop-errors, name: Shop errors, service: monitored-shop, operation: web.request, metric: error_rate, window: 5m, critical: 30, min_requests: 6, notify: [hook] }
  - { id: shop-latency, service: monitored-shop, operation: web.request, metric: latency_p99, critical: 60000, notify: [hook] }
  - { id: shop-new-errors, service: monitored-shop, metric: new_error_group, window: 1h, notify: [hook] }
  - { id: shop-errors-muted, service: monitored-shop, operation: web.request, metric: error_rate, critical: 30, min_requests: 6, notify: [hook] }
`);
    const agent = await startTestAgent({ ECS_TRACE_MONITORS_FILE: file, ECS_TRACE_MONITORS_INTERVAL: '300ms' });
    // Muted for an hour before any traffic: it will alert, and tell nobody.
    const mute = (id: string, body: unknown) => fetch(`${agent.apiUrl}/api/v1/monitors/${id}/mute`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await mute('shop-errors-muted', { until: Date.now() + 3_600_000 })).status).toBe(200);
    const refused = await mute('shop-errors-muted', { until: 'tomorrow' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/^until: give a time \(ms since the epoch\) within the next 30 days, or null to unmute/);
    expect((await mute('nope', { until: null })).status).toBe(404);
    const app = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'monitored-shop' }, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((resolve) => app.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      // 6 requests, 3 failing: 50% errors (evaluated once all 6 are in: min_requests).
      for (let i = 0; i < 6; i++) expect((await fetch(`http://127.0.0.1:${port}/leaf${i % 2 ? '?fail=1' : ''}`)).status).toBe(i % 2 ? 500 : 200);
      for (let i = 0; i < 150 && !posts().some((p) => p.state === 'ALERT'); i++) await new Promise((r) => setTimeout(r, 100));
      const alert = posts().find((p) => p.monitor.id === 'shop-errors' && p.state === 'ALERT')!;
      expect(alert).toMatchObject({ state: 'ALERT', value: 50 });
      expect(alert.summary).toBe('[ALERT] Shop errors: error rate 50% (above 30%) over 5m on monitored-shop');
      // Once: the next rounds, still alerting, post nothing more.
      await new Promise((r) => setTimeout(r, 1000));
      expect(posts().filter((p) => p.monitor.id === 'shop-errors')).toHaveLength(1);
      type Monitors = { configured: boolean; monitors: { id: string; state: string; value: number | null; requests: number; history: { from: string | null; to: string; notified: boolean; sent: { ok: boolean }[] }[] }[] };
      const body = (await (await fetch(`${agent.apiUrl}/api/v1/monitors?service=monitored-shop`)).json()) as Monitors;
      expect(body.configured).toBe(true);
      const errors = body.monitors.find((m) => m.id === 'shop-errors')!;
      expect(errors).toMatchObject({ state: 'ALERT', value: 50, requests: 6 });
      // No data before the first requests (not told), then the alert (told, and taken by the webhook).
      expect(errors.history.map((h) => [h.from, h.to, h.notified, h.sent.map((s) => s.ok)])).toEqual([['NO DATA', 'ALERT', true, [true]], [null, 'NO DATA', false, []]]);
      expect(body.monitors.find((m) => m.id === 'shop-latency')).toMatchObject({ state: 'OK', requests: 6 });
      const muted = body.monitors.find((m) => m.id === 'shop-errors-muted')!;
      expect(muted).toMatchObject({ state: 'ALERT' });
      expect(muted.history.map((h) => [h.to, h.notified, h.sent.length])).toEqual([['ALERT', false, 0], ['NO DATA', false, 0]]);
      expect(posts().filter((p) => p.monitor.id === 'shop-errors-muted')).toEqual([]);
      // The failing query is an error group the service never had: its monitor fires once.
      expect(posts().filter((p) => p.monitor.id === 'shop-new-errors').map((p) => [p.state, p.value])).toEqual([['ALERT', 1]]);
      // The error rate falls (3 of 36, 8%; no warning threshold, so a round in between cannot be a warning): one recovery.
      for (let i = 0; i < 30; i++) expect((await fetch(`http://127.0.0.1:${port}/leaf`)).status).toBe(200);
      for (let i = 0; i < 150 && !posts().some((p) => p.monitor.id === 'shop-errors' && p.state === 'OK'); i++) await new Promise((r) => setTimeout(r, 100));
      const recovered = posts().filter((p) => p.monitor.id === 'shop-errors');
      expect(recovered.map((p) => p.state)).toEqual(['ALERT', 'OK']);
      // The round that sees it below 30% may come before all 36 are counted: 3 errors of however
      // many requests it had then (11 to 36), and said so.
      const ok = /^\[OK\] Shop errors: error rate (\d+(?:\.\d+)?)% \(back below 30%\) over 5m on monitored-shop$/.exec(recovered[1]!.summary);
      expect(ok, recovered[1]!.summary).not.toBeNull();
      const seen = Math.round(300 / Number(ok![1]));
      expect(seen).toBeGreaterThanOrEqual(11);
      expect(seen).toBeLessThanOrEqual(36);
      expect(Number(ok![1])).toBeCloseTo(300 / seen, 1);
    } finally {
      app.kill('SIGKILL');
      await agent.close();
      hook.close();
    }
  }, 60_000);

  it('refuses to start on a monitors file with a bad field, naming it', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'monitors:\n  - { id: a, service: s, metric: error_rate, critical: 5, window: 90 }\n');
    const r = spawnSync(process.execPath, [BIN, 'agent', '--monitors-file', file, '--data-dir', join(dir, 'data')], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`ECS_TRACE_MONITORS_FILE="${file}": monitors[0].window: 90 is not a duration such as 5m, 1h or 1d`);
    // Inline, as a task definition carries it, with its secret from the environment (an ECS secret).
    const inline = spawnSync(process.execPath, [BIN, 'agent', '--data-dir', join(dir, 'data2')], { encoding: 'utf8', timeout: 20_000,
      env: { PATH: process.env['PATH'] ?? '', ECS_TRACE_MONITORS: 'channels: [{ name: team, kind: slack, url: "${SLACK_URL}" }]' } });
    expect(inline.status).toBe(2);
    expect(inline.stderr).toContain('ECS_TRACE_MONITORS: channels[0].url: ${SLACK_URL} is not set in the environment');
  });
});
