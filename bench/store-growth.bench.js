// What a payload's commit costs the embedded store as the store grows, with trace ids drawn as
// tracers draw them (random 64-bit): each round writes 50 payloads of 468 dd-trace-shaped spans
// (300 traces) into one store. Printed per round: µs per span of the commit (checkpoints run on
// their own thread, as the agent runs them) as a ratio to the first round's, and the bytes the
// process wrote per payload (log and checkpoints; /proc/self/io counts every thread) as a multiple
// of the payload's span blob: the write amplification of the store's indexes; and the longest
// commit of the round (a merge of the trace-id index's runs happens inside one commit).
//   node bench/store-growth.bench.js [--quick] [--rounds N]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@ecs-trace/agent';
import { prepareWrite } from '../packages/agent/dist/store/prepare-write.js';
import { payloads } from './payloads.js';
import { batchOf, freshChunks, payloadOf, pipelineWithoutStore } from './stages.js';

const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : undefined; };
const ROUNDS = arg('--rounds') ?? (process.argv.includes('--quick') ? 12 : 40);
const PER_ROUND = 50;
const { v04: body, spans } = payloads(300);
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-store-growth-'));
const store = new SqliteStore({ dataDir: dir });
const pipeline = pipelineWithoutStore();

/** A prepared write of the payload with a random id per trace and current times. */
function write() {
  const chunks = freshChunks(body);
  void pipeline.process(payloadOf(chunks));
  return prepareWrite(batchOf(chunks));
}
const written = () => Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);

console.log(`node ${process.version}: ${PER_ROUND} payloads a round (${spans} spans, 300 random trace ids each), commit cost as the store grows`);
console.log('  payloads stored   database   commit µs/span   ratio to round 1   written a payload   x its span blob   longest commit');
let first;
const late = { us: 0, bytes: 0, rounds: 0 };
let longest = { ms: 0, at: 0 };
for (let r = 1; r <= ROUNDS; r++) {
  const ws = Array.from({ length: PER_ROUND }, write);
  const w0 = written();
  const t = process.hrtime.bigint();
  let roundLongest = 0;
  for (const [i, w] of ws.entries()) {
    const c = process.hrtime.bigint();
    store.applyWrite(w);
    const ms = Number(process.hrtime.bigint() - c) / 1e6;
    if (ms > roundLongest) roundLongest = ms;
    if (ms > longest.ms) longest = { ms, at: (r - 1) * PER_ROUND + i + 1 };
  }
  const us = Number(process.hrtime.bigint() - t) / 1e3 / PER_ROUND / spans;
  first ??= us;
  const wal = (written() - w0) / PER_ROUND;
  // The second half of the rounds: the store bigger than its page cache, merges of every size.
  if (r > ROUNDS / 2) { late.us += us; late.bytes += wal; late.rounds++; }
  const blob = ws.reduce((n, w) => n + w.blob.length, 0) / PER_ROUND;
  if (r === 1 || r % Math.max(1, Math.floor(ROUNDS / 10)) === 0 || r === ROUNDS) {
    const db = statSync(join(dir, 'traces.db')).size / 1048576;
    console.log(`  ${String(r * PER_ROUND).padStart(15)}   ${db.toFixed(0).padStart(5)} MB   ${us.toFixed(2).padStart(14)}   ${(us / first).toFixed(2).padStart(15)}x   ${(wal / 1024).toFixed(0).padStart(14)} KB   ${(wal / blob).toFixed(1).padStart(14)}x   ${roundLongest.toFixed(0).padStart(11)} ms`);
  }
}
const blobOf = write().blob.length;
console.log(`  the last ${late.rounds} rounds: ${(late.us / late.rounds).toFixed(2)} µs a span (${(late.us / late.rounds / first).toFixed(2)}x round 1), ${(late.bytes / late.rounds / 1024).toFixed(0)} KB written a payload (${(late.bytes / late.rounds / blobOf).toFixed(1)}x its span blob)`);
console.log(`  the longest commit: ${longest.ms.toFixed(0)} ms (payload ${longest.at})`);
await store.close();
rmSync(dir, { recursive: true, force: true });
