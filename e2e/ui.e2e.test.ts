import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeV04, type Span } from '@ecs-trace/protocol';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDdTraceApp } from './dd-trace-app.js';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { waitForTrace } from './traces.js';
import { componentsAvailable } from './components.js';
import { startWebhook } from './webhook.js';

/*
 * The web UI in Debian's Chromium, against an agent fed by the real dd-trace: a user clicks
 * services -> service -> trace -> span and sees the numbers, names and the error's stack.
 * Screenshots go to e2e/screenshots/.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SERVER = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));
const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const UI_BUILT = existsSync(fileURLToPath(new URL('../packages/ui/dist/index.html', import.meta.url)));

function available(): boolean {
  const missing = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : !UI_BUILT ? 'the UI is not built (npm run build)' : undefined;
  return componentsAvailable(missing, 'browser tests');
}

const runApp = (agent: TestAgent, extraEnv: Record<string, string> = {}) => runDdTraceApp(agent.intake, extraEnv);

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

describe.skipIf(!available())('web UI', () => {
  let agent: TestAgent;
  let browser: Browser;
  let page: Page;
  const traceIds: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    agent = await startTestAgent();
    for (let i = 0; i < 3; i++) {
      const app = await runApp(agent);
      await waitForTrace(agent.apiUrl, app.traceId, 6);
      traceIds.push(app.traceId);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await agent?.close();
  });

  it('lists the service with its requests, errors and latency', async () => {
    await page.goto(`${agent.apiUrl}/`);
    const row = page.getByTestId('services-table').locator('tbody tr', { hasText: 'e2e-checkout' });
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[0]).toBe('e2e-checkout');
    expect(cells[2]).toBe('e2e');
    // Three runs, each one request (the root span) and no error at the root.
    expect(cells[4]).toBe('0%');
    expect(cells[5]).toMatch(/\d+(\.\d+)? (ms|µs|s)$/);
    expect(cells[9]).toBe('1.2.3');
    await shot(page, '1-services');
  });

  it('opens the service page: counts, charts and the resources table', async () => {
    await page.getByTestId('services-table').getByText('e2e-checkout').click();
    await page.getByTestId('service-name').waitFor();
    expect(await page.getByTestId('service-name').innerText()).toBe('e2e-checkout');
    // The numbers the agent computed for the service's primary operation (its entry spans), as the
    // services list counts them and the page must show them: not its client calls or connections.
    const listed = ((await (await fetch(`${agent.apiUrl}/api/v1/services`)).json()) as { services: { service: string; operation: string; hits: number }[] }).services.find((x) => x.service === 'e2e-checkout')!;
    // Its server's operation (the app calls itself), before its script's root span and its client calls.
    expect(listed.operation).toBe('web.request');
    const [total] = ((await (await fetch(`${agent.apiUrl}/api/v1/stats?service=e2e-checkout&topLevel=true&name=web.request&groupBy=service`)).json()) as { groups: { hits: number }[] }).groups;
    expect(total!.hits).toBe(listed.hits);
    expect(total!.hits).toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.getByTestId('stat-requests').locator('strong').innerText()).toBe(String(total!.hits));
    expect(await page.getByTestId('operation-picker').inputValue()).toBe('web.request');
    expect(await page.getByTestId('stat-errors').locator('strong').innerText()).toBe('0');
    // The charts, the resources and the traces come from calls of their own: each is waited for.
    const loaded = { timeout: 10_000 };
    await expect.poll(() => page.getByTestId('chart-latency').locator('canvas').count(), loaded).toBeGreaterThan(0);
    // The primary operation's resources: the server's, not the client call or its connection.
    await expect.poll(() => page.getByTestId('resources-table').locator('tbody tr td:first-child').allInnerTexts(), loaded).toEqual(['GET']);
    // Another operation is a pick away: the script's root span and its resource.
    await page.getByTestId('operation-picker').selectOption('e2e.root');
    await expect.poll(() => page.getByTestId('resources-table').locator('tbody tr td:first-child').allInnerTexts(), loaded).toEqual(['checkout-flow']);
    const flows = page.getByTestId('traces-table').locator('tbody tr', { hasText: 'checkout-flow' });
    await expect.poll(() => flows.count(), loaded).toBe(3);
    await shot(page, '2-service');
  });

  it('opens a trace: header, flame graph, and the failing span\'s error stack', async () => {
    await page.getByTestId('traces-table').locator('tbody tr', { hasText: 'checkout-flow' }).first().click();
    await page.getByTestId('trace-spans').waitFor();
    expect(await page.getByTestId('trace-spans').locator('strong').innerText()).toBe('6');
    expect(await page.getByTestId('trace-errors').locator('strong').innerText()).toBe('1');
    expect(await page.getByTestId('trace-root').locator('strong').innerText()).toBe('e2e-checkout checkout-flow');
    await page.getByTestId('flame-graph').waitFor();
    await shot(page, '3-trace-flame');
    await page.getByRole('button', { name: 'Waterfall' }).click();
    await page.getByTestId('waterfall').getByText('failing.op').click();
    const panel = page.getByTestId('span-panel');
    await panel.waitFor();
    expect(await panel.getByTestId('span-resource').innerText()).toBe('failing');
    expect(await panel.getByTestId('span-error').innerText()).toContain('TypeError: boom e2e');
    expect(await panel.getByTestId('error-stack').innerText()).toMatch(/^TypeError: boom e2e\n\s+at /);
    // The tracer's bookkeeping is folded away under "Internal", not listed among the span's tags.
    expect(await panel.getByTestId('span-meta').innerText()).not.toMatch(/^_dd\./m);
    const internal = panel.getByTestId('span-internal');
    expect(await internal.locator('summary').innerText()).toMatch(/^Internal \(\d+: the tracer's own bookkeeping\)$/);
    await internal.locator('summary').click();
    expect(await internal.innerText()).toMatch(/_dd\.|_sampling_priority_v1/);
    // The whole trace downloads as the API's JSON.
    const download = await page.getByTestId('trace-download').getAttribute('href');
    const json = (await (await fetch(`${agent.apiUrl}${download}`)).json()) as { spans: unknown[] };
    expect(json.spans).toHaveLength(6);
    await shot(page, '4-trace-span');
    // The span's pane is as wide as its reader drags the grip beside it.
    const before = (await panel.boundingBox())!;
    const grip = (await page.getByTestId('pane-grip').boundingBox())!;
    await page.mouse.move(grip.x + grip.width / 2, grip.y + 40);
    await page.mouse.down();
    await page.mouse.move(grip.x + grip.width / 2 - 200, grip.y + 40, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => (await panel.boundingBox())!.width).toBeGreaterThan(before.width + 150);
    await page.getByRole('button', { name: 'By service' }).click();
    const list = await page.getByTestId('span-list').locator('tbody tr td:first-child').allInnerTexts();
    expect(list).toEqual(['e2e-checkout']);
  });

  it('selects a span by clicking the flame graph', async () => {
    await page.getByRole('button', { name: 'Flame graph' }).click();
    const canvas = page.getByTestId('flame-graph');
    const box = (await canvas.boundingBox())!;
    // Hovering names the span, with its duration: narrow spans have no room for a label.
    await page.mouse.move(box.x + box.width / 2, box.y + 9);
    await expect.poll(() => canvas.getAttribute('title')).toMatch(/^e2e-checkout e2e\.root checkout-flow, [\d.]+ (ms|µs|s)$/);
    // The root span fills the first row.
    await canvas.click({ position: { x: box.width / 2, y: 9 } });
    expect(await page.getByTestId('span-panel').locator('h3').innerText()).toBe('e2e.root');
  });

  it('finds spans in a trace by what a person remembers of them', async () => {
    await page.goto(`${agent.apiUrl}/traces/${traceIds[0]}`);
    await page.getByLabel('Find spans').fill('failing');
    await page.getByTestId('find-form').getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => page.getByTestId('find-count').innerText()).toBe('1 of 6 spans match “failing” Show all');
    expect(await page.locator('.wf-row').allInnerTexts()).toEqual([expect.stringContaining('failing.op')]);
    // Every span as a table, the longest first; the failing one marked.
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.getByRole('button', { name: 'Spans', exact: true }).click();
    const table = page.getByTestId('span-table');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(6);
    expect(await table.locator('tbody tr').first().locator('td').nth(1).innerText()).toBe('e2e.root');
    expect(await table.locator('tbody tr', { hasText: 'failing.op' }).locator('.badge.err').count()).toBe(1);
    await page.getByRole('button', { name: 'Waterfall' }).click();
    // A tag's value finds its span too.
    await page.getByLabel('Find spans').fill('custom.tag:v');
    await page.getByTestId('find-form').getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => page.getByTestId('find-count').innerText()).toBe('1 of 6 spans match “custom.tag:v” Show all');
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => page.locator('.wf-row').count()).toBe(6);
    // By what they are: the failing ones, then those the trace waited on.
    await page.getByTestId('find-only').selectOption('errors');
    await expect.poll(() => page.getByTestId('find-count').innerText()).toBe('1 of 6 spans failed Show all');
    await expect.poll(() => page.locator('.wf-row').allInnerTexts()).toEqual([expect.stringContaining('failing.op')]);
    await page.getByTestId('find-only').selectOption('critical');
    await expect.poll(() => page.getByTestId('find-count').innerText()).toMatch(/^[1-6] of 6 spans are on the critical path Show all$/);
    expect(await page.locator('.wf-row.crit').count()).toBe(await page.locator('.wf-row').count());
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => page.locator('.wf-row').count()).toBe(6);
  });

  it('searches traces with a query, with facets and a scatter plot', async () => {
    await page.goto(`${agent.apiUrl}/traces?q=${encodeURIComponent('service:e2e-checkout status:error')}`);
    await expect.poll(() => page.getByTestId('result-count').innerText()).toBe('3 traces: every match in the range');
    expect(await page.getByTestId('facet-service').innerText()).toContain('e2e-checkout');
    await page.getByTestId('scatter').waitFor();
    const resources = () => page.getByTestId('traces-table').locator('tbody tr td:nth-child(3)').allInnerTexts();
    expect(await resources()).toEqual(['checkout-flow', 'checkout-flow', 'checkout-flow']);
    // A tag of a nested span, then its negation.
    await page.getByTestId('search-query').fill('service:e2e-checkout custom.tag:v');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(resources).toEqual(['checkout-flow', 'checkout-flow', 'checkout-flow']);
    await page.getByTestId('search-query').fill('service:e2e-checkout -custom.tag:v');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(async () => (await resources()).includes('checkout-flow')).toBe(false);
    await shot(page, '5-search');
    // A query the stats count whole: its facets are the whole range's requests, as the API counts them.
    await page.goto(`${agent.apiUrl}/traces?q=${encodeURIComponent('service:e2e-checkout')}`);
    await expect.poll(() => page.getByTestId('facets-scope').innerText()).toBe('Requests in the whole range (service entry spans, from the stats)');
    const [group] = ((await (await fetch(`${agent.apiUrl}/api/v1/stats?service=e2e-checkout&topLevel=true&groupBy=service&start=0`)).json()) as { groups: { hits: number }[] }).groups;
    await expect.poll(() => page.getByTestId('facet-service').innerText()).toBe(`SERVICE\ne2e-checkout\n${group!.hits}`);
  });

  it('shows traces arriving live', async () => {
    await page.goto(`${agent.apiUrl}/live`);
    await expect.poll(() => page.getByTestId('live-state').innerText()).toBe('connected');
    await runApp(agent);
    await expect.poll(() => page.getByTestId('live-table').locator('tbody tr').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('live-table').innerText()).toContain('e2e-checkout');
    await shot(page, '6-live');
  });

  it('keeps a trace of 10,000 spans responsive: only visible waterfall rows are in the page', async () => {
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const spans: Span[] = Array.from({ length: 10_000 }, (_, i) => ({
      service: `svc-${i % 7}`, name: i === 0 ? 'batch.run' : 'item.process', resource: i === 0 ? 'nightly' : `item-${i}`, type: 'worker',
      traceId: 0xbadcafen, spanId: BigInt(i + 1), parentId: i === 0 ? 0n : BigInt(Math.floor((i - 1) / 10) + 1),
      start: t0 + BigInt(i) * 1000n, duration: 5_000_000, error: i === 9_999 ? 1 : 0, meta: {}, metrics: { _sampling_priority_v1: 2 },
    }));
    const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([spans]) });
    expect(res.status).toBe(200);
    await page.goto(`${agent.apiUrl}/traces/${(0xbadcafen).toString(16).padStart(32, '0')}?view=waterfall`);
    await page.getByTestId('waterfall').waitFor();
    expect(await page.getByTestId('trace-spans').locator('strong').innerText()).toBe('10000');
    const rows = await page.locator('.wf-row').count();
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(60);
    expect(await page.locator('.wf-row', { hasText: 'nightly' }).count()).toBe(1);
    // Scrolled to the end: other rows are drawn in place of the first ones, and still few of them.
    await page.getByTestId('waterfall').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await expect.poll(() => page.locator('.wf-row', { hasText: 'nightly' }).count()).toBe(0);
    expect(await page.locator('.wf-row').count()).toBeGreaterThan(10);
    expect(await page.locator('.wf-row').count()).toBeLessThan(60);
    // Collapsed: all of it, to a depth, one span at a time; the time ruler over it.
    const count = page.getByTestId('waterfall-count');
    await page.getByRole('button', { name: 'Collapse all' }).click();
    await expect.poll(() => count.innerText()).toBe('1 of 10000 spans shown');
    await expect.poll(() => page.locator('.wf-row').allInnerTexts()).toEqual([expect.stringContaining('nightly')]);
    await page.getByRole('button', { name: 'To depth 1' }).click();
    await expect.poll(() => count.innerText()).toBe('11 of 10000 spans shown');
    await page.locator('.wf-row', { hasText: 'nightly' }).getByTestId('wf-toggle').click();
    await expect.poll(() => count.innerText()).toBe('1 of 10000 spans shown');
    await page.getByRole('button', { name: 'Expand all' }).click();
    await expect.poll(() => count.innerText()).toBe('10000 spans');
    expect(await page.getByTestId('waterfall-ruler').innerText()).toMatch(/^0 ?(ns|µs|ms|s)?[\s\S]*\d/);
    await page.getByRole('button', { name: 'Flame graph' }).click();
    await page.getByTestId('flame-graph').waitFor();
    await shot(page, '7-large-trace');
  });

  it('zooms to a time range dragged across a chart, and keeps it in the URL', async () => {
    await page.goto(`${agent.apiUrl}/services/e2e-checkout?range=1h`);
    const over = page.getByTestId('chart-latency').locator('.u-over');
    await over.waitFor();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.98, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.getByTestId('custom-range').waitFor();
    const url = new URL(page.url());
    const start = Number(url.searchParams.get('start'));
    const end = Number(url.searchParams.get('end'));
    expect(url.searchParams.get('range')).toBeNull();
    expect(end - start).toBeGreaterThan(10 * 60_000);
    expect(end - start).toBeLessThan(35 * 60_000);
    // Times written one way everywhere, 24-hour and ISO order, in the zone the page names.
    expect(await page.getByTestId('custom-range').innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d – (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d$/);
    expect(await page.getByTestId('time-zone').innerText()).toMatch(/^UTC([+-]\d\d:\d\d)?$/);
  });

  it('teaches how to send traces when there are none', async () => {
    const t0 = Date.now();
    const empty = await startTestAgent();
    const startedMs = Date.now() - t0;
    try {
      await page.goto(`${empty.apiUrl}/`);
      // Once, on a loaded CI machine, this test ran out of time with no sign of where: say what
      // the page showed and how long the agent took to start, should it happen again.
      await page.getByTestId('empty-state').waitFor({ timeout: 20_000 }).catch(async (err: unknown) => {
        const shown = (await page.locator('body').innerText().catch(() => '(no page)')).slice(0, 500);
        throw new Error(`no empty state 20 s after the page opened (the agent took ${startedMs} ms to start); the page shows: ${shown}`, { cause: err });
      });
      expect(await page.getByTestId('empty-state').innerText()).toContain('ecs-trace run -- node app.js');
      await shot(page, '0-empty');
    } finally {
      await empty.close();
    }
  }, 60_000);

  it('says a wrong address is no page, instead of showing another', async () => {
    await page.goto(`${agent.apiUrl}/servicez/oops`);
    await page.getByTestId('not-found').waitFor();
    expect(await page.getByTestId('not-found').innerText()).toContain('/servicez/oops is not a page of ecs-trace');
    expect(await page.getByTestId('services-table').count()).toBe(0);
  });

  it('says what failed when the agent answers an error without a message', async () => {
    await page.route('**/api/v1/services*', (route) => route.fulfill({ status: 500, body: '' }));
    try {
      await page.goto(`${agent.apiUrl}/`);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.innerText()).toMatch(/\/api\/v1\/services: the agent answered HTTP 500/);
    } finally {
      await page.unroute('**/api/v1/services*');
    }
  });

  it('draws the service map: a chain of three services and their database as nodes, the calls between them as edges with their errors, a service opening on click', async () => {
    const start = (service: string) => new Promise<{ child: ReturnType<typeof spawn>; port: number }>((resolve, reject) => {
      const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: service }, stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout!.once('data', (d: Buffer) => resolve({ child, port: (JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port }));
      child.once('exit', (code) => reject(new Error(`${service} exited ${code}`)));
    });
    const back = await start('map-back');
    const middle = await start('map-middle');
    const front = await start('map-front');
    const chain = (fail: boolean) => `http://127.0.0.1:${front.port}/call?to=${encodeURIComponent(`http://127.0.0.1:${middle.port}/call?to=${encodeURIComponent(`http://127.0.0.1:${back.port}/leaf${fail ? '?fail=1' : ''}`)}`)}`;
    type Map = { edges: { from: string; to: string; calls: number; errors: number }[] };
    const edge = (m: Map, from: string, to: string) => m.edges.find((e) => e.from === from && e.to === to);
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(chain(false))).status).toBe(200);
      expect((await fetch(chain(true))).status).toBe(500);
      let map: Map = { edges: [] };
      for (let i = 0; i < 100 && !(edge(map, 'map-front', 'map-middle')?.calls === 4 && edge(map, 'map-middle', 'map-back')?.calls === 4 && edge(map, 'map-back', 'postgresql:orders')?.calls === 4); i++) {
        await new Promise((r) => setTimeout(r, 200));
        map = (await (await fetch(`${agent.apiUrl}/api/v1/service-map`)).json()) as Map;
      }
      // Counted in the rollups: every call, with the failing one's errors on each hop it failed.
      expect(edge(map, 'map-front', 'map-middle')).toMatchObject({ calls: 4, errors: 1 });
      expect(edge(map, 'map-middle', 'map-back')).toMatchObject({ calls: 4, errors: 1 });
      expect(edge(map, 'map-back', 'postgresql:orders')).toMatchObject({ calls: 4, errors: 1 });
    } finally {
      front.child.kill('SIGKILL');
      middle.child.kill('SIGKILL');
      back.child.kill('SIGKILL');
    }
    await page.goto(`${agent.apiUrl}/map?range=1h`);
    await page.getByTestId('service-map').waitFor();
    const nodes = await page.getByTestId('map-node').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-service')));
    expect(nodes).toEqual(expect.arrayContaining(['map-front', 'map-middle', 'map-back', 'postgresql:orders', 'e2e-checkout']));
    const label = (from: string, to: string) => page.locator(`[data-testid=map-edge][data-from="${from}"][data-to="${to}"]`).locator('text').textContent();
    expect(await label('map-front', 'map-middle')).toMatch(/^4 calls, 1 err, p95 /);
    expect(await label('map-back', 'postgresql:orders')).toMatch(/^4 calls, 1 err, p95 /);
    const db = (await page.locator('[data-testid=map-node][data-service="postgresql:orders"]').textContent()) ?? '';
    expect(db).toMatch(/4 calls · 25(\.0)?% err/);
    await shot(page, '11-service-map');
    await page.locator('[data-testid=map-node][data-service="map-back"]').click();
    await page.waitForURL(/\/services\/map-back/);
  });

  it('keeps the service map readable at 50 services: no node over another, no edge label over a node', async () => {
    // 50 services in layers, each calling two of the next layer, and ten databases.
    const services = Array.from({ length: 50 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    const nodes = [...services.map((s) => ({ service: s, type: 'web', hits: 100, errors: 1, p95: 5e6, leaf: false })),
      ...Array.from({ length: 10 }, (_, i) => ({ service: `postgresql:db${i}`, type: 'sql', hits: 50, errors: 0, p95: 1e6, leaf: true }))];
    const edges = services.flatMap((s, i) => [i + 5, i + 7].filter((j) => j < 50).map((j) => ({ from: s, to: services[j]!, calls: 10, errors: 0, p95: 2e6 })))
      .concat(services.slice(40).map((s, i) => ({ from: s, to: `postgresql:db${i}`, calls: 5, errors: 0, p95: 1e6 })));
    await page.route('**/api/v1/service-map*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ nodes, edges }) }));
    try {
      await page.goto(`${agent.apiUrl}/map?range=1h`);
      await page.getByTestId('service-map').waitFor();
      type Box = { x: number; y: number; width: number; height: number };
      const boxes = (await page.getByTestId('map-node').evaluateAll((gs) => gs.map((g) => g.querySelector('rect')!.getBoundingClientRect().toJSON()))) as Box[];
      const labels = (await page.locator('[data-testid=map-edge] text').evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect().toJSON()))) as Box[];
      expect(boxes).toHaveLength(60);
      expect(labels).toHaveLength(edges.length);
      const overlap = (a: Box, b: Box) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i]!, boxes[j]!)).toBe(false);
      for (const l of labels) for (const b of boxes) expect(overlap(l, b)).toBe(false);
      // Drawn at its own size (names at 13 px), the map scrolls rather than shrinking to fit.
      expect(boxes.every((b) => Math.round(b.width) === 204)).toBe(true);
      const fontPx = await page.getByTestId('map-node').first().locator('.node-name').evaluate((t) => t.getBoundingClientRect().height);
      expect(fontPx).toBeGreaterThanOrEqual(12);
      const scroll = await page.getByTestId('map-scroll').evaluate((d) => ({ scrollWidth: d.scrollWidth, clientWidth: d.clientWidth }));
      expect(scroll.scrollWidth).toBeGreaterThan(scroll.clientWidth);
      await shot(page, '12-service-map-50');
      // Dragged, it pans; fitted, all of it is in view; zoomed in, it grows again.
      const mapBox = (await page.getByTestId('map-scroll').boundingBox())!;
      const gap = { x: mapBox.x + 3, y: mapBox.y + mapBox.height / 2 };
      await page.mouse.move(gap.x + 300, gap.y);
      await page.mouse.down();
      await page.mouse.move(gap.x, gap.y, { steps: 5 });
      await page.mouse.up();
      await expect.poll(() => page.getByTestId('map-scroll').evaluate((d) => d.scrollLeft)).toBeGreaterThan(0);
      await page.getByRole('button', { name: 'Fit' }).click();
      await expect.poll(() => page.getByTestId('map-scroll').evaluate((d) => d.scrollWidth <= d.clientWidth + 1 && d.scrollHeight <= d.clientHeight + 1)).toBe(true);
      expect(await page.getByTestId('map-zoom').innerText()).toMatch(/^\d+%$/);
      const fitted = (await page.getByTestId('service-map').boundingBox())!.width;
      await page.getByRole('button', { name: 'Zoom in' }).click();
      await expect.poll(async () => (await page.getByTestId('service-map').boundingBox())!.width).toBeGreaterThan(fitted * 1.2);
      await shot(page, '12c-service-map-fitted');
    } finally {
      await page.unroute('**/api/v1/service-map*');
    }
  });

  it('groups the errors: one group for the failing step of every run, with traces to open', async () => {
    await page.goto(`${agent.apiUrl}/errors?range=1h`);
    const table = page.getByTestId('errors-table');
    await table.waitFor();
    const row = table.locator('tbody tr', { hasText: 'boom e2e' });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    const cells = await row.locator('td').allInnerTexts();
    expect(Number(cells[0])).toBeGreaterThanOrEqual(3);
    // The request it happened in (the service entry), not the span that raised it.
    expect(cells.slice(1, 4)).toEqual(['e2e-checkout', 'TypeError: boom e2e', 'checkout-flow']);
    // Its counts over time add up to its count.
    expect(await row.getByTestId('error-sparkline').getAttribute('data-total')).toBe(cells[0]);
    await shot(page, '10-errors');
    // Resolved: gone from the open errors, listed among the resolved, for anyone who looks.
    await row.getByTestId('error-status').selectOption('resolved');
    await expect.poll(() => row.count()).toBe(0);
    await page.getByTestId('errors-status-filter').selectOption('resolved');
    const resolved = page.getByTestId('errors-table').locator('tbody tr', { hasText: 'boom e2e' });
    await expect.poll(() => resolved.count()).toBe(1);
    expect(await resolved.getByTestId('error-status').inputValue()).toBe('resolved');
    const listed = (await (await fetch(`${agent.apiUrl}/api/v1/errors?start=${Date.now() - 3_600_000}&status=resolved`)).json()) as { groups: { message: string }[] };
    expect(listed.groups.map((g) => g.message)).toContain('boom e2e');
    await shot(page, '10b-errors-resolved');
    // Open again, as the rest of the suite expects it.
    await resolved.getByTestId('error-status').selectOption('open');
    await page.getByTestId('errors-status-filter').selectOption('open');
    await expect.poll(() => row.count()).toBe(1);
    // Its own page: what, how often, its occurrences, the stack where it was raised.
    const occurrences = (await row.locator('td').first().innerText()).trim();
    await row.getByTestId('error-group-link').click();
    await expect.poll(() => page.getByTestId('error-group-title').innerText()).toBe('TypeError: boom e2e');
    expect(await page.getByTestId('error-group-count').locator('strong').innerText()).toBe(occurrences);
    expect(await page.getByTestId('error-group-status').inputValue()).toBe('open');
    await expect.poll(() => page.getByTestId('error-group-stack').innerText()).toMatch(/^TypeError: boom e2e\n\s+at /);
    await page.getByTestId('error-group-series').waitFor();
    await shot(page, '10c-error-group');
    await page.goBack();
    await expect.poll(() => row.count()).toBe(1);
    await row.getByRole('link', { name: '#1' }).click();
    await page.getByTestId('trace-errors').waitFor();
    expect(await page.getByTestId('trace-errors').locator('strong').innerText()).toBe('1');
  });

  it('compares two traces: the span only one has, and the same spans side by side', async () => {
    const other = await runApp(agent, { E2E_NO_FAILURE: '1' });
    await waitForTrace(agent.apiUrl, other.traceId, 5);
    await page.goto(`${agent.apiUrl}/traces/${traceIds[0]}`);
    await page.getByLabel('Compare with trace').fill(other.traceId);
    await page.getByRole('button', { name: 'Compare' }).click();
    const table = page.getByTestId('compare-table');
    await table.waitFor();
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
    const byName = new Map(rows.map((r) => [r[0]!.replace(/^e2e-checkout\s*/, ''), r]));
    expect(byName.get('failing.op')).toEqual(['e2e-checkout failing.op', 'failing', expect.stringMatching(/\d/), '—', '', 'only in A']);
    expect(rows).toHaveLength(6);
    for (const name of ['e2e.root', 'http.request', 'web.request', 'inner.compute', 'tcp.connect']) {
      expect(byName.get(name)?.[5]).toMatch(/^(same|slower in B|faster in B)$/);
    }
    expect(await page.getByTestId('compare-b').locator('strong').innerText()).toMatch(/, 5 spans$/);
    await shot(page, '9-compare');
  });

  it('says how far a search got, and searches further back until every match is listed', async () => {
    // 200 traces over the last hour, 7 with a rare tag; pages of 50 ms check some of them each (the
    // query is a wildcard, so the tag index cannot name the candidates).
    const hurried = await startTestAgent({ ECS_TRACE_SEARCH_PAGE_TIME: '50ms' });
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const chunks: Span[][] = [];
      const rare = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const traceId = 0xfa0000n + BigInt(i);
        const tagged = i % 33 === 5;
        if (tagged) rare.add(traceId.toString(16).padStart(32, '0'));
        const start = now - 5_000_000_000n - BigInt(i) * 16_000_000_000n;
        chunks.push([{ service: 'paged', name: 'web.request', resource: `GET /p/${i}`, type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: 1_000_000, error: 0, meta: tagged ? { 'customer.tier': 'platinum' } : {}, metrics: { _sampling_priority_v1: 2 } }]);
      }
      expect((await fetch(`${hurried.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${hurried.apiUrl}/traces?range=1h&q=${encodeURIComponent('customer.tier:platin*')}`);
      const count = p.getByTestId('result-count');
      await count.waitFor();
      expect(await count.innerText()).toMatch(/^\d+ traces? so far: searched back to \d{4}-\d\d-\d\d [\d:.]+ \(\d+% of the range\)/);
      const ready = p.locator('[data-testid="search-more"]:not([disabled])');
      const done = p.getByText(/every match in the range$/);
      for (let i = 0; i < 300; i++) {
        await ready.or(done).first().waitFor();
        if (await done.isVisible()) break;
        await ready.click();
      }
      expect(await count.innerText()).toBe(`${rare.size} traces: every match in the range`);
      const ids = await p.getByTestId('traces-table').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.querySelector('a')!.getAttribute('href')!.split('/')[2]!.split('?')[0]!));
      expect(new Set(ids)).toEqual(rare);
      await shot(p, '10-search-further-back');
      // Every trace of the service: a page of 50 rows at a time, the scatter with its axes.
      await p.goto(`${hurried.apiUrl}/traces?range=1h&q=${encodeURIComponent('service:paged')}`);
      for (let i = 0; i < 300; i++) {
        await ready.or(done).first().waitFor();
        if (await done.isVisible()) break;
        await ready.click();
      }
      expect(await count.innerText()).toBe('200 traces: every match in the range');
      const pager = p.getByTestId('traces-table-pager').first();
      expect(await pager.locator('span').innerText()).toBe('Rows 1–50 of 200');
      expect(await p.getByTestId('traces-table').locator('tbody tr').count()).toBe(50);
      await pager.getByRole('button', { name: 'Next' }).click();
      expect(await pager.locator('span').innerText()).toBe('Rows 51–100 of 200');
      await shot(p, '11-search-pages');
      // A trace id pasted into the box opens that trace: decimal as dd-trace logs it, and hex.
      for (const typed of [(0xfa0005n).toString(10), (0xfa0026n).toString(16).padStart(32, '0')]) {
        await p.getByTestId('search-query').fill(typed);
        await p.getByRole('button', { name: 'Search' }).click();
        await p.getByTestId('trace-root').waitFor();
        expect(await p.getByTestId('trace-root').innerText()).toContain(typed.length === 32 ? 'GET /p/38' : 'GET /p/5');
        await p.goBack();
      }
      await p.close();
    } finally {
      await hurried.close();
    }
  });

  it('finds a rare tag over a day in one search, through autocomplete, pages through it, and opens a trace by its pasted id', async () => {
    // 6,000 traces over the last 24 hours, 2% of them of platinum customers (one span each, their
    // database call's), the others gold or silver.
    // Its pages may take as long as they need: the test is of what they find, not how fast.
    const daily = await startTestAgent({ ECS_TRACE_SEARCH_PAGE_TIME: '60s' });
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const rare: string[] = [];
      for (let payload = 0; payload < 12; payload++) {
        const chunks: Span[][] = [];
        for (let j = 0; j < 500; j++) {
          const i = payload * 500 + j;
          const traceId = 0xda10000n + BigInt(i);
          const tagged = i % 50 === 7;
          if (tagged) rare.push(traceId.toString(16).padStart(32, '0'));
          const start = now - 60_000_000_000n - BigInt(i) * 14_000_000_000n;
          chunks.push([
            { service: 'daily', name: 'web.request', resource: `GET /d/${i}`, type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: 3_000_000, error: 0, meta: { env: 'prod', 'customer.tier': i % 3 === 0 ? 'silver' : 'gold' }, metrics: { _sampling_priority_v1: 2 } },
            { service: 'daily-db', name: 'pg.query', resource: 'SELECT ?', type: 'sql', traceId, spanId: 2n, parentId: 1n, start: start + 100_000n, duration: 1_000_000, error: 0, meta: { env: 'prod', ...(tagged ? { 'customer.tier': 'platinum' } : {}) }, metrics: {} },
          ]);
        }
        expect((await fetch(`${daily.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
      }
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${daily.apiUrl}/traces?range=1d`);
      const box = p.getByTestId('search-query');
      const suggestions = p.getByTestId('suggestions');
      // A key: typed in part, taken from the list.
      await box.click();
      await box.pressSequentially('customer.t');
      await expect.poll(() => suggestions.locator('li[role=option]').first().innerText()).toMatch(/^customer\.tier:\n/);
      expect(await p.getByTestId('suggestions-basis').innerText()).toMatch(/^counts: spans in the newest 100 matching traces$/);
      await box.press('Enter');
      expect(await box.inputValue()).toBe('customer.tier:');
      // Its values, the most frequent first (in the newest 100 traces: 66 gold, 34 silver, 2
      // platinum), then narrowed by what is typed, taken, and searched.
      await expect.poll(() => suggestions.locator('li[role=option]').allInnerTexts()).toEqual(['gold\n66', 'silver\n34', 'platinum\n2']);
      await box.pressSequentially('plat');
      await expect.poll(() => suggestions.locator('li[role=option]').allInnerTexts()).toEqual(['platinum\n2']);
      await box.press('Enter');
      expect(await box.inputValue()).toBe('customer.tier:platinum ');
      await box.press('Enter');
      expect(rare.length).toBe(120);
      await expect.poll(() => p.getByTestId('result-count').innerText()).toBe('120 traces: every match in the range');
      expect(new URL(p.url()).searchParams.get('q')).toBe('customer.tier:platinum');
      // Facets and counts over time of the whole day, not of the page: the 120 requests that carry it.
      await expect.poll(() => p.getByTestId('facets-scope').innerText()).toBe('Matching requests in the whole range (120 service entry and error spans)');
      expect(await p.getByTestId('facet-service').innerText()).toBe('SERVICE\ndaily-db\n120');
      expect(await p.getByTestId('counts-over-time').locator('h3').innerText()).toMatch(/^Matching requests over time \(120 service entry and error spans in the whole range; red: errors\)$/);
      const pager = p.getByTestId('traces-table-pager').first();
      const listedIds = async () => p.getByTestId('traces-table').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.querySelector('a')!.getAttribute('href')!.split('/')[2]!.split('?')[0]!));
      const seen = new Set<string>();
      for (const [i, label] of ['Rows 1–50 of 120', 'Rows 51–100 of 120', 'Rows 101–120 of 120'].entries()) {
        if (i > 0) await pager.getByRole('button', { name: 'Next' }).click();
        expect(await pager.locator('span').innerText()).toBe(label);
        for (const id of await listedIds()) seen.add(id);
      }
      expect(seen).toEqual(new Set(rare));
      await shot(p, '14-rare-tag-over-a-day');
      // The same day's requests of one service grouped by a tag: exact counts, the whole range read.
      await p.goto(`${daily.apiUrl}/traces?range=1d&q=${encodeURIComponent('service:daily')}&groupBy=customer.tier`);
      await expect.poll(() => p.getByTestId('analytics-coverage').innerText(), { timeout: 60_000 }).toBe('6,000 requests in 6,000 traces: the whole range');
      const rows = await p.getByTestId('analytics-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
      expect(rows).toEqual([['gold', '4,000', '0%'], ['silver', '2,000', '0%']]);
      await shot(p, '15-span-analytics');
      // A trace id pasted into the box opens it.
      await box.fill(rare[3]!);
      await p.getByRole('button', { name: 'Search', exact: true }).click();
      await p.getByTestId('trace-root').waitFor();
      expect(await p.getByTestId('trace-root').innerText()).toContain('GET /d/157');
      await p.close();
    } finally {
      await daily.close();
    }
  });

  it('keeps environments apart: a row per env, a service page and an errors page of the env picked', async () => {
    const envs = await startTestAgent();
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const chunks: Span[][] = [];
      // inventory: 4 requests in prod (1 failing), 2 in staging (both failing), customers' ids in the messages.
      const sent: [string, boolean][] = [['prod', true], ['prod', false], ['prod', false], ['prod', false], ['staging', true], ['staging', true]];
      sent.forEach(([env, failing], i) => {
        const traceId = 0xe0e0n + BigInt(i);
        chunks.push([{ service: 'inventory', name: 'web.request', resource: 'GET /stock', type: 'web', traceId, spanId: 1n, parentId: 0n, start: now - BigInt(i) * 1_000_000_000n, duration: 2_000_000, error: failing ? 1 : 0,
          meta: { env, version: i === 1 || i === 5 ? '2.0.0' : '1.9.0', 'span.kind': 'server', ...(failing ? { 'error.type': 'StockError', 'error.message': `stock low for customer c${135 + i * 1000}` } : {}) }, metrics: { _sampling_priority_v1: 2, 'http.status_code': failing ? 500 : 200 } }]);
      });
      expect((await fetch(`${envs.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${envs.apiUrl}/`);
      const rows = p.getByTestId('services-table').locator('tbody tr', { hasText: 'inventory' });
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
      expect((await rows.locator('td:nth-child(3)').allInnerTexts()).sort()).toEqual(['prod', 'staging']);
      await rows.filter({ hasText: 'staging' }).getByRole('link', { name: 'inventory' }).click();
      await p.getByTestId('service-name').waitFor();
      expect(await p.getByTestId('env-picker').inputValue()).toBe('staging');
      await expect.poll(() => p.getByTestId('stat-requests').locator('strong').innerText()).toBe('2');
      expect(await p.getByTestId('stat-errors').locator('strong').innerText()).toBe('2');
      await p.getByTestId('env-picker').selectOption('prod');
      await expect.poll(() => p.getByTestId('stat-requests').locator('strong').innerText()).toBe('4');
      expect(await p.getByTestId('stat-errors').locator('strong').innerText()).toBe('1');
      // Its versions side by side (prod: one request of 2.0.0, three of 1.9.0, the failing one),
      // and the page of one version.
      const versions = p.getByTestId('versions-table').locator('tbody tr');
      await expect.poll(() => versions.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)))).toEqual([['1.9.0', '3', '33%'], ['2.0.0', '1', '0%']]);
      await p.getByTestId('version-picker').selectOption('2.0.0');
      await expect.poll(() => p.getByTestId('stat-requests').locator('strong').innerText()).toBe('1');
      expect(await p.getByTestId('stat-errors').locator('strong').innerText()).toBe('0');
      await shot(p, '12b-service-versions');
      // Errors: one group for the three failures of all envs (the customer ids are one `?`), then per env.
      const count = async (env: string) => {
        await p.goto(`${envs.apiUrl}/errors?range=1h${env ? `&env=${env}` : ''}`);
        const row = p.getByTestId('errors-table').locator('tbody tr', { hasText: 'StockError' });
        await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
        expect(await row.locator('td').nth(2).innerText()).toBe('StockError: stock low for customer ?');
        return row.locator('td').first().innerText();
      };
      expect(await count('')).toBe('3');
      expect(await count('staging')).toBe('2');
      expect(await count('prod')).toBe('1');
      expect(await p.getByTestId('env-picker').inputValue()).toBe('prod');
      await shot(p, '12-errors-by-env');
      // By version, over every env: 1.9.0 failed twice (prod and staging), 2.0.0 once (staging, the
      // earliest request sent: first seen first).
      expect(await count('')).toBe('3');
      await p.getByTestId('errors-version-filter').selectOption('2.0.0');
      await expect.poll(() => p.getByTestId('errors-table').locator('tbody tr', { hasText: 'StockError' }).locator('td').first().innerText()).toBe('1');
      expect(p.url()).toContain('version=2.0.0');
      await p.getByTestId('errors-version-filter').selectOption('');
      await expect.poll(() => p.getByTestId('errors-table').locator('tbody tr', { hasText: 'StockError' }).locator('td').first().innerText()).toBe('3');
      await p.getByTestId('errors-table').locator('tbody tr', { hasText: 'StockError' }).getByTestId('error-group-link').click();
      const affected = p.getByTestId('error-group-version');
      await expect.poll(() => affected.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)))).toEqual([['2.0.0', '1'], ['1.9.0', '2']]);
      await shot(p, '10d-error-group-versions');
      await p.close();
    } finally {
      await envs.close();
    }
  });

  it('shows a span link the real dd-trace sent (_dd.span_links) as a link to the other trace, and follows it', async () => {
    const app = await runApp(agent, { E2E_LINK: '1' });
    await waitForTrace(agent.apiUrl, app.traceId, 6);
    await waitForTrace(agent.apiUrl, app.linkedTraceId!, 1);
    await page.goto(`${agent.apiUrl}/traces/${app.traceId}?span=${app.rootSpanId}`);
    const links = page.getByTestId('span-links');
    await links.waitFor();
    expect(await links.innerText()).toContain('link.reason');
    expect(await links.innerText()).toContain('consumes the batch');
    // Not also as a raw tag.
    expect(await page.getByTestId('span-meta').innerText()).not.toContain('_dd.span_links');
    await shot(page, '13-span-link');
    await links.getByRole('link').first().click();
    await page.getByTestId('trace-root').waitFor();
    await expect.poll(() => page.getByTestId('trace-root').innerText()).toContain('nightly-batch');
    expect(await page.getByTestId('span-panel').locator('h3').innerText()).toBe('batch.produce');
  });

  it('asks for the token when the agent has one, and shows the traces once signed in', async () => {
    const token = 'ui-e2e-token-0123456789';
    const guarded = await startTestAgent({ ECS_TRACE_API_TOKEN: token });
    try {
      const context = await browser.newContext();
      const p = await context.newPage();
      await p.goto(`${guarded.apiUrl}/`);
      await p.getByTestId('sign-in').waitFor();
      await p.getByLabel('API token').fill('not-the-token-at-all');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('That is not the token of this agent.').waitFor();
      await p.getByLabel('API token').fill(token);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByTestId('empty-state').waitFor();
      const cookie = (await context.cookies()).find((c) => c.name === 'ecs_trace_session')!;
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      await context.close();
    } finally {
      await guarded.close();
    }
  });

  it('lists the monitors with their states, the alerting first, sends a test, and shows a service its own', async () => {
    const hook = await startWebhook();
    const posts = hook.posts;
    // The monitors file's text, as a task definition carries it.
    const watched = await startTestAgent({ ECS_TRACE_MONITORS: `channels:
  - { name: oncall, kind: webhook, url: "${hook.url}" }
monitors:
  - { id: basket-errors, name: Basket errors, service: basket, metric: error_rate, warning: 10, critical: 25, notify: [oncall] }
  - { id: basket-p99, name: Basket p99, service: basket, metric: latency_p99, critical: 500, notify: [oncall] }
  - { id: quiet-rate, name: Quiet traffic, service: quiet, metric: request_rate, comparison: below, critical: 1 }
`, ECS_TRACE_MONITORS_INTERVAL: '300ms' });
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      // basket: 5 requests of 20 ms, 2 failing: 40% errors; p99 20 ms, to the sketch's 1%.
      const chunks: Span[][] = [0, 1, 2, 3, 4].map((i) => [{ service: 'basket', name: 'web.request', resource: 'POST /basket', type: 'web', traceId: 0xba5e0n + BigInt(i), spanId: 1n, parentId: 0n,
        start: now - BigInt(i) * 1_000_000_000n, duration: 20_000_000, error: i < 2 ? 1 : 0, meta: { 'span.kind': 'server' }, metrics: { _sampling_priority_v1: 1 } }]);
      expect((await fetch(`${watched.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${watched.apiUrl}/monitors`);
      const rows = p.getByTestId('monitor-row');
      await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-monitor'), tr.querySelector('[data-testid=monitor-state]')?.textContent, tr.querySelector('[data-testid=monitor-value]')?.textContent])), { timeout: 15_000 })
        .toEqual([['basket-errors', 'ALERT', '40%'], ['quiet-rate', 'NO DATA', '—'], ['basket-p99', 'OK', expect.stringMatching(/^(19\.\d+|20(\.\d+)?) ms$/)]]);
      const alerting = p.locator('[data-testid=monitor-row][data-monitor=basket-errors]');
      expect(await alerting.locator('td').nth(3).innerText()).toBe('error rate > 25% (warn > 10%) over 5m');
      // One alert told. (Under load a round can see the payload's older stats bucket alone first,
      // its requests without errors: a change of its own before the alert.)
      const told = (state: string) => posts.map((b) => JSON.parse(b) as { state?: string; test?: boolean; monitor: { id: string } }).filter((b) => b.monitor.id === 'basket-errors' && b.state === state && !b.test);
      await expect.poll(() => told('ALERT').length).toBe(1);
      await alerting.locator('details summary').click();
      await expect.poll(() => alerting.getByTestId('monitor-history').innerText()).toMatch(/→ ALERT at 40% · oncall took it/);
      await alerting.getByTestId('monitor-test').click();
      await expect.poll(() => alerting.getByTestId('monitor-test-result').innerText()).toBe('oncall: sent');
      expect(posts.map((b) => JSON.parse(b) as { test?: boolean }).filter((b) => b.test)).toMatchObject([{ test: true, monitor: { id: 'basket-errors' } }]);
      // Muted for an hour, for everyone; then unmuted.
      await alerting.getByTestId('monitor-mute').selectOption({ label: 'for 1 h' });
      await expect.poll(() => alerting.getByTestId('monitor-muted').innerText()).toMatch(/^muted until \d{4}-\d\d-\d\d \d\d:\d\d$/);
      expect(((await (await fetch(`${watched.apiUrl}/api/v1/monitors`)).json()) as { monitors: { id: string; mutedUntil?: number }[] }).monitors.find((m) => m.id === 'basket-errors')!.mutedUntil).toBeGreaterThan(Date.now() + 3_500_000);
      await shot(p, '16-monitors');
      await alerting.getByTestId('monitor-unmute').click();
      await expect.poll(() => alerting.getByTestId('monitor-mute').count()).toBe(1);
      // The service's page shows its own monitors.
      await p.goto(`${watched.apiUrl}/services/basket`);
      await expect.poll(() => p.getByTestId('monitor-row').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-monitor')).sort())).toEqual(['basket-errors', 'basket-p99']);
      // Each metric charted with its thresholds.
      await expect.poll(() => p.getByTestId('monitor-chart').count()).toBe(2);
      const legends = await p.getByTestId('monitor-chart').evaluateAll((cs) => cs.map((c) => [...c.querySelectorAll('.u-legend .u-label')].map((l) => l.textContent)));
      expect(legends).toEqual([['Time', 'error rate', 'critical 25%', 'warning 10%'], ['Time', 'latency p99', 'critical 500 ms']]);
      await p.getByTestId('monitor-chart').first().scrollIntoViewIfNeeded();
      await shot(p, '17-service-monitors');
      await p.close();
    } finally {
      await watched.close();
      hook.close();
    }
  });

  it('makes a monitor in the UI, sees it fire and its history, refuses a bad one naming the field, changes it and deletes it', async () => {
    const hook = await startWebhook();
    const posts = hook.posts;
    // The monitors file names the channel (its address stays there); the monitor is made in the UI.
    const made = await startTestAgent({ ECS_TRACE_MONITORS: `channels: [{ name: oncall, kind: webhook, url: "${hook.url}" }]\n`, ECS_TRACE_MONITORS_INTERVAL: '300ms' });
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const chunks: Span[][] = [0, 1, 2].map((i) => [{ service: 'ledger', name: 'web.request', resource: 'POST /entries', type: 'web', traceId: 0x1ed0n + BigInt(i), spanId: 1n, parentId: 0n,
        start: now - BigInt(i) * 1_000_000_000n, duration: 8_000_000, error: 1, meta: { 'span.kind': 'server' }, metrics: { _sampling_priority_v1: 1 } }]);
      expect((await fetch(`${made.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${made.apiUrl}/monitors`);
      const form = p.getByTestId('monitor-form');
      await form.waitFor();
      // Without a critical value: the agent's message, naming the field.
      await form.getByLabel('id').fill('ledger-errors');
      await form.getByLabel('service').fill('ledger');
      await form.getByLabel('when').selectOption('error_count');
      await form.getByRole('button', { name: 'Create' }).click();
      await expect.poll(() => p.getByTestId('monitor-form-error').innerText()).toBe('monitor.critical: is required: the value at which it alerts');
      await form.getByLabel('critical').fill('1');
      await form.getByLabel('oncall').check();
      await form.getByRole('button', { name: 'Create' }).click();
      const row = p.locator('[data-testid=monitor-row][data-monitor=ledger-errors]');
      await expect.poll(() => row.getByTestId('monitor-state').innerText(), { timeout: 15_000 }).toBe('ALERT');
      await expect.poll(() => posts.length).toBe(1);
      expect(JSON.parse(posts[0]!)).toMatchObject({ state: 'ALERT', value: 3, monitor: { id: 'ledger-errors', service: 'ledger', metric: 'error_count' } });
      await row.locator('details summary').click();
      await expect.poll(() => row.getByTestId('monitor-history').innerText()).toMatch(/→ ALERT at 3 · oncall took it/);
      await shot(p, '18-monitor-made-in-ui');
      // Kept by the store: the API lists it as made here.
      const listed = ((await (await fetch(`${made.apiUrl}/api/v1/monitors`)).json()) as { monitors: { id: string; source: string }[] }).monitors;
      expect(listed).toEqual([expect.objectContaining({ id: 'ledger-errors', source: 'ui' })]);
      // Changed here: critical 10, above the 3 errors there are: it recovers, and says so.
      await row.getByTestId('monitor-edit').click();
      await expect.poll(() => form.locator('h2').innerText()).toBe('Change ledger-errors');
      expect(await form.getByLabel('critical').inputValue()).toBe('1');
      expect(await form.getByLabel('oncall').isChecked()).toBe(true);
      await form.getByLabel('critical').fill('10');
      await form.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => row.locator('td').nth(3).innerText()).toBe('error count > 10 over 5m');
      await expect.poll(() => row.getByTestId('monitor-state').innerText(), { timeout: 15_000 }).toBe('OK');
      await expect.poll(() => posts.length).toBe(2);
      expect(JSON.parse(posts[1]!)).toMatchObject({ state: 'OK', previous: 'ALERT', threshold: 10 });
      await row.getByTestId('monitor-delete').click();
      await expect.poll(() => row.count()).toBe(0);
      await p.close();
    } finally {
      await made.close();
      hook.close();
    }
  });

  it("lists a resource page's traces by the span that matched: its resource and duration, the trace's root beside it", async () => {
    const own = await startTestAgent();
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const trace: Span[] = [
        { service: 'orders', name: 'web.request', resource: 'GET /orders', type: 'web', traceId: 0x0dd0n, spanId: 1n, parentId: 0n, start: now, duration: 100_000_000, error: 0, meta: { 'span.kind': 'server' }, metrics: { _sampling_priority_v1: 2 } },
        { service: 'payments', name: 'web.request', resource: 'POST /charge', type: 'web', traceId: 0x0dd0n, spanId: 2n, parentId: 1n, start: now + 10_000_000n, duration: 30_000_000, error: 0, meta: { 'span.kind': 'server' }, metrics: { _sampling_priority_v1: 2 } },
      ];
      expect((await fetch(`${own.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([trace]) })).status).toBe(200);
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${own.apiUrl}/services/payments/resources/${encodeURIComponent('POST /charge')}?range=1h`);
      const rows = p.getByTestId('traces-table').locator('tbody tr');
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(1);
      const cells = await rows.first().locator('td').allInnerTexts();
      expect(cells.slice(1, 4)).toEqual(['payments', 'POST /charge in orders GET /orders', '30.0 ms']);
      await rows.first().getByRole('link').click();
      await p.waitForURL(/\/traces\/0+dd0.*span=0000000000000002/);
      await p.close();
    } finally {
      await own.close();
    }
  });

  /** A service's page, loaded again every 0.5 s (30 times at most) until `testId` shows: what tracers report comes on their schedule. */
  async function serviceShowing(apiUrl: string, service: string, testId: string): Promise<Page> {
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    for (let i = 0; i < 30; i++) {
      await p.goto(`${apiUrl}/services/${service}?range=1h`);
      await p.getByTestId('service-name').waitFor();
      if (await p.getByTestId(testId).count() > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return p;
  }

  it("shows a service's tracer instances as the real dd-trace's telemetry describes them", async () => {
    const own = await startTestAgent();
    const app = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: own.intake, APP_SERVICE: 'tele-ui', DD_ENV: 'e2e', DD_VERSION: '2.0.1' }, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((resolve) => app.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      expect((await fetch(`http://127.0.0.1:${port}/leaf`)).status).toBe(200);
      const p = await serviceShowing(own.apiUrl, 'tele-ui', 'instance-row');
      const cells = await p.getByTestId('instance-row').first().locator('td').allInnerTexts();
      expect(cells.slice(1, 5)).toEqual(['e2e', '2.0.1', expect.stringMatching(/^nodejs \d+\.\d+\.\d+/), expect.stringMatching(/^\d+\.\d+\.\d+/)]);
      await p.getByTestId('instances-table').scrollIntoViewIfNeeded();
      await shot(p, '19-instances');
      // The inventory: which services run dd-trace, at which version (the page's form, then the URL it made).
      await p.getByRole('link', { name: 'Dependencies' }).click();
      const form = p.getByTestId('dependencies-form');
      await form.locator('input[name=name]').fill('dd-trace');
      await form.getByRole('button', { name: 'Find' }).click();
      await expect.poll(() => p.url()).toContain('/dependencies?name=dd-trace');
      await expect.poll(() => p.getByTestId('dependency-row').count(), { timeout: 15_000 }).toBeGreaterThan(0);
      const rows = await p.getByTestId('dependency-row').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      expect(rows).toContainEqual(['dd-trace', expect.stringMatching(/^\d+\.\d+\.\d+/), '1', 'tele-ui e2e (1)']);
      await shot(p, '23-dependencies');
      await p.close();
    } finally {
      app.kill('SIGKILL');
      await own.close();
    }
  });

  it("sets a service's sample rate in the UI: the running dd-trace applies it (its next traces sampled by that rule) and the page says so", async () => {
    const own = await startTestAgent();
    const app = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: own.intake, APP_SERVICE: 'rc-ui', DD_ENV: 'e2e', DD_VERSION: '1.4.0', DD_REMOTE_CONFIG_POLL_INTERVAL_SECONDS: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const port = await new Promise<number>((resolve) => app.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port)));
      const get = async () => { await (await fetch(`http://127.0.0.1:${port}/leaf`)).arrayBuffer(); };
      await get();
      const p = await serviceShowing(own.apiUrl, 'rc-ui', 'tracer-client-row');
      await expect.poll(() => p.getByTestId('tracer-client-state').first().innerText()).toBe('its own settings (none set here)');
      // A rate out of range is not sent: the form says what it takes.
      const form = p.getByTestId('tracer-settings-form');
      await form.locator('select[name=env]').selectOption('e2e');
      await form.locator('input[name=rate]').fill('150');
      await form.getByRole('button', { name: 'Apply' }).click();
      expect(await form.locator('input[name=rate]').evaluate((el) => (el as unknown as { validationMessage: string }).validationMessage)).toMatch(/100/);
      expect(await p.getByTestId('tracer-setting-row').count()).toBe(0);
      await form.locator('input[name=rate]').fill('50');
      await form.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(() => p.getByTestId('tracer-setting-row').first().innerText()).toMatch(/^e2e\tsample rate 50%\tv\d+/);
      await expect.poll(() => p.getByTestId('tracer-client-state').first().innerText(), { timeout: 20_000 }).toMatch(/^applied v\d+$/);
      // What the tracer does with it: its next traces are sampled by the rule, at 50%.
      const after = Date.now();
      for (let i = 0; i < 20; i++) await get();
      await expect.poll(async () => {
        const { traces } = (await (await fetch(`${own.apiUrl}/api/v1/traces?service=rc-ui&start=${after}`)).json()) as { traces: { traceId: string }[] };
        return traces.length;
      }, { timeout: 15_000 }).toBeGreaterThan(2);
      const { traces } = (await (await fetch(`${own.apiUrl}/api/v1/traces?service=rc-ui&start=${after}`)).json()) as { traces: { traceId: string }[] };
      for (const t of traces) {
        const trace = (await (await fetch(`${own.apiUrl}/api/v1/traces/${t.traceId}`)).json()) as { spans: { parentId: string; metrics: Record<string, number> }[] };
        expect(trace.spans.find((s) => s.parentId === '0000000000000000')!.metrics['_dd.rule_psr']).toBe(0.5);
      }
      await p.getByTestId('tracer-settings').scrollIntoViewIfNeeded();
      await shot(p, '22-tracer-settings');
      await p.getByTestId('tracer-setting-row').first().getByRole('button', { name: 'Remove' }).click();
      await expect.poll(() => p.getByTestId('tracer-setting-row').count()).toBe(0);
      await p.close();
    } finally {
      app.kill('SIGKILL');
      await own.close();
    }
  }, 90_000);

  it('marks a faulty deployment: the newest version, its error rate significantly above the one before', async () => {
    const own = await startTestAgent();
    try {
      // 3.0 for 120 requests, 2 failing on a timeout; a stats bucket later (10 s), 3.1 for 120, 30
      // failing: 2 on the same timeout, 28 on an error 3.0 never had (new in 3.1).
      const send = async (version: string, failing: number, offset: number) => {
        const now = BigInt(Date.now()) * 1_000_000n;
        const failure = (i: number): Record<string, string> => (i >= failing ? {} : i < 2
          ? { 'error.type': 'TimeoutError', 'error.message': 'upstream timed out after 3000 ms' }
          : { 'error.type': 'KeyError', 'error.message': "'invoice.total'" });
        const chunks: Span[][] = Array.from({ length: 120 }, (_, i) => [{ service: 'billing', name: 'web.request', resource: 'POST /invoice', type: 'web', traceId: BigInt(offset + i + 1), spanId: 1n, parentId: 0n,
          start: now - BigInt(120 - i) * 1_000_000n, duration: 4_000_000, error: i < failing ? 1 : 0, meta: { 'span.kind': 'server', version, ...failure(i) }, metrics: { _sampling_priority_v1: 1 } }]);
        expect((await fetch(`${own.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
      };
      await send('3.0', 2, 0);
      await new Promise((r) => setTimeout(r, 10_500));
      await send('3.1', 30, 1000);
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await p.goto(`${own.apiUrl}/services/billing?range=1h`);
      const badge = p.getByTestId('faulty-deployment');
      await expect.poll(() => badge.count(), { timeout: 15_000 }).toBe(1);
      expect(await badge.evaluate((b) => b.closest('tr')!.querySelector('td')!.textContent)).toBe('3.1 faulty deployment');
      expect(await badge.getAttribute('title')).toBe('Against 3.0 over this range: error rate 25.0% against 1.7%');
      // The error group new in 3.1 (the range's first version has none to tell), linking to the errors of 3.1.
      const fresh = p.getByTestId('new-error-groups');
      await expect.poll(() => fresh.count(), { timeout: 15_000 }).toBe(1);
      expect([await fresh.innerText(), await fresh.getAttribute('title')]).toEqual(['1', 'KeyError: ?']);
      expect(await fresh.evaluate((a) => a.closest('tr')!.querySelector('td')!.textContent)).toBe('3.1 faulty deployment');
      // Their latency distributions overlaid, one line per version.
      expect(await p.getByTestId('version-latency').locator('[data-testid=percentile-line]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-version')).sort())).toEqual(['3.0', '3.1']);
      await p.getByTestId('versions-table').scrollIntoViewIfNeeded();
      await shot(p, '20-faulty-deployment');
      // Against the hour before (the agent began a minute ago): said to have had no requests.
      await p.getByTestId('compare-picker').selectOption('previous');
      await expect.poll(() => p.getByTestId('comparison').innerText()).toBe('Against the period before: no requests then');
      expect(p.url()).toContain('compare=previous');
      await fresh.click();
      await expect.poll(() => p.url()).toMatch(/\/errors\?.*service=billing.*version=3\.1/);
      await p.close();
    } finally {
      await own.close();
    }
  });

  it("links a span to the app's logs with the agent's templates (ECS_TRACE_LOG_LINKS), filled in for the span", async () => {
    const links = JSON.stringify([{ name: 'CloudWatch Logs Insights', url: 'https://console.aws.amazon.com/cloudwatch/home#logsV2:logs-insights?q=dd.trace_id%3D{trace_id_64}&from={start}&to={end}&svc={service}' }]);
    const own = await startTestAgent({ ECS_TRACE_LOG_LINKS: links });
    try {
      const start = BigInt(Date.now()) * 1_000_000n;
      const span: Span = { service: 'ledger-logs', name: 'web.request', resource: 'GET /', type: 'web', traceId: 0x7e57n, spanId: 0x1dn, parentId: 0n, start, duration: 1_000_000, error: 0, meta: { 'span.kind': 'server' }, metrics: { _sampling_priority_v1: 2 } };
      expect((await fetch(`${own.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[span]]) })).status).toBe(200);
      const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      for (let i = 0; i < 50 && (await fetch(`${own.apiUrl}/api/v1/traces/7e57`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
      await p.goto(`${own.apiUrl}/traces/0000000000007e57?span=000000000000001d`);
      const link = p.getByTestId('log-links').getByRole('link', { name: 'CloudWatch Logs Insights' });
      await link.waitFor();
      const startMs = Number(start / 1_000_000n);
      expect(await link.getAttribute('href')).toBe(`https://console.aws.amazon.com/cloudwatch/home#logsV2:logs-insights?q=dd.trace_id%3D32343&from=${startMs - 300_000}&to=${startMs + 1 + 300_000}&svc=ledger-logs`);
      await p.close();
    } finally {
      await own.close();
    }
  });
});
