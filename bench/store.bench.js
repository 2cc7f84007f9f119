// Store write throughput: the same dd-trace-shaped payloads (fresh ids, current times) into the
// embedded SQLite store and into PostgreSQL (a throwaway local server, fsync off as in the tests:
// this measures the store's own work, not a disk), rounds interleaved in one run.
//   node bench/store.bench.js [--quick]       (needs Debian's postgresql)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markTopLevel } from '@ecs-trace/protocol';
import { postgresStore, SqliteStore } from '@ecs-trace/agent';
import { startTestPostgres } from '../packages/agent/dist/store/postgres/test-server.js';
import { ddTraceChunks } from './payloads.js';

const PostgresStore = await postgresStore();

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

// As the spool ships: what has piled up (up to 32 payloads) in one write.
const SHIP = 32;
async function timeShipped(stores) {
  const t = process.hrtime.bigint();
  await Promise.all(stores.map(async (store) => {
    for (let i = 0; i < PAYLOADS * 2; i += SHIP) await store.writeMany(Array.from({ length: SHIP }, batch));
  }));
  return (stores.length * Math.ceil((PAYLOADS * 2) / SHIP) * SHIP * spansPerPayload) / (Number(process.hrtime.bigint() - t) / 1e9);
}

const pg = startTestPostgres(17_500 + (process.pid % 1000));
const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-store-bench-'));
const sqlite = new SqliteStore({ dataDir: dir, maxDiskBytes: 0 });
const benchUrl = pg.database('bench');
const postgres = await PostgresStore.open({ url: benchUrl });
// A second agent: its own connections to the same database.
const second = await PostgresStore.open({ url: benchUrl });
try {
  await timeWrites(sqlite);
  await timeWrites(postgres);
  const rates = { sqlite: [], postgres: [], shipped: [], two: [] };
  for (let r = 0; r < ROUNDS; r++) {
    rates.sqlite.push(await timeWrites(sqlite));
    rates.postgres.push(await timeWrites(postgres));
    rates.shipped.push(await timeShipped([postgres]));
    rates.two.push(await timeShipped([postgres, second]));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const s = median(rates.sqlite);
  const p = median(rates.postgres);
  console.log(`node ${process.version}: ${spansPerPayload} spans a payload, ${PAYLOADS} payloads a round, ${ROUNDS} rounds, one writer`);
  console.log(`  ${'embedded SQLite, a payload a write'.padEnd(40)} ${Math.round(s).toLocaleString('en-US').padStart(9)} spans/s   1.00x`);
  const line = (label, v) => console.log(`  ${label.padEnd(40)} ${Math.round(v).toLocaleString('en-US').padStart(9)} spans/s   ${(v / s).toFixed(2)}x of SQLite`);
  line('PostgreSQL, a payload a write', p);
  line(`PostgreSQL, shipped ${SHIP} payloads a write`, median(rates.shipped));
  line('PostgreSQL, two agents shipping at once', median(rates.two));
} finally {
  await sqlite.close();
  await postgres.close();
  await second.close();
  pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
