// Monitors' cost: 100 monitors (5 on each of 20 services: error rate, p95 and request rate over
// 5 m, error rate over 1 h, new error groups over 1 h) evaluated round after round on a store
// holding a day of stats (20 services x 10 resources, a 10-s bucket each: the rows a day of
// traffic leaves, whatever the span count) and its error rollups. Printed: CPU and wall time a
// round, and the CPU as a share of one core at a round every 10 s (the issue's bound: under 1%).
//   node bench/monitors.bench.js [--rounds N] [--data DIR (kept, and seeded once)]
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { SqliteStore } from '@ecs-trace/agent';
import { createLogger } from '../packages/agent/dist/runtime/index.js';
import { StatsService } from '../packages/agent/dist/stats/index.js';
import { newSketch } from '../packages/agent/dist/store/sketch-codec.js';
import { MonitorReader, parseMonitors } from '../packages/agent/dist/monitors/index.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 20;
const kept = process.argv.includes('--data') ? process.argv[process.argv.indexOf('--data') + 1] : undefined;
const dir = kept ?? mkdtempSync(join(tmpdir(), 'ecs-trace-monitors-bench-'));
const seeded = kept !== undefined && existsSync(join(kept, 'seeded'));
const store = new SqliteStore({ dataDir: dir });
const S = 1_000_000_000n;
// A kept store's day ends where it was seeded.
const now = seeded ? Number(JSON.parse((await import('node:fs')).readFileSync(join(dir, 'seeded'), 'utf8')).now) : Date.now();
const end = (BigInt(now) * 1_000_000n / (10n * S)) * 10n * S;
const services = Array.from({ length: 20 }, (_, i) => `service-${i}`);

const t0 = performance.now();
for (let b = 0; b < (seeded ? 0 : 8640); b += 60) {
  const rows = [];
  for (let k = b; k < b + 60; k++) {
    const start = end - BigInt(8640 - k) * 10n * S;
    for (const service of services) for (let r = 0; r < 10; r++) {
      const ok = newSketch();
      const err = newSketch();
      for (let i = 0; i < 8; i++) ok.accept(1e6 * (5 + ((i * 7 + r) % 40)));
      err.accept(2e8);
      rows.push({ start, durationNs: 10n * S, service, name: 'web.request', resource: `GET /r${r}`, type: 'web', env: 'prod', version: '1', httpStatusCode: 200, spanKind: 'server',
        isTraceRoot: true, synthetics: false, peerTags: [], hits: 9, topLevelHits: 9, errors: 1, totalDuration: 9 * 3e7, okSketch: ok, errorSketch: err, source: 'agent' });
    }
  }
  await store.writeStats(rows);
}
if (!seeded) console.log(`seeded ${8640 * 200} stats rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (kept && !seeded) writeFileSync(join(dir, 'seeded'), JSON.stringify({ now }));

const stats = new StatsService(store, createLogger('silent'), 'none', { flushIntervalMs: 0 });
const file = parseMonitors(`monitors:\n${services.flatMap((s) => [
  `  - { id: ${s}-errors, service: ${s}, metric: error_rate, critical: 20 }`,
  `  - { id: ${s}-p95, service: ${s}, metric: latency_p95, critical: 500 }`,
  `  - { id: ${s}-rate, service: ${s}, metric: request_rate, comparison: below, critical: 1 }`,
  `  - { id: ${s}-errors-1h, service: ${s}, metric: error_rate, window: 1h, critical: 20 }`,
  `  - { id: ${s}-new, service: ${s}, metric: new_error_group, window: 1h }`,
]).join('\n')}\n`);
const reader = new MonitorReader({ stats, serviceStats: (r) => stats.serviceStats(r), rollups: store });
// The same monitors read one by one, without the services rollup (how the first version read them): the peer of this run.
const oneByOne = { read: (m, at) => new MonitorReader({ stats, rollups: store }).read(m, at) };
async function measure(r, label) {
  const cpu = [];
  const wall = [];
  for (let i = 0; i < rounds; i++) {
    const at = now + i; // a new round each time: nothing carried over
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const readings = await Promise.all(file.monitors.map((m) => r.read(m, at)));
    wall.push(performance.now() - w0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (readings.filter((x) => x.value !== undefined).length < 80) throw new Error('the monitors read no data: the seed is wrong');
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${label}: CPU median ${median(cpu).toFixed(1)} ms, wall median ${median(wall).toFixed(1)} ms a round (${rounds} rounds); at a round every 10 s, ${(median(cpu) / 10_000 * 100).toFixed(2)}% of one core`);
  return median(cpu);
}
const shared = await measure(reader, '100 monitors, a round (shared reads, services rollup)');
const alone = await measure(oneByOne, '100 monitors, each read alone from the 10-s stats (peer)');
console.log(`shared reads cost ${(shared / alone).toFixed(3)}x the CPU of reading each monitor alone`);
await stats.close();
await store.close();
if (!kept) rmSync(dir, { recursive: true, force: true });
