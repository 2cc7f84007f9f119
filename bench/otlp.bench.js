// OTLP/HTTP protobuf intake against the Datadog v0.4 intake, in one run: the same spans (the
// dd-trace-shaped payload of the other benchmarks) encoded both ways, decoded and mapped in
// process, then sent over HTTP to one agent's two intakes by 4 keep-alive connections, rounds
// interleaved. Printed as ratios: OTLP / v0.4.
//   node bench/otlp.bench.js [--quick]
import { request, Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeOtlpProtobuf, decodeV04, otlpToDatadog } from '@ecs-trace/protocol';
import { startAgent, loadConfig, createLogger } from '@ecs-trace/agent';
import { payloads } from './payloads.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 5;
const { chunks, spans, v04 } = payloads(300);

// OTLP protobuf of the same spans, as an SDK writes it: one resource, one scope, ids as bytes,
// meta and metrics as attributes.
function varint(n) { const o = []; let v = BigInt(n); while (v >= 128n) { o.push(Number(v & 127n) | 128); v >>= 7n; } o.push(Number(v)); return Buffer.from(o); }
const field = (n, body) => Buffer.concat([varint(n * 8 + 2), varint(body.length), body]);
const str = (n, s) => field(n, Buffer.from(s));
const fixed64 = (n, v) => { const b = Buffer.alloc(9); b[0] = n * 8 + 1; b.writeBigUInt64LE(BigInt.asUintN(64, v), 1); return b; };
const id = (v, bytes) => { const b = Buffer.alloc(bytes); b.writeBigUInt64BE(v, bytes - 8); return b; };
const kv = (k, value) => field(9, Buffer.concat([str(1, k), field(2, value)]));
function otlpSpan(s) {
  const attrs = [
    ...Object.entries(s.meta).map(([k, v]) => kv(k, str(1, v))),
    ...Object.entries(s.metrics).map(([k, v]) => { const b = Buffer.alloc(9); b[0] = 0x21; b.writeDoubleLE(v, 1); return kv(k, b); }),
  ];
  return field(2, Buffer.concat([
    field(1, id(s.traceId, 16)), field(2, id(s.spanId, 8)), ...(s.parentId ? [field(4, id(s.parentId, 8))] : []), str(5, s.name),
    Buffer.from([0x30, s.parentId ? 1 : 2]), fixed64(7, s.start), fixed64(8, s.start + BigInt(s.duration)), ...attrs,
  ]));
}
const resource = field(1, Buffer.concat([field(1, Buffer.concat([str(1, 'service.name'), field(2, str(1, 'bench'))])), field(1, Buffer.concat([str(1, 'telemetry.sdk.language'), field(2, str(1, 'nodejs'))]))]));
const otlp = field(1, Buffer.concat([resource, field(2, Buffer.concat(chunks.flat().map(otlpSpan)))]));

function timeIt(fn, n) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / n / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const inproc = { v04: [], otlp: [] };
for (let r = 0; r < ROUNDS; r++) {
  inproc.v04.push(timeIt(() => decodeV04(v04), 20));
  inproc.otlp.push(timeIt(() => otlpToDatadog(decodeOtlpProtobuf(otlp)), 20));
}

const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-otlp-bench-'));
const config = loadConfig({ env: { ECS_TRACE_DATA_DIR: dir, DD_APM_NON_LOCAL_TRAFFIC: 'false', ECS_TRACE_OTLP: 'true', ECS_TRACE_MAX_DISK: '0' } });
const agent = await startAgent(config, { ephemeralPorts: true, containerized: false, log: createLogger('off') });

async function send(port, path, body, type, seconds) {
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
  const deadline = Date.now() + seconds * 1000;
  let sent = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (Date.now() < deadline) {
      await new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: keepAlive, headers: { 'Content-Type': type, 'Content-Length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
      sent++;
    }
  }));
  keepAlive.destroy();
  return (sent * spans) / seconds;
}

const e2e = { v04: [], otlp: [] };
const seconds = quick ? 2 : 4;
for (let r = 0; r < ROUNDS; r++) {
  e2e.v04.push(await send(agent.receiver.port, '/v0.4/traces', v04, 'application/msgpack', seconds));
  e2e.otlp.push(await send(agent.otlpHttp.port, '/v1/traces', otlp, 'application/x-protobuf', seconds));
}
await agent.close();
rmSync(dir, { recursive: true, force: true });

const [dv, dO] = [median(inproc.v04), median(inproc.otlp)];
const [ev, eo] = [median(e2e.v04), median(e2e.otlp)];
console.log(`node ${process.version}: ${spans} spans a payload (v0.4 ${v04.length} bytes, OTLP protobuf ${otlp.length} bytes), ${ROUNDS} rounds`);
console.log(`  decode (+ map, for OTLP), in process: v0.4 ${dv.toFixed(2)} ms, OTLP ${dO.toFixed(2)} ms = ${(dv / dO).toFixed(2)}x v0.4's rate`);
console.log(`  over HTTP into the agent:             v0.4 ${Math.round(ev).toLocaleString('en-US')} spans/s, OTLP ${Math.round(eo).toLocaleString('en-US')} spans/s = ${(eo / ev).toFixed(2)}x (target >= 0.8x)`);
