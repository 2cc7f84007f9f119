// ecs-trace beside the trace agents a user could run instead, on the same machine, in one run:
// the same dd-trace-shaped v0.4 and v0.5 payloads from the same load generator (4 keep-alive
// connections), against
//   - ecs-trace, default settings (embedded store)
//   - ecs-trace as a pure forwarder (ECS_TRACE_STORE=none, forwarding to a local stand-in of the
//     Datadog intake that reads and discards)
//   - DataDog's dd-apm-test-agent (PyPI `ddapm-test-agent`, in a venv cached outside the repo,
//     made on first use)
// Each target runs in its own process; printed per target: spans/s accepted, CPU seconds per
// million spans (the target process's utime + stime from /proc) and peak RSS (VmHWM), each also
// as a ratio to ecs-trace default in the same run. The OpenTelemetry Collector's datadog receiver
// and the Datadog trace-agent could not be built here: see bench/README.md.
//   node bench/peers.bench.js [--quick]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshV04, freshV05, payloads } from './payloads.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 4 : 10;
const CONNECTIONS = 4;
const TRACES_PER_PAYLOAD = 300;
const TEST_AGENT_VERSION = '1.69.1';
const CACHE = process.env.ECS_TRACE_BENCH_CACHE ?? join(homedir(), '.cache', 'ecs-trace', 'peers');

/** The test agent's venv, made when missing (PyPI). */
function testAgentBin() {
  const venv = join(CACHE, `ddapm-test-agent-${TEST_AGENT_VERSION}`);
  const bin = join(venv, 'bin', 'ddapm-test-agent');
  if (!existsSync(bin)) {
    mkdirSync(CACHE, { recursive: true });
    console.log(`installing ddapm-test-agent ${TEST_AGENT_VERSION} into ${venv} ...`);
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `ddapm-test-agent==${TEST_AGENT_VERSION}`], { stdio: 'inherit' });
  }
  return bin;
}

const CLK_TCK = 100;
function cpuSeconds(pid) {
  // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
function peakRss(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} never answered`);
}

/** Sends `body()` to `port` at `path` over CONNECTIONS keep-alive connections for SECONDS; spans/s accepted. */
async function load(port, path, body, spans) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const end = Date.now() + SECONDS * 1000;
  let accepted = 0;
  let refused = 0;
  const one = () => new Promise((resolve, reject) => {
    const b = body();
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent, headers: {
      'Content-Type': 'application/msgpack', 'Content-Length': b.length, 'Datadog-Meta-Lang': 'nodejs', 'Datadog-Meta-Tracer-Version': '5.132.0',
      'X-Datadog-Trace-Count': String(TRACES_PER_PAYLOAD),
    } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) accepted++; else refused++; resolve(); });
    });
    req.on('error', reject);
    req.end(b);
  });
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => { while (Date.now() < end) await one(); }));
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  agent.destroy();
  return { rate: (accepted * spans) / s, spans: accepted * spans, refused };
}

const p = payloads(TRACES_PER_PAYLOAD);
const bodies = { 'v0.4': freshV04(p.v04), 'v0.5': freshV05(p.v05, p.chunks) };

// The Datadog intake stand-in for the pure forwarder: reads and discards.
const intake = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(202).end('{}')); });
await new Promise((r) => intake.listen(0, '127.0.0.1', r));

let nextPort = 19100 + (process.pid % 500) * 4;
const targets = [
  ['ecs-trace (default)', () => {
    const port = nextPort++;
    const api = nextPort++;
    const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-peers-'));
    const child = spawn(process.execPath, ['packages/cli/dist/bin.js', 'agent', '--data-dir', dir, '--api-port', String(api)], {
      env: { ...process.env, DD_APM_RECEIVER_PORT: String(port), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'warn', ECS_TRACE_MAX_DISK: '0' }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    return { child, port, ready: `http://127.0.0.1:${port}/info`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }],
  ['ecs-trace (pure forwarder)', () => {
    const port = nextPort++;
    const api = nextPort++;
    const child = spawn(process.execPath, ['packages/cli/dist/bin.js', 'agent', '--api-port', String(api)], {
      env: {
        ...process.env, DD_APM_RECEIVER_PORT: String(port), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'warn', ECS_TRACE_STORE: 'none',
        DD_API_KEY: 'bench-key-0123456789abcdef', DD_APM_DD_URL: `http://127.0.0.1:${intake.address().port}`,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return { child, port, ready: `http://127.0.0.1:${port}/info`, cleanup: () => undefined };
  }],
  [`dd-apm-test-agent ${TEST_AGENT_VERSION}`, () => {
    const port = nextPort++;
    const child = spawn(testAgentBin(), [`--port=${port}`], { env: { ...process.env, LOG_LEVEL: 'WARNING' }, stdio: ['ignore', 'ignore', 'ignore'] });
    return { child, port, ready: `http://127.0.0.1:${port}/info`, cleanup: () => undefined };
  }],
];

const results = [];
for (const [name, start] of targets) {
  for (const [version, body] of Object.entries(bodies)) {
    const t = start();
    try {
      await waitFor(t.ready);
      const cpu0 = cpuSeconds(t.child.pid);
      const r = await load(t.port, `/${version}/traces`, body, p.spans);
      const cpu = cpuSeconds(t.child.pid) - cpu0;
      results.push({ name, version, rate: r.rate, cpuPerMillion: r.spans > 0 ? (cpu / r.spans) * 1e6 : NaN, rss: peakRss(t.child.pid), refused: r.refused });
    } finally {
      t.child.kill('SIGTERM');
      await new Promise((r) => (t.child.exitCode !== null ? r() : t.child.once('exit', r)));
      t.cleanup();
    }
  }
}
intake.close();

console.log(`node ${process.version}: ${p.spans} spans a payload (dd-trace 5.132 shapes), ${CONNECTIONS} keep-alive connections, ${SECONDS} s a target; ratios to ecs-trace (default) in this run`);
console.log('  target                          payload   spans/s            CPU s / 1M spans     peak RSS');
const ratio = (v, base) => (Number.isFinite(v) && base > 0 ? `${(v / base).toFixed(2)}x` : '-');
for (const r of results) {
  const base = results.find((b) => b.name === 'ecs-trace (default)' && b.version === r.version);
  const refused = r.refused > 0 ? `  (${r.refused} payloads refused)` : '';
  console.log(`  ${r.name.padEnd(31)} ${r.version.padEnd(8)}  ${Math.round(r.rate).toLocaleString('en-US').padStart(8)} ${ratio(r.rate, base.rate).padStart(7)}   ${r.cpuPerMillion.toFixed(1).padStart(8)} ${ratio(r.cpuPerMillion, base.cpuPerMillion).padStart(7)}   ${(r.rss / 1048576).toFixed(0).padStart(5)} MB ${ratio(r.rss, base.rss).padStart(6)}${refused}`);
}
