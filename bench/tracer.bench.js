// Tracer overhead benchmark: one http server's requests/s bare, traced by ecs-trace, and traced
// by dd-trace, measured in the same run, rounds interleaved, medians kept; printed as overhead
// ratios against the bare server (this machine is noisy: compare ratios, not absolute numbers).
//   node bench/tracer.bench.js [--quick]
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 2 : 5;
const ROUNDS = quick ? 2 : 3;
const CONNECTIONS = 16;
const SERVER = fileURLToPath(new URL('./apps/http-server.mjs', import.meta.url));

// Both tracers send to this read-and-discard agent stand-in.
const sink = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('Content-Type', 'application/json'); res.end('{"rate_by_service":{}}'); }); });
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const agentUrl = `http://127.0.0.1:${sink.address().port}`;

function startServer(mode) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], { env: { ...process.env, BENCH_MODE: mode, DD_TRACE_AGENT_URL: agentUrl, DD_TRACE_TELEMETRY_ENABLED: 'false', DD_REMOTE_CONFIGURATION_ENABLED: 'false' }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', (d) => resolve({ child, port: JSON.parse(d.toString().split('\n')[0]).port }));
    child.on('error', reject);
  });
}

async function load(port) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const end = Date.now() + SECONDS * 1000;
  let done = 0;
  const one = () => new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject).end();
  });
  const worker = async () => { while (Date.now() < end) { await one(); done++; } };
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return done / (Number(process.hrtime.bigint() - t) / 1e9);
}

const modes = ['bare', 'ecs-trace', 'dd-trace'];
const results = Object.fromEntries(modes.map((m) => [m, []]));
const servers = {};
for (const m of modes) servers[m] = await startServer(m);
for (const m of modes) await load(servers[m].port); // warm up (JIT, connections)
for (let r = 0; r < ROUNDS; r++) for (const m of modes) results[m].push(await load(servers[m].port));
for (const m of modes) servers[m].child.kill('SIGKILL');
sink.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bare = median(results['bare']);
console.log(`node ${process.version}, ${quick ? 'quick' : 'full'} run, ${CONNECTIONS} keep-alive connections, ${SECONDS} s x ${ROUNDS} rounds per mode`);
console.log('  server            requests/s (this machine)   ratio to bare   overhead');
for (const m of modes) {
  const rps = median(results[m]);
  console.log(`  ${m.padEnd(16)}  ${Math.round(rps).toLocaleString('en-US').padStart(12)}                ${(rps / bare).toFixed(3)}x         ${((1 - rps / bare) * 100).toFixed(1)}%`);
}
const ours = 1 - median(results['ecs-trace']) / bare;
const dd = 1 - median(results['dd-trace']) / bare;
console.log(`  ecs-trace's overhead is ${(ours / dd).toFixed(2)}x dd-trace's (target: at most 0.5x)`);
