// Where a span's time goes on the intake path, stage by stage, in one process, rounds interleaved:
// decoding (v0.4), the pipeline (normalize, filter, obfuscate, stats, sample) over a store that
// discards, preparing the store's write (the segment blob, the chunk and index rows, the
// rollups) and committing it to SQLite. Printed: µs per span and each stage's share, which is
// what bounds intake on one thread (the writer thread moves the commit to a second one).
//   node bench/span-cost.bench.js [--quick]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeV04 } from '@ecs-trace/protocol';
import { SqliteStore } from '@ecs-trace/agent';
import { prepareWrite } from '../packages/agent/dist/store/prepare-write.js';
import { encodeSegment } from '../packages/agent/dist/store/segment-codec.js';
import { rollupsOf } from '../packages/agent/dist/store/trace-rollup.js';
import { payloads } from './payloads.js';
import { batchOf, freshChunks, payloadOf, pipelineWithoutStore } from './stages.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const ITER = quick ? 10 : 30;
const { v04: body, spans } = payloads(300);
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-span-cost-'));
const store = new SqliteStore({ dataDir: dir });
const pipeline = pipelineWithoutStore();

// Each stage timed on inputs made outside its clock.
const stages = {
  'decode (v0.4)': { make: () => body, run: (b) => decodeV04(b) },
  'pipeline': { make: () => payloadOf(freshChunks(body)), run: (p) => { void pipeline.process(p); } },
  'prepare write': { make: () => { const c = freshChunks(body); void pipeline.process(payloadOf(c)); return batchOf(c); }, run: (b) => prepareWrite(b) },
  '  of which segment blob': { make: () => freshChunks(body), run: (c) => encodeSegment(c) },
  '  of which rollups': { make: () => batchOf(freshChunks(body)), run: (b) => rollupsOf(b, b.receivedAt) },
  'SQLite commit': { make: () => { const c = freshChunks(body); void pipeline.process(payloadOf(c)); return prepareWrite(batchOf(c)); }, run: (w) => store.applyWrite(w) },
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
await store.close();
rmSync(dir, { recursive: true, force: true });

const whole = ['decode (v0.4)', 'pipeline', 'prepare write', 'SQLite commit'].reduce((sum, k) => sum + median(results[k]), 0);
console.log(`node ${process.version}: ${spans} spans a payload (dd-trace shapes), µs per span, median of ${ROUNDS} rounds of ${ITER} payloads`);
for (const [k, xs] of Object.entries(results)) console.log(`  ${k.padEnd(26)} ${median(xs).toFixed(2).padStart(6)} µs  ${(100 * median(xs) / whole).toFixed(0).padStart(3)}%`);
console.log(`  ${'one thread, all stages'.padEnd(26)} ${whole.toFixed(2).padStart(6)} µs  = ${Math.round(1e6 / whole).toLocaleString('en-US')} spans/s before HTTP`);
