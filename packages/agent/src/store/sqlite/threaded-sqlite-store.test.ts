import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { storeConformance } from '../conformance.js';
import { ThreadedSqliteStore } from './threaded-sqlite-store.js';

/* The embedded store with its writer thread passes the same conformance suite as the plain one. */

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

storeConformance('SQLite with a writer thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-threaded-'));
  dirs.push(dir);
  return ThreadedSqliteStore.open(dir);
});

describe('ThreadedSqliteStore', () => {
  it('refuses a data directory with another schema, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-threaded-'));
    dirs.push(dir);
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dir, 'traces.db'));
    db.pragma('user_version = 99');
    db.close();
    await expect(ThreadedSqliteStore.open(dir)).rejects.toThrow(/has store schema 99; this ecs-trace reads schema \d+/);
  });

  it('takes many writes at once, each resolved once stored, and a rollup read after writes sees them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-threaded-'));
    dirs.push(dir);
    const store = await ThreadedSqliteStore.open(dir);
    const { emptySpan } = await import('@ecs-trace/protocol');
    const start = BigInt(Date.now()) * 1_000_000n;
    const batch = (i: number) => ({
      chunks: [[{ ...emptySpan(), service: `svc${i % 3}`, name: 'op', resource: 'r', traceId: BigInt(1000 + i), spanId: 1n, start, duration: 10, meta: { 'span.kind': 'client', 'db.system': 'postgresql' } }]],
      env: 'prod', hostname: 'h', containerId: '', lang: 'go', tracerVersion: '1', receivedAt: start,
    });
    try {
      await Promise.all(Array.from({ length: 25 }, (_, i) => store.write(batch(i))));
      for (let i = 0; i < 25; i++) expect((await store.getTrace({ high: 0n, low: BigInt(1000 + i) }))?.spans.length).toBe(1);
      expect(await store.stats()).toMatchObject({ spans: 25 });
      // The service map's rows of all 25 are there for a read sent right after them.
      const writes = [0, 1, 2].map((i) => store.write(batch(100 + i)));
      const edges = await store.readRollups('edge', { start: start - 60_000_000_000n, end: start + 60_000_000_000n });
      await Promise.all(writes);
      expect(edges.map((e) => [e.key, 'calls' in e.data ? e.data.calls : 0]).sort()).toEqual([['prod\u001fsvc0\u001fpostgresql', 10], ['prod\u001fsvc1\u001fpostgresql', 9], ['prod\u001fsvc2\u001fpostgresql', 9]]);
    } finally {
      await store.close();
    }
  });
});

describe('an agent with ECS_TRACE_WRITER_THREAD=true', () => {
  it('stores what it receives and serves it back', async () => {
    const { startTestAgent } = await import('../../testing.js');
    const { encodeV04 } = await import('@ecs-trace/protocol');
    const agent = await startTestAgent({ ECS_TRACE_WRITER_THREAD: 'true' });
    try {
      const span = { service: 'threaded', name: 'op', resource: 'r', type: 'web', traceId: 77n, spanId: 1n, parentId: 0n, start: BigInt(Date.now()) * 1_000_000n, duration: 1000, error: 0, meta: {}, metrics: { _sampling_priority_v1: 1 } };
      const res = await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04([[span]]) });
      expect(res.status).toBe(200);
      // Acknowledged means committed: the trace is there at once.
      const t = (await (await fetch(`${agent.apiUrl}/api/v1/traces/${(77n).toString(16).padStart(32, '0')}`)).json()) as { spans: { service: string }[] };
      expect(t.spans.map((s) => s.service)).toEqual(['threaded']);
    } finally {
      await agent.close();
    }
  });
});
