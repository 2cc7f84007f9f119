// Query API latency on a day of data: seeds 1M spans (dd-trace-shaped chunks spread over 24 h,
// 20 services, each trace's root calling the next service) into a fresh embedded store, then times the calls the UI makes. Every figure is
// also printed as a ratio to a index.html round trip measured in the same run (noisy machine).
// With --postgres the same spans also go into PostgreSQL (a throwaway local server), and the same
// calls are timed through `ecs-trace ui` on it, as ratios to the embedded store's; with
// --clickhouse into ClickHouse (its engine in process, chdb: bash e2e/apps/prepare.sh chdb), the
// same. Each store's bytes on disk a span, and the CPU its writes took a span (SQLite and
// ClickHouse in this process; PostgreSQL's server apart, not counted), are printed too.
//   node bench/ui-api.bench.js [--quick] [--spans N] [--postgres] [--clickhouse]      (--quick: 200k spans)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, loadConfig, createLogger, Concentrator, postgresStore } from '@ecs-trace/agent';
import { ddTraceChunks } from './payloads.js';

const quick = process.argv.includes('--quick');
const spansArg = process.argv.indexOf('--spans');
const TARGET_SPANS = spansArg > 0 ? Number(process.argv[spansArg + 1]) : quick ? 200_000 : 1_000_000;
const withPostgres = process.argv.includes('--postgres');
const withClickhouse = process.argv.includes('--clickhouse');
const DAY_NS = 86_400_000_000_000n;
const SERVICES = Array.from({ length: 20 }, (_, i) => `service-${i}`);

const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-ui-bench-'));
const config = loadConfig({ env: { ECS_TRACE_DATA_DIR: dir, DD_APM_NON_LOCAL_TRAFFIC: 'false', ECS_TRACE_MAX_DISK: '0' } });
const agent = await startAgent(config, { ephemeralPorts: true, containerized: false, log: createLogger('off') });
const base = `http://127.0.0.1:${agent.api.port}`;
let pg;
let pgStore;
if (withPostgres) {
  const { startTestPostgres } = await import('../packages/agent/dist/store/postgres/test-server.js');
  pg = startTestPostgres(17_700 + (process.pid % 1000));
  pgStore = await (await postgresStore()).open({ url: pg.database('ui') });
}
let ch;
let chStore;
if (withClickhouse) {
  const { sharedEngine, engineMissing } = await import('../packages/agent/dist/store/clickhouse/test-engine.js');
  if (engineMissing()) throw new Error(engineMissing());
  const { ClickHouseStore } = await import('../packages/agent/dist/store/clickhouse/clickhouse-store.js');
  ch = sharedEngine();
  chStore = await ClickHouseStore.open({ transport: ch.transport() });
}
// CPU (user + system, µs) each store's writes took, measured around them one at a time.
const cpu = { sqlite: 0, postgres: 0, clickhouse: 0 };
async function timed(which, work) {
  const before = process.cpuUsage();
  await work();
  const d = process.cpuUsage(before);
  cpu[which] += d.user + d.system;
}
const chPending = [];
async function toClickhouse(b, flush = false) {
  if (!chStore) return;
  if (b) chPending.push(b);
  if (chPending.length >= 32 || flush) { const some = chPending.splice(0); await timed('clickhouse', () => chStore.writeMany(some)); }
}
// PostgreSQL takes payloads as the spool ships them: what has piled up, in one write.
const pgPending = [];
async function toPostgres(b, flush = false) {
  if (!pgStore) return;
  if (b) pgPending.push(b);
  if (pgPending.length >= 32 || flush) { const some = pgPending.splice(0); await timed('postgres', () => pgStore.writeMany(some)); }
}

// Seed through the store directly: the intake's cost is the other benchmark's business. The
// stats rows of the same spans (which the services list reads) come from the agent's own
// concentrator, flushed as the day goes by.
const template = ddTraceChunks(300);
const now = BigInt(Date.now()) * 1_000_000n;
const concentrator = new Concentrator(now - DAY_NS);
let spans = 0;
let batch = 0;
let lastTraceId = '';
const rareTraces = new Set();
let rareSpans = 0;
const t0 = Date.now();
while (spans < TARGET_SPANS) {
  const offset = (DAY_NS * BigInt(spans)) / BigInt(TARGET_SPANS);
  const chunks = template.map((c, ci) => {
    // Scattered, as random tracer ids are.
    const traceId = ((BigInt(batch) * 1000n + BigInt(ci) + 1n) * 0x9e3779b97f4a7c15n) & 0x7fffffffffffffffn;
    const service = SERVICES[(batch + ci) % SERVICES.length];
    // The root's service calls the next one, which does the rest: an edge a trace for the map.
    const callee = SERVICES[(batch + ci + 1) % SERVICES.length];
    return c.map((s, si) => {
      // Each trace's order id (a tag of high cardinality, as real ones are), and a tier held by
      // one span in 10,000 (the rare tag searched for below).
      const meta = { ...s.meta, 'order.id': `ord-${batch}-${ci}` };
      if ((spans + ci * c.length + si) % 10_000 === 0) { meta['customer.tier'] = 'platinum'; rareTraces.add(traceId); rareSpans++; }
      return { ...s, traceId, service: s.parentId === 0n ? service : callee, start: now - DAY_NS + offset + (s.start - template[0][0].start), error: (batch + ci) % 50 === 0 ? 1 : s.error, meta, metrics: { ...s.metrics, _top_level: s.parentId === 0n ? 1 : 0 } };
    });
  });
  const b = { chunks, env: 'prod', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: now };
  await timed('sqlite', () => agent.store.write(b));
  await toPostgres(b);
  await toClickhouse(b);
  for (const c of chunks) concentrator.add(c, { root: c.find((x) => x.parentId === 0n) ?? c[0], env: 'prod', origin: '' });
  const statsRows = concentrator.flush(now - DAY_NS + offset);
  await agent.store.writeStats(statsRows);
  if (pgStore && statsRows.length > 0) await pgStore.writeStats(statsRows);
  if (chStore && statsRows.length > 0) await chStore.writeStats(statsRows);
  for (const c of chunks) spans += c.length;
  lastTraceId = (chunks[0][0].traceId).toString(16).padStart(32, '0');
  batch++;
}
const lastRows = concentrator.flush(now, true);
await agent.store.writeStats(lastRows);
await toPostgres(undefined, true);
if (pgStore) await pgStore.writeStats(lastRows);
await toClickhouse(undefined, true);
if (chStore) await chStore.writeStats(lastRows);
const seedS = (Date.now() - t0) / 1000;

async function time(path, n = 15, at = base) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const res = await fetch(at + (typeof path === 'function' ? path(i) : path));
    await res.arrayBuffer();
    if (res.status !== 200 && res.status !== 503) throw new Error(`${path}: ${res.status}`);
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

const dayStart = Number((now - DAY_NS) / 1_000_000n);
const dayEnd = Number(now / 1_000_000n) + 1000;
const range = `start=${dayStart}&end=${dayEnd}`;
// Baseline: the UI's index.html, the cheapest answer the API port gives.
const healthz = await time('/', 30);
const cases = [
  ['trace search, one service, a day', `/api/v1/traces?service=service-7&${range}&limit=50`],
  ['trace search, errors only, a day', `/api/v1/traces?error=true&${range}&limit=50`],
  ['trace search, min duration, a day', `/api/v1/traces?minDurationMs=5&${range}&limit=500`],
  ['trace search with a tag query', `/api/v1/traces?q=${encodeURIComponent('service:service-3 http.method:GET')}&${range}&limit=50`],
  ['rare tag (0.01% of spans), a day, 50 a page', `/api/v1/traces?q=${encodeURIComponent('customer.tier:platinum')}&${range}&limit=50`],
  ['rare tag, a day, every match (1000 a page)', `/api/v1/traces?q=${encodeURIComponent('customer.tier:platinum')}&${range}&limit=1000`],
  ['a tag value no span has, a day', `/api/v1/traces?q=${encodeURIComponent('customer.tier:diamond')}&${range}&limit=50`],
  // Each call a range of its own (its end 1 ms later): the API keeps a sample for 15 s, and a
  // person's first keystroke meets none.
  ['autocomplete: tag keys, a day (uncached)', (i) => `/api/v1/search/suggest?prefix=cust&start=${dayStart}&end=${dayEnd + i}`],
  ['autocomplete: a key\'s values, a day (uncached)', (i) => `/api/v1/search/suggest?key=customer.tier&prefix=pl&start=${dayStart}&end=${dayEnd + 1000 + i}`],
  ['autocomplete: services, a day (stats)', `/api/v1/search/suggest?key=service&prefix=serv&${range}`],
  ['facets of one service, a day (stats)', `/api/v1/stats?service=service-3&topLevel=true&countsOnly=true&groupBy=resource&${range}`],
  ['facets of a rare tag, a day', `/api/v1/facets?q=${encodeURIComponent('customer.tier:platinum')}&keys=service,resource,env,status&${range}`],
  ['analytics: rare tag by service, a day', `/api/v1/analytics?q=${encodeURIComponent('customer.tier:platinum')}&groupBy=service&${range}`],
  ['services list, a day (from stats rows)', `/api/v1/services?${range}`],
  ['one trace (trace view)', `/api/v1/traces/${lastTraceId}`],
  ['service map, a day', `/api/v1/service-map?${range}`],
  ['error groups, a day', `/api/v1/errors?${range}`],
];
console.log(`node ${process.version}: ${spans.toLocaleString('en-US')} spans seeded over 24 h in ${seedS.toFixed(1)} s (${Math.round(spans / seedS).toLocaleString('en-US')} spans/s); index.html round trip ${healthz.toFixed(2)} ms`);
const sizes = [['SQLite', (await agent.store.stats()).diskBytes, cpu.sqlite]];
if (pgStore) sizes.push(['PostgreSQL', await pgStore.diskUsage(), cpu.postgres]);
if (chStore) sizes.push(['ClickHouse', await chStore.diskUsage(), cpu.clickhouse]);
for (const [store, bytes, us] of sizes) {
  console.log(`  ${store}: ${(bytes / spans).toFixed(1)} bytes on disk a span; its writes ${(us / spans).toFixed(2)} CPU-µs a span in this process${store === 'PostgreSQL' ? ' (its server\'s apart)' : ''}`);
}
let ui;
let chUi;
if (chStore) {
  await chStore.close();
  chUi = await startAgent(loadConfig({ env: { ECS_TRACE_STORE: 'clickhouse://default@127.0.0.1:8123/bench', ECS_TRACE_MAX_DISK: '0' } }), { role: 'ui', ephemeralPorts: true, containerized: false, log: createLogger('off'), transports: { clickhouse: ch.transport } });
}
if (pgStore) {
  await pgStore.close();
  // `ecs-trace ui` on the shared store: what a cluster's users reach.
  ui = await startAgent(loadConfig({ env: { ECS_TRACE_STORE: pg.database === undefined ? '' : `${pg.url.replace(/\/postgres$/, '/ui')}`, ECS_TRACE_MAX_DISK: '0' } }), { role: 'ui', ephemeralPorts: true, containerized: false, log: createLogger('off') });
}
const uiBase = ui ? `http://127.0.0.1:${ui.api.port}` : undefined;
const chBase = chUi ? `http://127.0.0.1:${chUi.api.port}` : undefined;
console.log(`  call                                   median ms   ratio to index.html   target${uiBase ? '      PostgreSQL (ecs-trace ui)   ratio to SQLite' : ''}${chBase ? '      ClickHouse (ecs-trace ui)   ratio to SQLite' : ''}`);
const measured = new Map();
for (const [label, path] of cases) {
  const ms = await time(path);
  measured.set(label, ms);
  let pgText = '';
  if (uiBase) {
    const pms = await time(path, 15, uiBase);
    pgText = `   ${pms.toFixed(1).padStart(12)} ms           ${(pms / ms).toFixed(2).padStart(6)}x`;
  }
  if (chBase) {
    const cms = await time(path, 15, chBase);
    pgText += `   ${cms.toFixed(1).padStart(12)} ms           ${(cms / ms).toFixed(2).padStart(6)}x`;
  }
  console.log(`  ${label.padEnd(38)} ${ms.toFixed(1).padStart(8)}    ${(ms / healthz).toFixed(1).padStart(8)}x          < 300 ms${pgText}`);
}
// What the rare-tag searches found: every match, and said so.
for (const [label, q, limit] of [['rare tag, 1000 a page', 'customer.tier:platinum', 1000], ['no such value', 'customer.tier:diamond', 50]]) {
  for (const [store, at] of [['SQLite', base], ...(uiBase ? [['PostgreSQL', uiBase]] : []), ...(chBase ? [['ClickHouse', chBase]] : [])]) {
    const page = await (await fetch(`${at}/api/v1/traces?q=${encodeURIComponent(q)}&${range}&limit=${limit}`)).json();
    const want = q.endsWith('platinum') ? Math.min(limit, rareTraces.size) : 0;
    console.log(`  ${label} (${store}): ${page.traces.length} traces of ${want} (${rareSpans} spans carry the tag), complete: ${page.complete}, ${page.scanned} checked`);
  }
}
// Issue 16 asks the map and the error groups as ratios to the services list of the same run.
const servicesMs = measured.get('services list, a day (from stats rows)');
console.log(`  service map ${(measured.get('service map, a day') / servicesMs).toFixed(2)}x and error groups ${(measured.get('error groups, a day') / servicesMs).toFixed(2)}x the services list's time (SQLite)`);
// The UI itself, in Debian's Chromium when it is there: first paint, and the services table filled.
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(chromiumPath)) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const page = await browser.newPage();
  const firstPaints = [];
  const tables = [];
  for (let i = 0; i < 5; i++) {
    const t = Date.now();
    await page.goto(`${base}/?range=1d`);
    await page.locator('[data-testid=services-table] tbody tr').first().waitFor({ timeout: 30_000 });
    tables.push(Date.now() - t);
    firstPaints.push(await page.evaluate(() => globalThis.performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
  }
  await browser.close();
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`  UI first contentful paint ${med(firstPaints).toFixed(0)} ms (target < 1000 ms); services page with a day of data filled in ${med(tables)} ms`);
} else {
  console.log(`  (no Chromium at ${chromiumPath}: UI paint not measured)`);
}
await agent.close();
await ui?.close();
await chUi?.close();
await ch?.close();
pg?.stop();
rmSync(dir, { recursive: true, force: true });
