// The perimeter's figures: what a hostile or overloaded day costs the agent (issue: the perimeter).
//   node bench/perimeter.bench.js [grpc] [amplification] [overload] [--seconds N]
// Each part starts `ecs-trace agent` (embedded store, OTLP on) as its own process and reads its
// peak RSS from /proc (VmHWM), so every figure is the agent's alone.
// 1. grpc: 32 concurrent OTLP/gRPC exports of 20 MiB each (under the 25 MiB limit), the agent's
//    peak RSS, and how the calls were answered.
// 2. amplification: the largest resource x scope attribute fan-out the limits allow, sent once
//    over OTLP/HTTP: time to answer, RSS, and how long /info waited meanwhile.
// 3. overload: v0.4 payloads offered at 5x what the agent takes for --seconds (60), asking for
//    real statuses: offered, accepted, refused (429), unanswered after 10 s, p99, peak RSS,
//    and /healthz's slowest answer meanwhile.
import { spawn } from 'node:child_process';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { encodeV04 } from '@ecs-trace/protocol';
import { grpcExport, request, requestOfSize, span, stringAttr } from './otlp-wire.js';

const parts = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const want = (p) => parts.length === 0 || parts.includes(p);
const at = process.argv.indexOf('--seconds');
const seconds = at > 0 ? Number(process.argv[at + 1]) : 60;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (b) => `${(b / 1048576).toFixed(0)} MB`;
const pct = (xs, q) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0; };

function peakRss(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
function rss(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function withAgent(port, env, run) {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-perimeter-'));
  // AGENT_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the agent alone.
  const agent = spawn(process.execPath, [...(process.env.AGENT_NODE_ARGS?.split(' ') ?? []), 'packages/cli/dist/bin.js', 'agent', '--data-dir', dir, '--api-port', String(port + 1)], {
    env: {
      ...process.env, DD_APM_RECEIVER_PORT: String(port), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'error',
      DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: `127.0.0.1:${port + 2}`, DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT: `127.0.0.1:${port + 3}`, ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`http://127.0.0.1:${port + 1}/healthz`)).ok) break; } catch { /* not yet */ }
      if (i > 200) throw new Error('agent did not start');
      await sleep(50);
    }
    return await run({ pid: agent.pid, intake: `http://127.0.0.1:${port}`, api: `http://127.0.0.1:${port + 1}`, otlp: `http://127.0.0.1:${port + 2}`, grpc: `127.0.0.1:${port + 3}` });
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function grpcFlood() {
  const body = requestOfSize(20 * 1048576);
  await withAgent(18_600, {}, async (a) => {
    const before = rss(a.pid);
    const client = new grpc.Client(a.grpc, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1048576 });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: Number(process.env.GRPC_CALLS ?? 32) }, () => grpcExport(grpc, client, body)));
    client.close();
    const codes = {};
    for (const { code } of answers) codes[grpc.status[code] ?? code] = (codes[grpc.status[code] ?? code] ?? 0) + 1;
    console.log(`grpc: 32 concurrent exports of ${mb(body.length)}: ${JSON.stringify(codes)} in ${((Date.now() - started) / 1000).toFixed(1)} s; agent RSS ${mb(before)} before, peak ${mb(peakRss(a.pid))}`);
  });
}

async function amplification() {
  // The most attributes a resource and a scope may carry (128 each by default), 1 KiB each, over
  // 2,000 spans (refused: over the mapped bound) and over 950 (about the worst the bound allows).
  const value = 'x'.repeat(1024);
  const resourceAttrs = Array.from({ length: 128 }, (_, i) => stringAttr(`r.${i}`, value));
  const scopeAttrs = Array.from({ length: 128 }, (_, i) => stringAttr(`s.${i}`, value));
  for (const n of [2000, 950]) {
    const spans = Array.from({ length: n }, () => span('op'));
    const body = request([{ attrs: [stringAttr('service.name', 'amplified'), ...resourceAttrs], scopes: [{ attrs: scopeAttrs, spans }] }]);
    await withAgent(18_700, {}, async (a) => {
      const before = rss(a.pid);
      let infoWorst = 0;
      let done = false;
      const probe = (async () => {
        while (!done) {
          const t = Date.now();
          await (await fetch(`${a.intake}/info`)).arrayBuffer();
          infoWorst = Math.max(infoWorst, Date.now() - t);
          await sleep(20);
        }
      })();
      const t = Date.now();
      const res = await fetch(`${a.otlp}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }).then(() => fetch(`${a.otlp}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body }));
      const text = Buffer.from(await res.arrayBuffer()).toString().replace(/[^\x20-\x7e]/g, '');
      const took = Date.now() - t;
      done = true;
      await probe;
      console.log(`amplification: ${(body.length / 1024).toFixed(0)} KB request (128 resource + 128 scope attributes of 1 KiB, ${n} spans): ${res.status}${res.status === 200 ? '' : ` "${text.slice(0, 120)}..."`} in ${took} ms; agent RSS ${mb(before)} before, peak ${mb(peakRss(a.pid))}; /info slowest ${infoWorst} ms meanwhile`);
    });
  }
}

async function overload() {
  // One payload: 4,000 traces of 2 spans (about 1 MB): few requests a second overload the agent,
  // so this process sending them is not what limits the load.
  let next = 1n;
  const payload = () => {
    const start = BigInt(Date.now()) * 1_000_000n;
    const chunks = [];
    for (let i = 0; i < 4000; i++) {
      const traceId = 0x6000000000000000n + next++;
      chunks.push([
        { service: 'load', name: 'web.request', resource: 'GET /r', type: 'web', traceId, spanId: 1n, parentId: 0n, start, duration: 5000, error: 0, meta: { 'http.url': 'http://x/r' }, metrics: { _sampling_priority_v1: 2 } },
        { service: 'load-db', name: 'pg.query', resource: 'SELECT ?', type: 'sql', traceId, spanId: 2n, parentId: 1n, start, duration: 2000, error: 0, meta: {}, metrics: {} },
      ]);
    }
    return encodeV04(chunks);
  };
  const bodies = Array.from({ length: 8 }, payload);
  await withAgent(18_800, {}, async (a) => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 512 });
    const send = (body, timeoutMs) => new Promise((resolve) => {
      const t = Date.now();
      let settled = false;
      const done = (status) => { if (!settled) { settled = true; clearTimeout(timer); resolve({ status, ms: Date.now() - t }); } };
      const req = httpRequest({ host: '127.0.0.1', port: Number(new URL(a.intake).port), path: '/v0.4/traces', method: 'PUT', agent, headers: { 'Content-Type': 'application/msgpack', 'Content-Length': body.length, 'Datadog-Send-Real-Http-Status': 'true' } }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode));
      });
      const timer = setTimeout(() => { done('unanswered'); req.destroy(); }, timeoutMs);
      req.on('error', (err) => done(err.code ?? err.message));
      req.end(body);
    });
    // Capacity: what 4 senders get through in 5 s, one after another each.
    let taken = 0;
    const until = Date.now() + 5000;
    await Promise.all(Array.from({ length: 4 }, async (_, i) => { while (Date.now() < until) if ((await send(bodies[i], 30_000)).status === 200) taken++; }));
    const capacity = taken / 5;
    const rate = capacity * 5;
    console.log(`overload: capacity ${capacity.toFixed(1)} payloads/s (${(capacity * 8000).toFixed(0)} spans/s); offering ${rate.toFixed(1)} payloads/s for ${seconds} s`);
    const results = [];
    const inflight = new Set();
    const healthMs = [];
    let healthFailed = 0;
    let healthDone = false;
    const health = (async () => {
      while (!healthDone) {
        const t = Date.now();
        try {
          const res = await fetch(`${a.api}/healthz`, { signal: globalThis.AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          if (res.status !== 200) healthFailed++;
        } catch { healthFailed++; }
        healthMs.push(Date.now() - t);
        await sleep(200);
      }
    })();
    const end = Date.now() + seconds * 1000;
    for (let i = 0; Date.now() < end; i++) {
      const p = send(bodies[i % bodies.length], 10_000).then((r) => { results.push(r); inflight.delete(p); });
      inflight.add(p);
      await sleep(1000 / rate);
    }
    await Promise.all(inflight);
    healthDone = true;
    await health;
    agent.destroy();
    const by = {};
    for (const r of results) by[r.status] = (by[r.status] ?? 0) + 1;
    const p99 = pct(results.map((r) => r.ms), 0.99);
    const m = await (await fetch(`${a.api}/metrics`)).text();
    const sum = (name) => [...m.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, x) => n + Number(x[1]), 0);
    console.log(`overload: the agent counted ${sum('ecs_trace_receiver_payloads_total')} payloads stored, ${sum('ecs_trace_receiver_payload_refused_total')} refused`);
    console.log(`overload at 5x for ${seconds} s: offered ${results.length}, accepted ${by[200] ?? 0}, refused 429 ${by[429] ?? 0}, unanswered after 10 s ${by.unanswered ?? 0}, other ${JSON.stringify(Object.fromEntries(Object.entries(by).filter(([k]) => !['200', '429', 'unanswered'].includes(k))))}; p99 ${p99} ms; /healthz ${healthMs.length} polls, ${healthFailed} not 200, median ${pct(healthMs, 0.5)} ms, p99 ${pct(healthMs, 0.99)} ms, slowest ${pct(healthMs, 1)} ms; agent peak RSS ${mb(peakRss(a.pid))}`);
  });
}

if (want('grpc')) await grpcFlood();
if (want('amplification')) await amplification();
if (want('overload')) await overload();
