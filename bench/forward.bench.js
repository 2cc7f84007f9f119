// The cost of forwarding: the same v0.4 payloads sent over HTTP to an agent without DD_API_KEY,
// to one that forwards every kept trace to a local Datadog intake stand-in, and to one that
// exports them over OTLP/HTTP to a stand-in (both read and discard), rounds interleaved in one
// run. A round's time runs until the agent has sent all it was given (encoding is on a thread
// of its own, and its backlog counts). Printed as each forwarding agent's time per span relative
// to the plain one's (target for Datadog forwarding: under 1.3x).
//   node bench/forward.bench.js [--quick]
import { createServer, request, Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, loadConfig, createLogger } from '@ecs-trace/agent';
import { freshV04, payloads } from './payloads.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 5;
const SECONDS = quick ? 2 : 4;
const { v04, spans } = payloads(300);
const fresh = freshV04(v04);

const intake = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(202).end('{}')); });
await new Promise((r) => intake.listen(0, '127.0.0.1', r));
const intakeUrl = `http://127.0.0.1:${intake.address().port}`;

async function agentWith(env) {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-fwd-bench-'));
  const config = loadConfig({ env: { ECS_TRACE_DATA_DIR: dir, DD_APM_NON_LOCAL_TRAFFIC: 'false', ECS_TRACE_MAX_DISK: '0', ...env } });
  const agent = await startAgent(config, { ephemeralPorts: true, containerized: false, log: createLogger('off') });
  return { agent, dir };
}

async function send(agent) {
  const port = agent.receiver.port;
  const started = performance.now();
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
  const deadline = Date.now() + SECONDS * 1000;
  let sent = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (Date.now() < deadline) {
      const body = fresh();
      await new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/v0.4/traces', method: 'PUT', agent: keepAlive, headers: { 'Content-Type': 'application/msgpack', 'Content-Length': body.length, 'X-Datadog-Trace-Count': '300' } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(String(res.statusCode)))));
        });
        req.on('error', reject);
        req.end(body);
      });
      sent++;
    }
  }));
  keepAlive.destroy();
  await agent.forwarded();
  return (sent * spans) / ((performance.now() - started) / 1000);
}

const plain = await agentWith({});
const forwarding = await agentWith({ DD_API_KEY: 'bench-key-0123456789abcdef', DD_APM_DD_URL: intakeUrl });
const exporting = await agentWith({ ECS_TRACE_OTLP_EXPORT_ENDPOINT: intakeUrl });
const rates = { plain: [], forwarding: [], exporting: [] };
for (let r = 0; r < ROUNDS; r++) {
  rates.plain.push(await send(plain.agent));
  rates.forwarding.push(await send(forwarding.agent));
  rates.exporting.push(await send(exporting.agent));
}
for (const a of [plain, forwarding, exporting]) {
  await a.agent.close();
  rmSync(a.dir, { recursive: true, force: true });
}
intake.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [p, f, o] = [median(rates.plain), median(rates.forwarding), median(rates.exporting)];
console.log(`node ${process.version}: ${spans} spans a payload, ${ROUNDS} rounds of ${SECONDS} s, 4 connections, agents and senders in one process`);
console.log(`  without forwarding ${Math.round(p).toLocaleString('en-US')} spans/s; forwarding ${Math.round(f).toLocaleString('en-US')} spans/s: time per span ${(p / f).toFixed(2)}x (target < 1.3x)`);
console.log(`  OTLP export ${Math.round(o).toLocaleString('en-US')} spans/s: time per span ${(p / o).toFixed(2)}x`);
