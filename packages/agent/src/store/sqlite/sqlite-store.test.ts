import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batch, span, storeConformance, tid } from '../conformance.js';
import Database from 'better-sqlite3';
import { newSketch, type StatsRow } from '../records.js';
import { SqliteStore } from './sqlite-store.js';
import { Entries } from './trace-entries.js';

/**
 * Lays a store's trace-id index out as schema 3 did (a row per chunk in trace_chunks), with an
 * empty open run (level -1) as schema 3 left one after sealing it.
 */
function toSchema3(dir: string): void {
  const db = new Database(join(dir, 'traces.db'));
  db.exec(`CREATE TABLE trace_chunks (run INTEGER NOT NULL, trace_id INTEGER NOT NULL, payload INTEGER NOT NULL, offset INTEGER NOT NULL,
    trace_id_high INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, root_span_id INTEGER, span_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL, names INTEGER NOT NULL, PRIMARY KEY (run, trace_id, payload, offset)) WITHOUT ROWID`);
  const insert = db.prepare('INSERT INTO trace_chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  for (const p of db.prepare('SELECT run, entries FROM trace_pages').all() as { run: number; entries: Buffer }[]) {
    const e = new Entries(p.entries);
    for (let i = 0; i < e.count; i++) {
      const c = e.chunk(i);
      insert.run(p.run, c.trace_id, c.payload, c.offset, c.trace_id_high, c.start, c.end, c.root_span_id, c.span_count, c.error_count, c.names);
    }
  }
  db.exec(`DROP TABLE trace_pages; INSERT INTO trace_runs (level, rows, min_payload, max_payload) VALUES (-1, 0, 0, 0);
    DROP TABLE tag_filters; DROP TABLE tag_filter_widest; PRAGMA user_version = 3`);
  db.close();
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'ecs-trace-store-')); dirs.push(d); return d; };

storeConformance('SQLite (file)', async () => new SqliteStore({ dataDir: tmp() }));
// The same suite with the trace-id index merging every two runs into pages of one entry, so
// that every test's traces cross runs, pages, merges and levels.
storeConformance('SQLite (trace-id runs merged all the time)', async () => new SqliteStore({ dataDir: tmp(), fanIn: 2, pageEntries: 1, mergeRows: 8 }));

describe('SQLite store files', () => {
  it('keeps data across a reopen', async () => {
    const dir = tmp();
    const a = new SqliteStore({ dataDir: dir });
    await a.write(batch([[span({ traceId: 42n, spanId: 1n })]]));
    await a.close();
    const b = new SqliteStore({ dataDir: dir });
    expect((await b.getTrace(tid('2a')))!.spans).toHaveLength(1);
    await b.close();
  });

  const T0 = 1_795_576_142_000_000_000n;
  it('upgrades a schema 2 file, whose search index had a row per span, in place', async () => {
    const dir = tmp();
    const a = new SqliteStore({ dataDir: dir });
    await a.write(batch([[span({ traceId: 1n, spanId: 1n, start: T0 })], [span({ traceId: 2n, spanId: 1n, start: T0 + 5n, error: 1 })]]));
    await a.write(batch([[span({ traceId: 3n, spanId: 1n, start: T0 + 9n, service: 'db', resource: 'SELECT ?', meta: { env: 'prod', '_dd.p.tid': '6750c9b600000000' } }),
      span({ traceId: 3n, spanId: 2n, parentId: 1n, start: T0 + 10n, service: 'cache' })]]));
    const before = { search: await a.searchTraces({ limit: 10 }), trace: await a.getTrace(tid('6750c9b6000000000000000000000003')) };
    expect(before.trace!.spans).toHaveLength(2);
    await a.close();
    // The same data as schema 2 laid it out: span_index rows, payloads pointing at their ids.
    toSchema3(dir);
    const db = new Database(join(dir, 'traces.db'));
    db.exec(`DROP TABLE search_blocks;
      CREATE TABLE chunks (trace_id INTEGER NOT NULL, payload INTEGER NOT NULL, offset INTEGER NOT NULL, trace_id_high TEXT NOT NULL,
        start INTEGER NOT NULL, end INTEGER NOT NULL, root_span_id INTEGER, root_service TEXT NOT NULL, root_name TEXT NOT NULL,
        root_resource TEXT NOT NULL, env TEXT NOT NULL, span_count INTEGER NOT NULL, error_count INTEGER NOT NULL, services TEXT NOT NULL,
        PRIMARY KEY (trace_id, payload, offset)) WITHOUT ROWID;
      INSERT INTO chunks SELECT c.trace_id, c.payload, c.offset, CASE c.trace_id_high WHEN 0 THEN '' ELSE printf('%016x', c.trace_id_high) END,
        c.start, c.end, c.root_span_id, n.names ->> ('$[' || c.names || '][0]'), n.names ->> ('$[' || c.names || '][1]'),
        n.names ->> ('$[' || c.names || '][2]'), n.names ->> ('$[' || c.names || '][3]'), c.span_count, c.error_count,
        n.names ->> ('$[' || c.names || '][4]') FROM trace_chunks c JOIN chunk_names n USING (payload);
      DROP TABLE trace_chunks; DROP TABLE chunk_names;
      CREATE TABLE span_index (id INTEGER PRIMARY KEY, service TEXT NOT NULL, env TEXT NOT NULL, name TEXT NOT NULL, resource TEXT NOT NULL,
        type TEXT NOT NULL, start INTEGER NOT NULL, duration INTEGER NOT NULL, error INTEGER NOT NULL, trace_id INTEGER NOT NULL);
      INSERT INTO span_index VALUES (1, 'checkout', 'prod', 'web.request', 'GET /cart', 'web', ${T0}, 10000000, 0, 1),
        (2, 'checkout', 'prod', 'web.request', 'GET /cart', 'web', ${T0 + 5n}, 10000000, 1, 2),
        (3, 'db', 'prod', 'web.request', 'SELECT ?', 'web', ${T0 + 9n}, 10000000, 0, 3),
        (4, 'cache', 'prod', 'web.request', 'GET /cart', 'web', ${T0 + 10n}, 10000000, 0, 3);
      UPDATE payloads SET first_index = 1, last_index = 2 WHERE id = 1;
      UPDATE payloads SET first_index = 3, last_index = 4 WHERE id = 2;
      PRAGMA user_version = 2;`);
    db.close();
    const b = new SqliteStore({ dataDir: dir });
    expect(await b.searchTraces({ limit: 10 })).toEqual(before.search);
    expect(await b.getTrace(tid('6750c9b6000000000000000000000003'))).toEqual(before.trace);
    const ids = async (q: Parameters<SqliteStore['searchTraces']>[0]) => (await b.searchTraces(q)).map((t) => t.traceId.low);
    expect(await ids({ limit: 10 })).toEqual([3n, 2n, 1n]);
    expect(await ids({ error: true, limit: 10 })).toEqual([2n]);
    expect(await ids({ service: 'db', resource: 'SELECT ?', limit: 10 })).toEqual([3n]);
    // Retention still finds each payload's blocks.
    await b.enforceRetention(T0 + 10_000_008n, 0);
    expect(await ids({ limit: 10 })).toEqual([3n]);
    await b.close();
    const after = new Database(join(dir, 'traces.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(6);
    expect(after.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('span_index', 'chunks', 'trace_chunks')").pluck().get()).toBe(0);
    after.close();
  });

  it('upgrades a schema 3 file, whose trace-id index had a row per chunk, in place', async () => {
    const dir = tmp();
    const a = new SqliteStore({ dataDir: dir, fanIn: 3, mergeRows: 8 });
    // 12 payloads: runs of levels 0 to 2. Trace t has chunks in payloads t and t + 5.
    for (let p = 1; p <= 12; p++) {
      const chunks = [[span({ traceId: BigInt(p), spanId: 1n, start: T0 + BigInt(p), meta: { env: 'prod', 'customer.tier': p % 4 === 0 ? 'gold' : 'tin' } })]];
      if (p > 5) chunks.push([span({ traceId: BigInt(p - 5), spanId: 2n, parentId: 1n, start: T0 + BigInt(p) })]);
      await a.write(batch(chunks));
    }
    const traces = async (s: SqliteStore) => Promise.all(Array.from({ length: 12 }, (_, i) => s.getTrace(tid((i + 1).toString(16)))));
    const before = { traces: await traces(a), search: await a.searchTraces({ limit: 20 }) };
    expect(before.traces.map((t) => t?.spans.length)).toEqual([2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1]);
    await a.close();
    toSchema3(dir);
    const b = new SqliteStore({ dataDir: dir, fanIn: 3, mergeRows: 8 });
    expect(await traces(b)).toEqual(before.traces);
    expect(await b.searchTraces({ limit: 20 })).toEqual(before.search);
    // The tag index is made for the payloads written before it.
    expect((await b.searchTraces({ tag: { key: 'customer.tier', value: 'gold' }, limit: 20 })).map((t) => t.traceId.low)).toEqual([12n, 8n, 4n]);
    // Writes, merges and retention go on over the upgraded runs.
    for (let p = 13; p <= 16; p++) await b.write(batch([[span({ traceId: BigInt(p - 10), spanId: 3n, parentId: 1n, start: T0 + BigInt(p) })]]));
    expect((await b.getTrace(tid('3')))?.spans).toHaveLength(3);
    // Payloads 1 to 6 end before the cutoff.
    await b.enforceRetention(T0 + 7n + 10_000_000n, 0);
    expect(await b.getTrace(tid('1'))).toBeUndefined();
    expect((await b.getTrace(tid('3')))?.spans).toHaveLength(2);
    expect((await b.getTrace(tid('b')))?.spans).toHaveLength(1);
    await b.close();
    const after = new Database(join(dir, 'traces.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(6);
    expect(after.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'trace_chunks'").pluck().get()).toBe(0);
    expect(after.prepare('SELECT count(*) FROM trace_runs WHERE rows = 0 OR level < 0').pluck().get()).toBe(0);
    after.close();
  });

  it('upgrades a schema 5 file, whose rollup slots kept no first request: their rows read as from the slot, new ones exactly', async () => {
    const dir = tmp();
    const S = 1_000_000_000n;
    const hour = (T0 / (3600n * S)) * 3600n * S;
    const stats = (at: bigint, hits: number): StatsRow => {
      const ok = newSketch();
      for (let i = 0; i < hits; i++) ok.accept(1000);
      return { start: hour + at, durationNs: 10n * S, service: 'web', name: 'web.request', resource: 'GET /', type: 'web', env: 'prod', version: '1',
        httpStatusCode: 200, spanKind: 'server', isTraceRoot: true, synthetics: false, peerTags: [], hits, topLevelHits: hits, errors: 0,
        totalDuration: hits * 1000, okSketch: ok, errorSketch: newSketch(), source: 'agent' };
    };
    const a = new SqliteStore({ dataDir: dir });
    await a.writeStats([stats(1230n * S, 2)]);
    await a.close();
    const db = new Database(join(dir, 'traces.db'));
    db.exec('ALTER TABLE service_rollup DROP COLUMN first_seen; PRAGMA user_version = 5');
    db.close();
    const b = new SqliteStore({ dataDir: dir });
    // The whole hour is read from its slot: the old row from the slot's start.
    expect((await b.serviceStats({ start: hour, end: hour + 3600n * S }))[0]).toMatchObject({ topLevelHits: 2, firstSeen: hour });
    await b.writeStats([stats(1250n * S, 1)]);
    const c = new SqliteStore({ dataDir: tmp() });
    await c.writeStats([stats(1250n * S, 1)]);
    expect((await c.serviceStats({ start: hour, end: hour + 3600n * S }))[0]).toMatchObject({ firstSeen: hour + 1250n * S });
    await c.close();
    await b.close();
    const after = new Database(join(dir, 'traces.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(6);
    after.close();
  });

  it('names the schema of a file it cannot read', async () => {
    const dir = tmp();
    const db = new Database(join(dir, 'traces.db'));
    db.pragma('user_version = 1');
    db.close();
    expect(() => new SqliteStore({ dataDir: dir })).toThrow(/has store schema 1; this ecs-trace reads schema 6/);
  });
});

describe('SQLite checkpoints', () => {
  // A disk bound of 8 MB puts a checkpoint every 100 pages of log (a twentieth of the bound).
  const maxDiskBytes = 100 * 20 * 4096;
  /** A payload of ~64 KB: its blob alone is 16 pages of log. */
  const bulky = (i: number) => batch([[span({ traceId: BigInt(i + 1), spanId: 1n, start: T0 + BigInt(i), meta: { env: 'prod', 'db.statement': `${i}`.padEnd(64_000, 'x') } })]]);
  const walBytes = (dir: string) => (existsSync(join(dir, 'traces.db-wal')) ? statSync(join(dir, 'traces.db-wal')).size : 0);
  const T0 = 1_795_576_142_000_000_000n;

  it('copies the log into the database on a thread of its own, and leaves no log behind on close', async () => {
    const dir = tmp();
    const store = new SqliteStore({ dataDir: dir, maxDiskBytes });
    let largestWal = 0;
    for (let i = 0; i < 60; i++) {
      await store.write(bulky(i));
      largestWal = Math.max(largestWal, walBytes(dir));
      // The thread looks at the log every 50 ms: give it a look every few payloads.
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 120));
    }
    expect(store.checkpointPasses).toBeGreaterThan(0);
    // 60 payloads are ~1000 pages of log. It stayed near the writer's backstop (200 pages; a
    // pass can hold the backstop off for a few payloads), so the log restarted as it went.
    expect(largestWal).toBeLessThan(500 * 4096);
    expect(statSync(join(dir, 'traces.db')).size).toBeGreaterThan(2_000_000);
    await store.close();
    expect(existsSync(join(dir, 'traces.db-wal'))).toBe(false);
    const again = new SqliteStore({ dataDir: dir, checkpointThread: false });
    expect((await again.searchTraces({ limit: 100 })).length).toBe(60);
    expect((await again.getTrace(tid('1')))!.spans[0]!.span.meta['db.statement']).toHaveLength(64_000);
    await again.close();
  });

  it('lets a process whose last step is closing the store end, its log gone', () => {
    // The checkpointing thread does not hold the process open, yet close() waits for it: a script
    // that ends on `await store.close()` must not be left with a promise nothing settles.
    const dir = tmp();
    const store = fileURLToPath(new URL('../../../dist/store/sqlite/sqlite-store.js', import.meta.url));
    const script = `import { SqliteStore } from ${JSON.stringify(store)};
      const s = new SqliteStore({ dataDir: ${JSON.stringify(dir)} });
      await s.write({ chunks: [], env: 'none', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: 0n });
      await s.close();
      console.log('closed');`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe('closed');
    expect(existsSync(join(dir, 'traces.db-wal'))).toBe(false);
  });

  it('checkpoints in the writer when asked to, as SQLite does by default', async () => {
    const dir = tmp();
    const store = new SqliteStore({ dataDir: dir, maxDiskBytes, checkpointThread: false });
    let largestWal = 0;
    for (let i = 0; i < 30; i++) {
      await store.write(bulky(i));
      largestWal = Math.max(largestWal, walBytes(dir));
    }
    expect(store.checkpointPasses).toBe(0);
    expect(largestWal).toBeLessThan((100 + 40) * 4096);
    await store.close();
  });
});
