import { endianness } from 'node:os';
import { sqlitePlaceholder, where, type Condition, type Where } from '../conditions.js';
import type { TraceQuery } from '../contract.js';
import type { IndexRow } from '../prepare-write.js';

/*
 * The embedded store's search index: a payload's indexed spans (service entries and errors) are
 * kept as one row per service, a block, instead of one row per span. A row costs SQLite about as
 * much as a span costs everything else on one thread (3-5 µs on this project's machines, four
 * B-tree inserts with its three indexes), and a payload of dd-trace-shaped traces indexes nearly
 * every span; a block is packed in JS for a fraction of that (bench/span-cost.bench.js).
 * A search reads blocks newest first by their latest start and stops once no unread block can
 * hold a newer match (searchBlocks below).
 *
 * A block's entries are columns of typed arrays in one blob: starts and trace ids (int64), then
 * durations (float64: ns below 2^53), then four references per entry into the block's strings
 * (env, name, resource, type; uint32), then one error byte per entry. Typed arrays are in the
 * host's byte order, so the file is little-endian as every ECS host is (x86-64, Graviton).
 */

if (endianness() !== 'LE') throw new Error('the embedded store needs a little-endian host');

export interface SearchBlock {
  service: string;
  minStart: bigint;
  maxStart: bigint;
  errors: number;
  maxDuration: number;
  /** JSON array of the strings the entries refer to. */
  strings: string;
  entries: Buffer;
}

const REFS = 4;
const bytesFor = (n: number) => n * (8 + 8 + 8 + 4 * REFS + 1);

/** Index rows grouped into one block per service, in the order each service first appears. */
export function packSearchBlocks(rows: readonly IndexRow[]): SearchBlock[] {
  const byService = new Map<string, IndexRow[]>();
  for (const r of rows) {
    const group = byService.get(r.service);
    if (group === undefined) byService.set(r.service, [r]);
    else group.push(r);
  }
  const blocks: SearchBlock[] = [];
  for (const [service, group] of byService) blocks.push(packBlock(service, group));
  return blocks;
}

function packBlock(service: string, rows: IndexRow[]): SearchBlock {
  const n = rows.length;
  const buf = new ArrayBuffer(bytesFor(n));
  const starts = new BigInt64Array(buf, 0, n);
  const ids = new BigInt64Array(buf, 8 * n, n);
  const durations = new Float64Array(buf, 16 * n, n);
  const refs = new Uint32Array(buf, 24 * n, REFS * n);
  const errorFlags = new Uint8Array(buf, (24 + 4 * REFS) * n, n);
  const strings: string[] = [];
  const refOf = new Map<string, number>();
  const ref = (s: string): number => {
    let r = refOf.get(s);
    if (r === undefined) {
      r = strings.push(s) - 1;
      refOf.set(s, r);
    }
    return r;
  };
  let minStart = rows[0]!.start;
  let maxStart = minStart;
  let errors = 0;
  let maxDuration = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    starts[i] = r.start;
    ids[i] = r.traceId;
    durations[i] = r.duration;
    const o = REFS * i;
    refs[o] = ref(r.env);
    refs[o + 1] = ref(r.name);
    refs[o + 2] = ref(r.resource);
    refs[o + 3] = ref(r.type);
    errorFlags[i] = r.error;
    if (r.start < minStart) minStart = r.start;
    if (r.start > maxStart) maxStart = r.start;
    if (r.duration > maxDuration) maxDuration = r.duration;
    errors += r.error;
  }
  return { service, minStart, maxStart, errors, maxDuration, strings: JSON.stringify(strings), entries: Buffer.from(buf) };
}

/**
 * The block-level part of a search, in SQL over the blocks table (its columns as named here).
 * `widest`: no block spans more than this between its first and last start, which bounds
 * max_start from above too, so the index on it is read only where a block can reach the range.
 */
export function blockConditions(q: TraceQuery, widest?: bigint): Where {
  const c: Condition[] = [];
  if (q.service !== undefined) c.push(['service = ?', q.service]);
  if (q.error === true) c.push(['errors > 0']);
  if (q.minDurationNs !== undefined) c.push(['max_duration >= ?', q.minDurationNs]);
  if (q.start !== undefined) c.push(['max_start >= ?', q.start]);
  if (q.end !== undefined) c.push(['min_start < ?', q.end]);
  if (q.end !== undefined && widest !== undefined) c.push(['max_start < ?', q.end + widest]);
  return where(c, sqlitePlaceholder);
}

export interface StoredBlock {
  max_start: bigint;
  strings: string;
  entries: Buffer;
}

/** The latest start of each trace with an entry matching every condition, over one block. */
function matchBlock(q: TraceQuery, block: StoredBlock, latest: Map<bigint, bigint>): void {
  const strings = JSON.parse(block.strings) as string[];
  // Each string condition as its index among the block's strings (-1: no condition).
  const want: number[] = [];
  for (const wanted of [q.env, q.name, q.resource]) {
    if (wanted === undefined) { want.push(-1); continue; }
    const ref = strings.indexOf(wanted);
    // Absent from the block's strings: none of its entries match.
    if (ref === -1) return;
    want.push(ref);
  }
  let bytes = block.entries;
  // Typed arrays need aligned offsets; a blob's buffer may start anywhere in its backing store.
  if (bytes.byteOffset % 8 !== 0) bytes = Buffer.from(bytes);
  const n = bytes.length / bytesFor(1);
  const { buffer, byteOffset } = bytes;
  const starts = new BigInt64Array(buffer, byteOffset, n);
  const ids = new BigInt64Array(buffer, byteOffset + 8 * n, n);
  const durations = new Float64Array(buffer, byteOffset + 16 * n, n);
  const refs = new Uint32Array(buffer, byteOffset + 24 * n, REFS * n);
  const errorFlags = new Uint8Array(buffer, byteOffset + (24 + 4 * REFS) * n, n);
  for (let i = 0; i < n; i++) {
    const o = REFS * i;
    if (want[0] !== -1 && refs[o] !== want[0]) continue;
    if (want[1] !== -1 && refs[o + 1] !== want[1]) continue;
    if (want[2] !== -1 && refs[o + 2] !== want[2]) continue;
    if (q.error !== undefined && (errorFlags[i] === 1) !== q.error) continue;
    const d = durations[i]!;
    if (q.minDurationNs !== undefined && d < q.minDurationNs) continue;
    if (q.maxDurationNs !== undefined && d > q.maxDurationNs) continue;
    const s = starts[i]!;
    if (q.start !== undefined && s < q.start) continue;
    if (q.end !== undefined && s >= q.end) continue;
    const id = ids[i]!;
    const seen = latest.get(id);
    if (seen === undefined || s > seen) latest.set(id, s);
  }
}

const newestFirst = (a: bigint, b: bigint): number => (b > a ? 1 : b < a ? -1 : 0);

/**
 * The newest `q.limit` traces with an indexed span matching every condition, ordered by their
 * latest match, as trace ids with that match's start. `blocks` yields the blocks passing blockConditions(q), latest
 * max_start first; reading stops once `limit` traces have a match at least as new as the next
 * block's latest start, since no later block can then change the answer.
 */
export function searchBlocks(q: TraceQuery, blocks: Iterable<StoredBlock>): [id: bigint, latest: bigint][] {
  const latest = new Map<bigint, bigint>();
  const newest = (): [bigint, bigint][] => [...latest].sort((a, b) => newestFirst(a[1], b[1])).slice(0, q.limit);
  let kth: bigint | undefined;
  let sinceCheck = 0;
  for (const block of blocks) {
    if (kth !== undefined && block.max_start <= kth) break;
    matchBlock(q, block, latest);
    // Sorting the candidates after every block would be quadratic over a long scan.
    if (latest.size >= q.limit && (kth === undefined || ++sinceCheck >= 8)) {
      sinceCheck = 0;
      const top = [...latest.values()].sort(newestFirst);
      kth = top[q.limit - 1];
    }
  }
  return newest();
}
