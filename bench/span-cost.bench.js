// Where a span's time goes on the intake path, stage by stage, in one process, rounds interleaved:
// decoding (v0.4), the pipeline (normalize, filter, obfuscate, stats, sample) over a store that
// discards, preparing the store's write (the segment blob, the chunk and index rows, the
// rollups) and committing it to SQLite. Printed: µs per span and each stage's share, which is
// what bounds intake on one thread (the writer thread moves the commit to a second one).
//   node bench/span-cost.bench.js [--quick]
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeV04 } from '@ecs-trace/protocol';
import { SqliteStore, createPipeline, agentMetrics, loadConfig, createLogger } from '@ecs-trace/agent';
import { prepareWrite } from '../packages/agent/dist/store/prepare-write.js';
import { encodeSegment } from '../packages/agent/dist/store/segment-codec.js';
import { rollupsOf } from '../packages/agent/dist/store/trace-rollup.js';
import { payloads } from './payloads.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const ITER = quick ? 10 : 30;
const { v04: body, spans } = payloads(300);
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-span-cost-'));
const store = new SqliteStore({ dataDir: dir });
const discard = { write: async () => {}, writeStats: async () => {}, queryStats: async () => [] };
const { pipeline } = createPipeline(loadConfig({ env: {} }), { store: discard, metrics: agentMetrics(), log: createLogger('off'), env: {}, statsFlushIntervalMs: 0 });

/** The payload decoded with new random trace ids and current times, as real traffic comes. */
function decoded() {
  const chunks = decodeV04(body);
  const shift = BigInt(Date.now()) * 1_000_000n - chunks[0][0].start;
  const ids = new BigUint64Array(chunks.length);
  randomFillSync(ids);
  chunks.forEach((c, i) => { for (const sp of c) { sp.traceId = ids[i]; sp.start += shift; } });
  return chunks;
}
const payloadOf = (chunks) => ({ chunks, lang: 'nodejs', langVersion: '20', tracerVersion: '5.132.0', containerId: '', clientComputedStats: false, clientComputedTopLevel: false, clientDroppedP0Traces: 0, receivedAt: BigInt(Date.now()) * 1_000_000n });
const batchOf = (chunks) => ({ chunks, env: 'none', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: BigInt(Date.now()) * 1_000_000n });

// Each stage timed on inputs made outside its clock.
const stages = {
  'decode (v0.4)': { make: () => body, run: (b) => decodeV04(b) },
  'pipeline': { make: () => payloadOf(decoded()), run: (p) => { void pipeline.process(p); } },
  'prepare write': { make: () => { const c = decoded(); void pipeline.process(payloadOf(c)); return batchOf(c); }, run: (b) => prepareWrite(b) },
  '  of which segment blob': { make: () => decoded(), run: (c) => encodeSegment(c) },
  '  of which rollups': { make: () => batchOf(decoded()), run: (b) => rollupsOf(b, b.receivedAt) },
  'SQLite commit': { make: () => { const c = decoded(); void pipeline.process(payloadOf(c)); return prepareWrite(batchOf(c)); }, run: (w) => store.applyWrite(w) },
};
function time({ make, run }) {
  const inputs = Array.from({ length: ITER }, make);
  const t = process.hrtime.bigint();
  for (const i of inputs) run(i);
  return Number(process.hrtime.bigint() - t) / 1e3 / ITER / spans;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const s of Object.values(stages)) time(s); // warm up
const results = Object.fromEntries(Object.keys(stages).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) for (const [k, s] of Object.entries(stages)) results[k].push(time(s));
store.close();
rmSync(dir, { recursive: true, force: true });

const whole = ['decode (v0.4)', 'pipeline', 'prepare write', 'SQLite commit'].reduce((sum, k) => sum + median(results[k]), 0);
console.log(`node ${process.version}: ${spans} spans a payload (dd-trace shapes), µs per span, median of ${ROUNDS} rounds of ${ITER} payloads`);
for (const [k, xs] of Object.entries(results)) console.log(`  ${k.padEnd(26)} ${median(xs).toFixed(2).padStart(6)} µs  ${(100 * median(xs) / whole).toFixed(0).padStart(3)}%`);
console.log(`  ${'one thread, all stages'.padEnd(26)} ${whole.toFixed(2).padStart(6)} µs  = ${Math.round(1e6 / whole).toLocaleString('en-US')} spans/s before HTTP`);
