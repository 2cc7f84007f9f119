// Where the agent's intake thread spends its time at full load: the agent started as by default,
// fed dd-trace-shaped v0.4 payloads (fresh random trace ids, current times) over 4 keep-alive
// connections, with V8's CPU profiler on; then each stage's share of the intake thread, inclusive
// (decode, the pipeline, preparing the write, SQLite's transaction, HTTP and the rest), and the
// functions that took the most time themselves. The profiler costs some throughput: compare
// spans/s with intake.bench.js, not with this.
//   node bench/profile.bench.js [--quick] [--seconds N]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v04Sender } from './load.js';
import { freshV04, payloads } from './payloads.js';

const quick = process.argv.includes('--quick');
const at = process.argv.indexOf('--seconds');
const seconds = at > 0 ? Number(process.argv[at + 1]) : quick ? 8 : 20;
const TRACES = 300;

/**
 * Stages by the function that runs each, as [label, file, function]; a stage indented under
 * another is part of it. Names are those of the compiled files under packages/agent/dist.
 */
const STAGES = [
  ['decode', 'intake/content-type.js', 'decodeTraces'],
  ['pipeline (normalize, obfuscate, stats, sample)', 'process/pipeline.js', 'process'],
  ['preparing the write', 'store/prepare-write.js', 'prepareWrite'],
  ['  of which the segment blob', 'store/batch-segment.js', 'segmentOf'],
  ['  of which rollups (service map, errors)', 'store/trace-rollup.js', 'rollupsOf'],
  ['  of which halves of calls met', 'store/trace-rollup.js', 'meetWaiting'],
  ['SQLite transaction', 'store/sqlite/sqlite-store.js', 'applyWrite'],
  ['  of which the trace-id index', 'store/sqlite/sqlite-store.js', 'insertChunks'],
  ['  of which its merges', 'store/sqlite/trace-runs.js', 'compact'],
  ['garbage collection', '', '(garbage collector)'],
  ['idle', '', '(idle)'],
];
/** The pipeline's own share leaves out the store's write, which it awaits. */
const STORE_WRITE = ['store/maintenance.js', 'write'];

const p = payloads(TRACES);
const nextBody = freshV04(p.v04);
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-profile-'));
const profiles = mkdtempSync(join(tmpdir(), 'ecs-trace-cpuprofile-'));
const port = 19126 + Math.floor(Math.random() * 1000);
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profiles, 'packages/cli/dist/bin.js', 'agent', '--data-dir', dir, '--api-port', String(port + 1)], {
  env: { ...process.env, DD_APM_RECEIVER_PORT: String(port), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'warn', ECS_TRACE_MAX_DISK: '0' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
let up = false;
for (let i = 0; i < 100 && !up; i++) {
  try { await fetch(`http://127.0.0.1:${port + 1}/healthz`); up = true; } catch { await new Promise((r) => setTimeout(r, 100)); }
}
if (!up) throw new Error('the agent did not start');

const send = v04Sender(port, nextBody, TRACES);
const cpuOf = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const cpu0 = cpuOf();
const t0 = process.hrtime.bigint();
const end = Date.now() + seconds * 1000;
let sent = 0;
await Promise.all(Array.from({ length: 4 }, async () => { while (Date.now() < end) { await send(); sent++; } }));
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = cpuOf() - cpu0;
const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
send.close();
rmSync(dir, { recursive: true, force: true });

const spans = sent * p.spans;
console.log(`node ${process.version}, ${seconds} s under the CPU profiler, 4 keep-alive connections, ${p.spans} spans a payload`);
console.log(`  ${Math.round(spans / elapsed).toLocaleString('en-US')} spans/s, ${(cpu * 1e6 / spans).toFixed(1)} CPU s / 1M spans (every thread), peak RSS ${peak.toFixed(0)} MB`);

// The intake thread is the process's main thread: its profile's thread id is 0.
const file = readdirSync(profiles).find((f) => f.split('.')[4] === '0');
if (!file) throw new Error(`no profile of the agent's main thread in ${profiles}`);
const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8'));
rmSync(profiles, { recursive: true, force: true });

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// Only the samples taken under load: V8's profile clock and process.hrtime are both the monotonic
// clock (µs and ns), so start-up and shutdown are left out.
const from = Number(t0 / 1000n);
const to = from + elapsed * 1e6;
const self = new Map();
let total = 0;
let when = profile.startTime;
profile.samples.forEach((id, i) => {
  const d = profile.timeDeltas[i] ?? 0;
  when += d;
  if (when < from || when > to) return;
  self.set(id, (self.get(id) ?? 0) + d);
  total += d;
});
const matches = (n, [file, fn]) => n.callFrame.functionName === fn && (file === '' || n.callFrame.url.endsWith(`/dist/${file}`));
/** Time under frames matching `frame` (counted once however deep it recurses), less that under `minus`. */
const inclusive = (frame, minus) => {
  let sum = 0;
  for (const [id, d] of self) {
    let inside = false;
    let excluded = false;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const n = nodes.get(cur);
      if (minus && !inside && matches(n, minus)) excluded = true;
      if (matches(n, frame)) inside = true;
    }
    if (inside && !excluded) sum += d;
  }
  return sum;
};
const pct = (d) => `${((100 * d) / total).toFixed(1).padStart(5)}%`;
console.log(`\nthe intake thread, ${(total / 1e6).toFixed(1)} s under load, by stage (inclusive):`);
let staged = 0;
for (const [label, file, fn] of STAGES) {
  const d = inclusive([file, fn], fn === 'process' ? STORE_WRITE : undefined);
  if (!label.startsWith(' ')) staged += d;
  console.log(`  ${pct(d)}  ${label}`);
}
console.log(`  ${pct(total - staged)}  HTTP, answers and the rest`);

const bySelf = new Map();
for (const [id, d] of self) {
  const cf = nodes.get(id).callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}`;
  bySelf.set(key, (bySelf.get(key) ?? 0) + d);
}
console.log('\nthe functions that took the most time themselves:');
for (const [k, d] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(d)}  ${k}`);
