// Store write throughput: the same dd-trace-shaped payloads (fresh ids, current times) into the
// embedded SQLite store and into PostgreSQL (a throwaway local server, fsync off as in the tests:
// this measures the store's own work, not a disk), rounds interleaved in one run.
//   node bench/store.bench.js [--quick]       (needs Debian's postgresql)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markTopLevel } from '@ecs-trace/protocol';
import { PostgresStore, SqliteStore } from '@ecs-trace/agent';
import { startTestPostgres } from '../packages/agent/dist/store/postgres/test-server.js';
import { ddTraceChunks } from './payloads.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 5;
const PAYLOADS = quick ? 20 : 50;

const template = ddTraceChunks(300);
const spansPerPayload = template.reduce((n, c) => n + c.length, 0);
let salt = 0n;
function batch() {
  salt += 1n;
  const now = BigInt(Date.now()) * 1_000_000n;
  const chunks = template.map((c) => c.map((s) => ({ ...s, traceId: s.traceId ^ ((salt * 0x9e3779b97f4a7c15n) & 0x7fffffffffff0000n), start: now, meta: { ...s.meta }, metrics: { ...s.metrics } })));
  for (const c of chunks) markTopLevel(c, false);
  return { chunks, env: 'prod', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: now };
}

async function timeWrites(store) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < PAYLOADS; i++) await store.write(batch());
  return (PAYLOADS * spansPerPayload) / (Number(process.hrtime.bigint() - t) / 1e9);
}

const pg = startTestPostgres(17_500 + (process.pid % 1000));
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-store-bench-'));
const sqlite = new SqliteStore({ dataDir: dir, maxDiskBytes: 0 });
const postgres = await PostgresStore.open({ url: pg.database('bench') });
try {
  await timeWrites(sqlite);
  await timeWrites(postgres);
  const rates = { sqlite: [], postgres: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rates.sqlite.push(await timeWrites(sqlite));
    rates.postgres.push(await timeWrites(postgres));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const s = median(rates.sqlite);
  const p = median(rates.postgres);
  console.log(`node ${process.version}: ${spansPerPayload} spans a payload, ${PAYLOADS} payloads a round, ${ROUNDS} rounds, one writer`);
  console.log(`  embedded SQLite   ${Math.round(s).toLocaleString('en-US').padStart(9)} spans/s   1.00x`);
  console.log(`  PostgreSQL        ${Math.round(p).toLocaleString('en-US').padStart(9)} spans/s   ${(p / s).toFixed(2)}x of SQLite`);
} finally {
  await sqlite.close();
  await postgres.close();
  pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
