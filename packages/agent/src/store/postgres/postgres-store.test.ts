import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentsAvailable } from '../../../../../e2e/components.js';
import { batch, span, storeConformance, tid } from '../conformance.js';
import { prepareWrite } from '../prepare-write.js';
import { newSketch, type StatsRow } from '../records.js';
import { DAY_NS, migrate } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from './test-server.js';

/* The PostgreSQL store passes the same conformance suite as the embedded one, against a real server. */

const run = componentsAvailable(postgresUnavailable(), 'PostgreSQL store tests');
let server: TestPostgres | undefined;
let n = 0;

async function partitions(url: string): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const { rows } = await pool.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind = 'r' ORDER BY 1");
    return rows.map((r) => r.name);
  } finally {
    await pool.end();
  }
}

if (run) {
  beforeAll(() => { server = startTestPostgres(15_000 + (process.pid % 5000)); }, 60_000);
  afterAll(() => server?.stop());
  storeConformance('postgres', async () => PostgresStore.open({ url: server!.database(`conformance_${n++}`) }), { sizeRetention: false, retentionPartitionNs: DAY_NS });

  describe('postgres: days as partitions', () => {
    const today = (BigInt(Date.now()) * 1_000_000n / DAY_NS) * DAY_NS;
    const at = (days: bigint) => today + days * DAY_NS + 3_600_000_000_000n;

    it('drops whole days past the retention and keeps the rest', async () => {
      const url = server!.database('days_retention');
      const store = await PostgresStore.open({ url });
      try {
        for (const d of [-3n, -2n, 0n]) {
          await store.write(batch([[span({ traceId: 100n + d, spanId: 1n, start: at(d) })]], { receivedAt: at(d) }));
        }
        const day = (d: bigint) => String(today / DAY_NS + d);
        expect(await partitions(url)).toContain(`payloads_d${day(-3n)}`);
        const r = await store.enforceRetention(today - DAY_NS);
        expect(r).toEqual({ deletedSpans: 2, reason: 'age' });
        const names = await partitions(url);
        expect(names.filter((x) => x.endsWith(`_d${day(-3n)}`) || x.endsWith(`_d${day(-2n)}`))).toEqual([]);
        expect(names).toContain(`chunks_d${day(0n)}`);
        expect(await store.getTrace(tid((97n).toString(16)))).toBeUndefined();
        expect((await store.getTrace(tid((100n).toString(16))))?.spans).toHaveLength(1);
        // A late write into a dropped day makes the day again.
        await store.write(batch([[span({ traceId: 555n, spanId: 1n, start: at(-3n) })]], { receivedAt: at(-3n) }));
        expect((await store.getTrace(tid((555n).toString(16))))?.spans).toHaveLength(1);
      } finally {
        await store.close();
      }
    });

    it('ten agents starting and writing the first payload of a day at once: one schema, one set of partitions', async () => {
      const url = server!.database('days_ten');
      const stores = await Promise.all(Array.from({ length: 10 }, () => PostgresStore.open({ url, poolSize: 2 })));
      try {
        await Promise.all(stores.map((s, i) => s.write(batch([[span({ traceId: 1000n + BigInt(i), spanId: 1n, start: at(0n) })]], { receivedAt: at(0n) }))));
        expect((await partitions(url)).filter((x) => x.startsWith('payloads_d'))).toEqual([`payloads_d${today / DAY_NS}`]);
        expect((await stores[0]!.searchTraces({ limit: 50 })).length).toBe(10);
        // Retention by one agent at a time: the others skip their turn while it runs.
        const results = await Promise.all(stores.map((s) => s.enforceRetention(today + DAY_NS)));
        expect(results.reduce((sum, r) => sum + r.deletedSpans, 0)).toBe(10);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('a call whose two sides two agents wrote at the same moment is counted at the next maintenance, once', async () => {
      const url = server!.database('halves_race');
      const a = await PostgresStore.open({ url });
      const b = await PostgresStore.open({ url });
      const client = span({ traceId: 51n, spanId: 7n, parentId: 1n, service: 'api', type: 'http', start: at(0n), meta: { env: 'prod', 'span.kind': 'client', 'out.host': 'billing' } });
      const server_ = span({ traceId: 51n, spanId: 8n, parentId: 7n, service: 'billing', start: at(0n), meta: { env: 'prod', 'span.kind': 'server' } });
      const range = { start: at(0n) - 3_600_000_000_000n, end: at(0n) + 3_600_000_000_000n };
      try {
        // Each side stored as if the other were not committed yet: both wait.
        const pool = new pg.Pool({ connectionString: url });
        for (const [s, side, id] of [[client, 'client', 7n], [server_, 'server', 7n]] as const) {
          await pool.query('INSERT INTO call_halves (trace_id, span_id, side, at, data) VALUES ($1, $2, $3, $4, $5)',
            [51n, id, side, BigInt(Date.now()) * 1_000_000n, JSON.stringify({ service: s.service, env: 'prod', type: s.type, start: String(s.start), duration: s.duration, error: 0 })]);
        }
        await pool.end();
        expect(await a.readRollups('edge', range)).toEqual([]);
        await Promise.all([a.enforceRetention(0n), b.enforceRetention(0n)]);
        await a.enforceRetention(0n);
        expect((await b.readRollups('edge', range)).map((r) => r.data)).toMatchObject([{ from: 'api', to: 'billing', calls: 1, leaf: false }]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('the services list sums every agent\'s rows of the rollup', async () => {
      const url = server!.database('rollup_two');
      const a = await PostgresStore.open({ url });
      const b = await PostgresStore.open({ url });
      const hour = 3_600_000_000_000n;
      const t = (at(0n) / hour) * hour;
      const row = (start: bigint, hits: number, latencyNs: number): StatsRow => {
        const ok = newSketch();
        for (let i = 0; i < hits; i++) ok.accept(latencyNs);
        return {
          start, durationNs: 10_000_000_000n, service: 'api', name: 'web.request', resource: 'GET /', type: 'web', env: 'prod', version: '',
          httpStatusCode: 200, spanKind: 'server', isTraceRoot: true, synthetics: false, peerTags: [], hits, topLevelHits: hits, errors: 0,
          totalDuration: hits * latencyNs, okSketch: ok, errorSketch: newSketch(), source: 'agent',
        };
      };
      try {
        await a.writeStats([row(t, 3, 1e6)]);
        await b.writeStats([row(t + 20_000_000_000n, 2, 9e6)]);
        await a.writeStats([row(t + 40_000_000_000n, 5, 1e6)]);
        // A whole hour (rollup rows of two writers) and a ragged range (10-s rows) agree.
        for (const range of [{ start: t, end: t + hour }, { start: t + 10_000_000_000n, end: t + 50_000_000_000n }]) {
          const [r] = await b.serviceStats(range);
          const expected = range.start === t ? 10 : 7;
          expect(r?.topLevelHits).toBe(expected);
          expect(r?.okSketch.count).toBe(expected);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('upgrades a schema-1 database, its data kept', async () => {
      const url = server!.database('days_upgrade');
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      try {
        expect(await migrate(pool, 1)).toBe(1);
        const w = prepareWrite(batch([[span({ traceId: 77n, spanId: 1n, start: at(-1n) }), span({ traceId: 77n, spanId: 2n, parentId: 1n, start: at(-1n), meta: { env: 'prod', team: 'blue' } })]], { receivedAt: at(-1n) }));
        const { rows } = await pool.query<{ id: string }>(
          `INSERT INTO payloads (received, max_end, span_count, lang, tracer_version, container_id, hostname, spans)
           VALUES ($1, $2, $3, 'nodejs', '5', '', 'h', $4) RETURNING id`, [w.received, w.maxEnd, w.spans, w.blob]);
        const c = w.chunks[0]!;
        await pool.query(
          `INSERT INTO chunks (trace_id, payload, "offset", trace_id_high, start, "end", root_span_id, root_service, root_name, root_resource, env, span_count, error_count, services)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
          [c.traceId, rows[0]!.id, c.offset, c.traceIdHigh, c.start, c.end, c.rootSpanId, c.rootService, c.rootName, c.rootResource, c.env, c.spanCount, c.errorCount, c.services]);
        const sketch = Buffer.from(newSketch().toProto());
        const ok = newSketch();
        ok.accept(5e6);
        await pool.query(
          `INSERT INTO stats VALUES ($1, 10000000000, 'checkout', 'web.request', 'GET /cart', 'web', 'prod', '', 200, 'server', true, false, '', 4, 4, 0, 2e7, $2, $3, 'agent')`,
          [at(-1n), Buffer.from(ok.toProto()), sketch]);
        for (const x of w.index) {
          await pool.query('INSERT INTO span_index (payload, service, env, name, resource, type, start, duration, error, trace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
            [rows[0]!.id, x.service, x.env, x.name, x.resource, x.type, x.start, x.duration, x.error, x.traceId]);
        }
      } finally {
        await pool.end();
      }
      const store = await PostgresStore.open({ url });
      try {
        expect(await PostgresStore.status({ url })).toEqual({ current: 12, latest: 12 });
        // The stats of schema 1 were folded into the services rollup: a whole-hours range reads it.
        const hour = 3_600_000_000_000n;
        const services = await store.serviceStats({ start: (at(-1n) / hour) * hour, end: (at(-1n) / hour + 2n) * hour });
        expect(services.map((r) => [r.service, r.topLevelHits, r.okSketch.count])).toEqual([['checkout', 4, 1]]);
        expect((await store.getTrace(tid((77n).toString(16))))?.spans.map((s) => s.span.spanId)).toEqual([1n, 2n]);
        expect((await store.searchTraces({ service: 'checkout', limit: 10 })).map((t) => t.traceId.low)).toEqual([77n]);
        // The tag index is made for the payloads stored before it.
        expect((await store.searchTraces({ tag: { key: 'team', value: 'Blue' }, limit: 10 })).map((t) => t.traceId.low)).toEqual([77n]);
        await store.write(batch([[span({ traceId: 78n, spanId: 1n, start: at(0n) })]], { receivedAt: at(0n) }));
        expect((await store.searchTraces({ limit: 10 })).length).toBe(2);
      } finally {
        await store.close();
      }
    });
  });
}
