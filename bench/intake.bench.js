// Intake benchmark. Every figure is a ratio to a baseline measured in the same run (this machine
// is noisy): the baseline is a plain msgpackr.unpack of the same payload.
//   node bench/intake.bench.js [--quick]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { decodeV04, decodeV05, markTopLevel } from '@ecs-trace/protocol';
import { SqliteStore, normalizeChunk } from '@ecs-trace/agent';
import { prepareWrite } from '../packages/agent/dist/store/prepare-write.js';
import { v04Sender } from './load.js';
import { freshV04, payloads } from './payloads.js';
import { payloadOf, pipelineWithoutStore } from './stages.js';

const quick = process.argv.includes('--quick');
const TRACES_PER_PAYLOAD = 300; // dd-trace flushes every 2 s or at 8 MB; ~1000 spans per payload
const ROUNDS = quick ? 3 : 7;
const ITER = quick ? 10 : 30;

const counters = { spanFixed() {} };
function normalizeAll(chunks) {
  const now = BigInt(Date.now()) * 1_000_000n;
  for (const c of chunks) {
    normalizeChunk(c, 'nodejs', now, counters);
    markTopLevel(c, false);
  }
  return chunks;
}

function timeIt(fn, n) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / n / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function inProcess(label, body, decode, spans) {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-bench-'));
  const store = new SqliteStore({ dataDir: dir });
  const pipeline = pipelineWithoutStore();
  let stored = 0;
  const cases = {
    'msgpackr.unpack (baseline)': () => unpack(body),
    'decode': () => decode(body),
    'decode + normalize': () => normalizeAll(decode(body)),
    'decode + whole pipeline': () => { void pipeline.process(payloadOf(decode(body))); },
    'decode + normalize + store': () => {
      // Fresh trace ids and current times, as real traffic has: a store sees new keys, in time order.
      const chunks = decode(body);
      const salt = BigInt(++stored) * 0x9e3779b97f4a7c15n & 0x7fffffffffff0000n;
      const shift = BigInt(Date.now()) * 1_000_000n - chunks[0][0].start;
      for (const c of chunks) for (const sp of c) { sp.traceId ^= salt; sp.start += shift; }
      normalizeAll(chunks);
      // Prepared and committed at once: store.write waits a turn of the event loop between the two.
      store.applyWrite(prepareWrite({ chunks, env: 'none', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: 0n }));
    },
  };
  for (const fn of Object.values(cases)) timeIt(fn, 3); // warm up
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // Interleave the cases round by round so that machine noise hits all of them alike.
  for (let r = 0; r < ROUNDS; r++) for (const [k, fn] of Object.entries(cases)) results[k].push(timeIt(fn, ITER));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const base = median(results['msgpackr.unpack (baseline)']);
  const decodeMs = median(results['decode']);
  console.log(`\n${label}: ${spans} spans, ${(body.length / 1024).toFixed(0)} KiB per payload`);
  console.log('  case                           ratio to baseline   spans/s (this machine)');
  for (const [k, xs] of Object.entries(results)) {
    const ms = median(xs);
    console.log(`  ${k.padEnd(30)} ${(ms / base).toFixed(2).padStart(6)}x          ${Math.round(spans / ms * 1000).toLocaleString('en-US').padStart(10)}`);
  }
  const pipelineCost = (median(results['decode + whole pipeline']) - decodeMs) / decodeMs;
  console.log(`  pipeline cost (normalize, filter, obfuscate, stats, sample) = ${pipelineCost.toFixed(2)}x decode time (target: at most 1.0x)`);
}

function vmHwmBytes(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function endToEnd(body, spans, extraEnv = {}, label = 'agent') {
  const nextBody = freshV04(body);
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-bench-e2e-'));
  const port = 18126 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, ['packages/cli/dist/bin.js', 'agent', '--data-dir', dir, '--api-port', String(port + 1)], {
    env: { ...process.env, DD_APM_RECEIVER_PORT: String(port), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'warn', ECS_TRACE_MAX_DISK: '0', ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try { await fetch(`http://127.0.0.1:${port + 1}/healthz`); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const send = v04Sender(port, nextBody, TRACES_PER_PAYLOAD);
  const rssBefore = vmHwmBytes(child.pid);
  // Baseline in the same run: the same client sending to a server that only reads the body.
  const { createServer } = await import('node:http');
  const sink = createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')); });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  const seconds = quick ? 3 : 8;
  const run = async (target) => {
    const end = Date.now() + seconds * 1000;
    let sent = 0;
    const worker = async () => { while (Date.now() < end) { await target(); sent++; } };
    const t = process.hrtime.bigint();
    await Promise.all([worker(), worker(), worker(), worker()]);
    return (sent * spans) / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const sinkAgent = new Agent({ keepAlive: true, maxSockets: 4 });
  const sinkPort = sink.address().port;
  const toSink = () => new Promise((resolve, reject) => {
    const fresh = nextBody();
    const req = request({ host: '127.0.0.1', port: sinkPort, path: '/', method: 'PUT', agent: sinkAgent, headers: { 'Content-Length': fresh.length } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(fresh);
  });
  const sinkRate = await run(toSink);
  const agentRate = await run(send);
  const peak = vmHwmBytes(child.pid);
  sink.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  console.log(`\nend to end over HTTP (v0.4, 4 keep-alive connections, ${seconds} s, agent in its own process), ${label}:`);
  console.log(`  agent: ${Math.round(agentRate).toLocaleString('en-US')} spans/s = ${(agentRate / sinkRate).toFixed(3)}x of a read-and-discard HTTP server in the same run (${Math.round(sinkRate).toLocaleString('en-US')} spans/s)`);
  console.log(`  agent peak RSS: ${(peak / 1048576).toFixed(0)} MB (after start-up: ${(rssBefore / 1048576).toFixed(0)} MB)`);
}

const p = payloads(TRACES_PER_PAYLOAD);
console.log(`node ${process.version}, ${quick ? 'quick' : 'full'} run`);
await inProcess('v0.4', p.v04, decodeV04, p.spans);
await inProcess('v0.5', p.v05, decodeV05, p.spans);
await endToEnd(p.v04, p.spans, {}, 'default (one thread)');
await endToEnd(p.v04, p.spans, { ECS_TRACE_WRITER_THREAD: 'true' }, 'ECS_TRACE_WRITER_THREAD=true');
