import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { batch, span, tid } from '../conformance.js';
import { SqliteStore } from './sqlite-store.js';
import { ENTRY_BYTES } from './trace-entries.js';
import { FINAL_LEVEL } from './trace-runs.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'ecs-trace-runs-')); dirs.push(d); return d; };

const T0 = 1_795_576_142_000_000_000n;
const SECOND = 1_000_000_000n;

/** The runs as stored: level and rows of each, and entries in the index's pages in all. */
function runs(dir: string): { levels: number[]; runRows: number[]; rows: number; indexRows: number } {
  const db = new Database(join(dir, 'traces.db'), { readonly: true });
  const rs = db.prepare('SELECT level, rows FROM trace_runs ORDER BY id').all() as { level: number; rows: number }[];
  const indexRows = db.prepare(`SELECT coalesce(sum(length(entries)), 0) / ${ENTRY_BYTES} FROM trace_pages`).pluck().get() as number;
  db.close();
  return { levels: rs.map((r) => r.level), runRows: rs.map((r) => r.rows), rows: rs.reduce((n, r) => n + r.rows, 0), indexRows };
}

describe('the trace-id index in runs', () => {
  it('finds every chunk of every trace across runs of every level, and after retention', async () => {
    const dir = tmp();
    const store = new SqliteStore({ dataDir: dir, fanIn: 3, baseRows: 2, pageEntries: 2, mergeRows: 12 });
    // 60 payloads; trace t has a chunk in payloads t, t+7 and t+19 (when there are such), so its
    // chunks sit in runs of different ages and levels.
    const chunksOf = new Map<bigint, number[]>();
    for (let p = 1; p <= 60; p++) {
      const chunks = [];
      for (const back of [0, 7, 19]) {
        const t = BigInt(p - back);
        if (t < 1n) continue;
        chunks.push([span({ traceId: t, spanId: BigInt(p * 10 + back), parentId: back === 0 ? 0n : t * 1000n, start: T0 + BigInt(p) * SECOND, duration: 1000 })]);
        chunksOf.set(t, [...(chunksOf.get(t) ?? []), p]);
      }
      await store.write(batch(chunks, { receivedAt: T0 + BigInt(p) * SECOND }));
    }
    const found = async (t: bigint) => ((await store.getTrace(tid(t.toString(16))))?.spans ?? []).map((s) => Number(s.span.start / SECOND - T0 / SECOND));
    for (const [t, payloads] of chunksOf) expect(await found(t), `trace ${t}`).toEqual(payloads);
    const before = runs(dir);
    expect(before.rows).toBe(before.indexRows);
    // Merged: at most fanIn - 1 runs wait at each level; merges of at most 12 entries made the
    // older entries final runs.
    for (const level of new Set(before.levels)) if (level !== FINAL_LEVEL) expect(before.levels.filter((l) => l === level).length, `level ${level}`).toBeLessThan(3);
    expect(before.levels.filter((l) => l === FINAL_LEVEL).length).toBeGreaterThan(5);
    expect(Math.max(...before.runRows)).toBeLessThanOrEqual(12);

    // Payloads 1..30 end before the cutoff: their chunks go, whole runs or the older part of one.
    await store.enforceRetention(T0 + 31n * SECOND, 0);
    for (const [t, payloads] of chunksOf) expect(await found(t), `trace ${t} after retention`).toEqual(payloads.filter((p) => p > 30));
    const after = runs(dir);
    expect(after.rows).toBe(after.indexRows);
    expect(after.indexRows).toBe([...chunksOf.values()].flat().filter((p) => p > 30).length);

    // Writes go on after retention.
    await store.write(batch([[span({ traceId: 45n, spanId: 99_999n, parentId: 45_000n, start: T0 + 61n * SECOND })]], { receivedAt: T0 + 61n * SECOND }));
    expect(await found(45n)).toEqual([45, 52, 61]);
    await store.close();
  });

  it('keeps the runs right when a write fails and rolls back', async () => {
    const dir = tmp();
    const store = new SqliteStore({ dataDir: dir, fanIn: 2 });
    await store.write(batch([[span({ traceId: 1n, spanId: 1n })], [span({ traceId: 2n, spanId: 1n })]]));
    // A write that fails after its entries went in and a merge ran (the search index refuses it),
    // so the transaction rolls back the run it added and the merge.
    const other = new Database(join(dir, 'traces.db'));
    other.exec(`CREATE TRIGGER explode BEFORE INSERT ON search_blocks WHEN NEW.service = 'explode' BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    other.close();
    await expect(store.write(batch([[span({ traceId: 4n, spanId: 1n })], [span({ traceId: 3n, spanId: 1n, service: 'explode' })]]))).rejects.toThrow(/boom/);
    await store.write(batch([[span({ traceId: 5n, spanId: 1n })], [span({ traceId: 6n, spanId: 1n })]]));
    for (const t of ['1', '2', '5', '6']) expect((await store.getTrace(tid(t)))?.spans, t).toHaveLength(1);
    expect(await store.getTrace(tid('4'))).toBeUndefined();
    const r = runs(dir);
    expect(r.rows).toBe(r.indexRows);
    expect(r.indexRows).toBe(4);
    // Four entries: a run of level 0.
    expect(r.levels).toEqual([0]);
    await store.close();
  });

  it('reopens with its runs where they were', async () => {
    const dir = tmp();
    const a = new SqliteStore({ dataDir: dir, fanIn: 2, pageEntries: 1 });
    for (let t = 1n; t <= 5n; t++) await a.write(batch([[span({ traceId: t, spanId: 1n })]]));
    await a.close();
    const b = new SqliteStore({ dataDir: dir, fanIn: 2, pageEntries: 1 });
    for (let t = 6n; t <= 11n; t++) await b.write(batch([[span({ traceId: t, spanId: 1n })]]));
    for (let t = 1n; t <= 11n; t++) expect((await b.getTrace(tid(t.toString(16))))?.spans, String(t)).toHaveLength(1);
    const r = runs(dir);
    expect(r.rows).toBe(11);
    expect(r.indexRows).toBe(11);
    await b.close();
  });

  it('finds a trace whose entries fill several pages, and ids at the ends of the signed and unsigned ranges', async () => {
    const dir = tmp();
    const store = new SqliteStore({ dataDir: dir, fanIn: 4, baseRows: 2, pageEntries: 2, mergeRows: 40 });
    const edges = [1n, 0xffff_fffen, 0x1_0000_0000n, 0x7fff_ffff_ffff_fffen, 0x8000_0000_0000_0000n, 0xffff_ffff_0000_0000n, 0xffff_ffff_ffff_fffen];
    // Trace 7 has a chunk in each of 20 payloads: in merged runs its entries fill pages whose
    // first ids are all 7, behind a page that ends with it.
    for (let p = 0; p < 20; p++) {
      const chunks = [[span({ traceId: 7n, spanId: BigInt(p + 1), parentId: p === 0 ? 0n : 1n, start: T0 + BigInt(p) * SECOND })]];
      for (const t of edges) chunks.push([span({ traceId: t + BigInt(p % 2), spanId: BigInt(p + 1), start: T0 + BigInt(p) * SECOND })]);
      await store.write(batch(chunks, { receivedAt: T0 + BigInt(p) * SECOND }));
    }
    expect(runs(dir).levels).toContain(FINAL_LEVEL);
    expect((await store.getTrace(tid('7')))?.spans).toHaveLength(20);
    for (const t of edges) {
      for (const id of [t, t + 1n]) {
        const hex = BigInt.asUintN(64, id).toString(16);
        expect((await store.getTrace(tid(hex)))?.spans, hex).toHaveLength(10);
      }
    }
    await store.close();
  });
});
