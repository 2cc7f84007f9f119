import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batch, span, storeConformance, tid } from '../conformance.js';
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
});
