// Robustness figures: what kill -9 loses, and what overload refuses.
//   node bench/robustness.bench.js [--rounds N]
// 1. kill -9: the agent (as `ecs-trace agent`) takes payloads from 4 senders; after a random
//    0.5-2 s it is killed with SIGKILL and started again on the same data directory. Every trace
//    whose payload was answered 200 is then looked up: acknowledged, found, lost.
// 2. overload: 64 connections send 1 MB payloads as fast as they can for 5 s, asking for real
//    statuses; printed: accepted (200), refused (429), other answers, and the agent's peak RSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeV04 } from '@ecs-trace/protocol';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 6);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startAgent(dir, port) {
  const child = spawn(process.execPath, ['packages/cli/dist/bin.js', 'agent', '--data-dir', dir, '--api-port', String(port + 1)], {
    env: { ...process.env, DD_APM_RECEIVER_PORT: String(port), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function waitUp(api) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${api}/healthz`)).ok) return;
    } catch { /* not yet */ }
    await sleep(50);
  }
  throw new Error('agent did not start');
}

let next = 1n;
function payload(traces) {
  const ids = [];
  const start = BigInt(Date.now()) * 1_000_000n;
  const chunks = [];
  for (let i = 0; i < traces; i++) {
    const traceId = 0x5000000000000000n + next++;
    ids.push(traceId);
    chunks.push([
      { service: 'crash', name: 'web.request', resource: 'GET /r', type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: 5000, error: 0, meta: { 'http.url': 'http://x/r' }, metrics: { _sampling_priority_v1: 2 } },
      { service: 'crash-db', name: 'pg.query', resource: 'SELECT ?', type: 'sql', traceId, spanId: 2n, parentId: 1n, start, duration: 2000, error: 0, meta: {}, metrics: {} },
    ]);
  }
  return { body: encodeV04(chunks), ids };
}

async function crashRounds() {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-crash-'));
  const port = 18_400;
  const intake = `http://127.0.0.1:${port}`;
  const api = `http://127.0.0.1:${port + 1}`;
  const acknowledged = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const agent = startAgent(dir, port);
      await waitUp(api);
      let running = true;
      const sender = async () => {
        while (running) {
          const p = payload(100);
          try {
            const res = await fetch(`${intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: p.body });
            if (res.status === 200) acknowledged.push(...p.ids);
          } catch { /* the agent died mid-request: not acknowledged */ }
        }
      };
      const senders = Array.from({ length: 4 }, sender);
      await sleep(500 + Math.random() * 1500);
      agent.kill('SIGKILL');
      await new Promise((r) => agent.once('exit', r));
      running = false;
      await Promise.all(senders);
    }
    const agent = startAgent(dir, port);
    await waitUp(api);
    let found = 0;
    for (const id of acknowledged) if ((await fetch(`${api}/api/v1/traces/${id}`)).status === 200) found++;
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    console.log(`kill -9, ${rounds} rounds: acknowledged ${acknowledged.length} traces, found ${found}, lost ${acknowledged.length - found}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function peakRss(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function overload() {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-overload-'));
  const port = 18_500;
  const intake = `http://127.0.0.1:${port}`;
  const agent = startAgent(dir, port);
  try {
    await waitUp(`http://127.0.0.1:${port + 1}`);
    const { body } = payload(4000); // ~1 MB
    const counts = { 200: 0, 429: 0, other: 0 };
    const otherWhy = new Set();
    const until = Date.now() + 5000;
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, peakRss(agent.pid)); }, 100);
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (Date.now() < until) {
        try {
          const res = await fetch(`${intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack', 'Datadog-Send-Real-Http-Status': 'true' }, body });
          await res.arrayBuffer();
          if (res.status === 200 || res.status === 429) counts[res.status]++;
          else { counts.other++; otherWhy.add(String(res.status)); }
        } catch (err) {
          counts.other++;
          otherWhy.add(err.cause?.code ?? err.message);
        }
      }
    }));
    clearInterval(sampler);
    peak = Math.max(peak, peakRss(agent.pid));
    console.log(`overload, 64 connections x 1 MB payloads for 5 s: accepted ${counts[200]}, refused (429) ${counts[429]}, other ${counts.other}${otherWhy.size ? ` (${[...otherWhy].join(', ')})` : ''}; agent peak RSS ${(peak / 1048576).toFixed(0)} MB (${(body.length / 1048576).toFixed(2)} MB a payload)`);
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!process.argv.includes('--overload-only')) await crashRounds();
await overload();
