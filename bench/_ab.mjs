// A/B: the same load against two builds of the agent, rounds interleaved.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshV04, payloads } from './payloads.js';
const [A, B] = [process.argv[2], process.argv[3]];
const p = payloads(300);
const body = freshV04(p.v04);
async function run(root, port) {
  const dir = mkdtempSync(join(tmpdir(), 'ab-'));
  const child = spawn(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'agent', '--data-dir', dir, '--api-port', String(port + 1)], { env: { ...process.env, DD_APM_RECEIVER_PORT: String(port), DD_APM_NON_LOCAL_TRAFFIC: 'false', DD_LOG_LEVEL: 'warn', ECS_TRACE_MAX_DISK: '0' }, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) { try { await fetch(`http://127.0.0.1:${port}/info`); break; } catch { await new Promise((r) => setTimeout(r, 100)); } }
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const end = Date.now() + 8000; let n = 0;
  const one = () => new Promise((res, rej) => { const b = body(); const q = request({ host: '127.0.0.1', port, path: '/v0.4/traces', method: 'PUT', agent, headers: { 'Content-Type': 'application/msgpack', 'Content-Length': b.length } }, (r) => { r.resume(); r.on('end', () => { if (r.statusCode === 200) n++; res(); }); }); q.on('error', rej); q.end(b); });
  const t = Date.now();
  await Promise.all([0, 1, 2, 3].map(async () => { while (Date.now() < end) await one(); }));
  const rate = (n * p.spans) / ((Date.now() - t) / 1000);
  agent.destroy(); child.kill('SIGTERM'); await new Promise((r) => child.on('exit', r)); rmSync(dir, { recursive: true, force: true });
  return rate;
}
const rates = { A: [], B: [] };
for (let r = 0; r < 4; r++) { rates.A.push(await run(A, 19800)); rates.B.push(await run(B, 19810)); }
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('A', A, rates.A.map(Math.round), 'median', Math.round(med(rates.A)));
console.log('B', B, rates.B.map(Math.round), 'median', Math.round(med(rates.B)), `B/A ${(med(rates.B) / med(rates.A)).toFixed(3)}`);
