import type pg from 'pg';
import {
  expiredEdges, floorTo, foldRollups, meetWaiting, mergeByKey, mergeBySlotAndKey, mergeRollupData, pairedEdge, rollupRowKey, rollupSlots, sumRollups,
  type Half, type HalfData, type RollupData, type RollupKind, type RollupRow,
} from '../trace-rollup.js';
import { WaitingHalves } from '../waiting-halves.js';

/*
 * PostgreSQL's tables of the trace rollups (store/trace-rollup.ts). As with the services rollup,
 * each writer keeps rows of its own (agents never contend for a slot) and a read merges them.
 * Halves of calls are shared: a half meets its other side when it is written (if that side is
 * already committed), and halves whose other sides were written at the same moment by two agents
 * meet at the next maintenance, which the agents take turns at.
 */

type Queryable = pg.PoolClient | pg.Pool;

const FLUSH_MS = 1000;
/** How long a half waits in its agent's memory before the shared table. */
const HALF_LOCAL_MS = 5000;

const s64 = (v: bigint) => BigInt.asIntN(64, v);

/** Rows merged into `writer`'s slots (read, merged here, written back). */
export async function addRollups(client: Queryable, writer: string, rows: readonly RollupRow[]): Promise<void> {
  const folded = foldRollups(rows);
  if (folded.length === 0) return;
  const v = <T>(f: (r: RollupRow) => T) => folded.map(f);
  const { rows: existing } = await client.query<{ width: bigint; slot: bigint; kind: RollupKind; key: string; data: string }>(
    `SELECT r.width, r.slot, r.kind, r.key, r.data FROM trace_rollup r
       JOIN unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS k(width, slot, kind, key) USING (width, slot, kind, key)
     WHERE r.writer = $1`,
    [writer, v((r) => r.width), v((r) => r.slot), v((r) => r.kind), v((r) => r.key)]);
  const have = new Map(existing.map((r) => [rollupRowKey(r), JSON.parse(r.data) as RollupData]));
  const data = folded.map((r) => {
    const old = have.get(rollupRowKey(r));
    return JSON.stringify(old ? mergeRollupData(old, r.data) : r.data);
  });
  await client.query(
    `INSERT INTO trace_rollup (width, slot, writer, kind, key, data)
     SELECT u.width, u.slot, $1, u.kind, u.key, u.data FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS u(width, slot, kind, key, data)
     ON CONFLICT (width, slot, kind, key, writer) DO UPDATE SET data = EXCLUDED.data`,
    [writer, v((r) => r.width), v((r) => r.slot), v((r) => r.kind), v((r) => r.key), data]);
}

/**
 * New halves: those whose other side is already stored meet it (both go, the call is counted),
 * the others are stored to wait. Returns the calls made.
 */
export async function meetHalves(client: Queryable, halves: readonly Half[]): Promise<RollupRow[]> {
  if (halves.length === 0) return [];
  const edges: RollupRow[] = [];
  const waiting = new Map<string, Half[]>();
  const k = (h: { traceId: bigint; spanId: bigint; side: string }) => `${s64(h.traceId)}:${s64(h.spanId)}:${h.side}`;
  const opposite = (side: string) => (side === 'client' ? 'server' : 'client');
  const pair = (h: Half, other: HalfData) => edges.push(...(h.side === 'client' ? pairedEdge(h.data, other) : pairedEdge(other, h.data)));
  // Both sides in this write: they meet here.
  for (const h of halves) {
    const list = waiting.get(k({ ...h, side: opposite(h.side) }));
    if (list && list.length > 0) pair(h, list.shift()!.data);
    else waiting.set(k(h), [...(waiting.get(k(h)) ?? []), h]);
  }
  const left = [...waiting.values()].flat();
  if (left.length === 0) return edges;
  const { rows: met } = await client.query<{ trace_id: bigint; span_id: bigint; side: string; data: string }>(
    `DELETE FROM call_halves o USING unnest($1::bigint[], $2::bigint[], $3::text[]) AS m(trace_id, span_id, side)
     WHERE o.trace_id = m.trace_id AND o.span_id = m.span_id AND o.side <> m.side
     RETURNING o.trace_id, o.span_id, o.side, o.data`,
    [left.map((h) => s64(h.traceId)), left.map((h) => s64(h.spanId)), left.map((h) => h.side)]);
  const unmet = new Set(left);
  for (const m of met) {
    const h = left.find((x) => unmet.has(x) && s64(x.traceId) === BigInt(m.trace_id) && s64(x.spanId) === BigInt(m.span_id) && x.side !== m.side);
    if (!h) continue;
    unmet.delete(h);
    pair(h, JSON.parse(m.data) as HalfData);
  }
  const rest = [...unmet];
  if (rest.length > 0) {
    await client.query(
      'INSERT INTO call_halves (trace_id, span_id, side, at, data) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[])',
      [rest.map((h) => s64(h.traceId)), rest.map((h) => s64(h.spanId)), rest.map((h) => h.side), rest.map((h) => h.at), rest.map((h) => JSON.stringify(h.data))]);
  }
  return edges;
}

/**
 * Maintenance (one agent at a time): halves whose sides were written at once by two agents meet;
 * those past their time go (a client's as a call to its leaf); slots past retention go.
 */
export async function maintainRollups(client: pg.PoolClient, writer: string, halvesBefore: bigint, olderThan: bigint): Promise<void> {
  const { rows: clients } = await client.query<{ trace_id: bigint; span_id: bigint; data: string }>(
    `DELETE FROM call_halves c USING call_halves s
     WHERE s.trace_id = c.trace_id AND s.span_id = c.span_id AND c.side = 'client' AND s.side = 'server'
     RETURNING c.trace_id, c.span_id, c.data`);
  const edges: RollupRow[] = [];
  if (clients.length > 0) {
    const { rows: servers } = await client.query<{ trace_id: bigint; span_id: bigint; data: string }>(
      `DELETE FROM call_halves s USING unnest($1::bigint[], $2::bigint[]) AS m(trace_id, span_id)
       WHERE s.trace_id = m.trace_id AND s.span_id = m.span_id AND s.side = 'server' RETURNING s.trace_id, s.span_id, s.data`,
      [clients.map((c) => c.trace_id), clients.map((c) => c.span_id)]);
    const byCall = new Map(clients.map((c) => [`${c.trace_id}:${c.span_id}`, JSON.parse(c.data) as HalfData]));
    for (const s of servers) {
      const c = byCall.get(`${s.trace_id}:${s.span_id}`);
      if (c) edges.push(...pairedEdge(c, JSON.parse(s.data) as HalfData));
    }
  }
  const { rows: expired } = await client.query<{ side: string; data: string }>('DELETE FROM call_halves WHERE at < $1 RETURNING side, data', [halvesBefore]);
  edges.push(...expiredEdges(expired.filter((e) => e.side === 'client').map((e) => JSON.parse(e.data) as HalfData)));
  await addRollups(client, writer, edges);
  await client.query('DELETE FROM trace_rollup WHERE slot + width <= $1', [olderThan]);
}

/** One width's slots from the one holding `start` to `end`, each slot's rows (every writer's) merged per key. */
export async function readRollupSlots(pool: pg.Pool, kind: RollupKind, range: { start: bigint; end: bigint }, width: bigint): Promise<{ key: string; data: RollupData; slot: bigint }[]> {
  const { rows } = await pool.query<{ key: string; data: string; slot: bigint }>(
    'SELECT key, data, slot FROM trace_rollup WHERE kind = $1 AND width = $2 AND slot >= $3 AND slot < $4',
    [kind, width, floorTo(range.start, width), range.end]);
  return mergeBySlotAndKey(rows.map((r) => ({ key: r.key, data: JSON.parse(r.data) as RollupData, slot: BigInt(r.slot) })));
}

/** Rows of `kind` in the slots covering the range, every writer's, merged per key. */
export async function readRollups(pool: pg.Pool, kind: RollupKind, range: { start: bigint; end: bigint }): Promise<{ key: string; data: RollupData }[]> {
  const slots = rollupSlots(range.start, range.end);
  if (slots.length === 0) return [];
  const { rows } = await pool.query<{ key: string; data: string }>(
    `SELECT r.key, r.data FROM trace_rollup r JOIN unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS p(width, "from", "to")
       ON r.width = p.width AND r.slot >= p."from" AND r.slot < p."to"
     WHERE r.kind = $1`,
    [kind, slots.map((x) => x.width), slots.map((x) => x.from), slots.map((x) => x.to)]);
  return mergeByKey(rows.map((r) => ({ key: r.key, data: JSON.parse(r.data) as RollupData })));
}

/**
 * What one agent adds to the rollups, summed in memory and written once a second in one
 * transaction: the rows, and the halves of calls, which first wait here HALF_LOCAL_MS for their
 * other side (most calls between services on one host pair here) before going to the shared
 * table for another agent's side. A crash loses at most those seconds of counts, never a trace
 * (bench/store.bench.js: written with every payload, they cost PostgreSQL a third of its writes).
 */
export class PendingRollups {
  private readonly rows = new Map<string, RollupRow>();
  private readonly halves = new WaitingHalves();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly pool: pg.Pool, private readonly writer: string, private readonly onError: (err: unknown) => void) {
    this.timer = setInterval(() => { void this.flush(false).catch(onError); }, FLUSH_MS);
    this.timer.unref();
  }

  add(rows: readonly RollupRow[], halves: readonly Half[]): void {
    sumRollups(this.rows, rows);
    // No bound by count here: these halves leave for the shared table within HALF_LOCAL_MS, which
    // bounds them, and giving one up early would lose a call another agent's half completes.
    sumRollups(this.rows, meetWaiting(this.halves, halves, Number.POSITIVE_INFINITY));
  }

  /** Writes the rows, and the halves that waited here long enough (all of them with `all`). */
  flush(all: boolean): Promise<void> {
    this.flushing = this.flushing.then(() => this.write(all), () => this.write(all));
    return this.flushing;
  }

  private async write(all: boolean): Promise<void> {
    const before = BigInt(Date.now() - HALF_LOCAL_MS) * 1_000_000n;
    const halves = this.halves.shiftOlderThan(all ? undefined : before);
    const rows = [...this.rows.values()];
    this.rows.clear();
    if (rows.length === 0 && halves.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const edges = await meetHalves(client, halves);
      await addRollups(client, this.writer, [...rows, ...edges]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Kept for the next try: counts are late, not lost.
      for (const r of rows) this.add([r], []);
      // (Meeting any other side of theirs that came meanwhile.)
      sumRollups(this.rows, meetWaiting(this.halves, halves, Number.POSITIVE_INFINITY));
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true).catch(this.onError);
  }
}
