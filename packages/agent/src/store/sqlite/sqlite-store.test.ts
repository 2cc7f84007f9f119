import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batch, span, storeConformance, tid } from '../conformance.js';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'ecs-trace-store-')); dirs.push(d); return d; };

storeConformance('SQLite (file)', async () => new SqliteStore({ dataDir: tmp() }));

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
    await a.write(batch([[span({ traceId: 3n, spanId: 1n, start: T0 + 9n, service: 'db', resource: 'SELECT ?' })]]));
    await a.close();
    // The same data as schema 2 laid it out: span_index rows, payloads pointing at their ids.
    const db = new Database(join(dir, 'traces.db'));
    db.exec(`DROP TABLE search_blocks;
      CREATE TABLE span_index (id INTEGER PRIMARY KEY, service TEXT NOT NULL, env TEXT NOT NULL, name TEXT NOT NULL, resource TEXT NOT NULL,
        type TEXT NOT NULL, start INTEGER NOT NULL, duration INTEGER NOT NULL, error INTEGER NOT NULL, trace_id INTEGER NOT NULL);
      INSERT INTO span_index VALUES (1, 'checkout', 'prod', 'web.request', 'GET /cart', 'web', ${T0}, 10000000, 0, 1),
        (2, 'checkout', 'prod', 'web.request', 'GET /cart', 'web', ${T0 + 5n}, 10000000, 1, 2),
        (3, 'db', 'prod', 'web.request', 'SELECT ?', 'web', ${T0 + 9n}, 10000000, 0, 3);
      UPDATE payloads SET first_index = 1, last_index = 2 WHERE id = 1;
      UPDATE payloads SET first_index = 3, last_index = 3 WHERE id = 2;
      PRAGMA user_version = 2;`);
    db.close();
    const b = new SqliteStore({ dataDir: dir });
    const ids = async (q: Parameters<SqliteStore['searchTraces']>[0]) => (await b.searchTraces(q)).map((t) => t.traceId.low);
    expect(await ids({ limit: 10 })).toEqual([3n, 2n, 1n]);
    expect(await ids({ error: true, limit: 10 })).toEqual([2n]);
    expect(await ids({ service: 'db', resource: 'SELECT ?', limit: 10 })).toEqual([3n]);
    // Retention still finds each payload's blocks.
    await b.enforceRetention(T0 + 10_000_008n, 0);
    expect(await ids({ limit: 10 })).toEqual([3n]);
    await b.close();
    const after = new Database(join(dir, 'traces.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(3);
    expect(after.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'span_index'").pluck().get()).toBe(0);
    after.close();
  });

  it('names the schema of a file it cannot read', async () => {
    const dir = tmp();
    const db = new Database(join(dir, 'traces.db'));
    db.pragma('user_version = 1');
    db.close();
    expect(() => new SqliteStore({ dataDir: dir })).toThrow(/has store schema 1; this ecs-trace reads schema 3/);
  });
});
