import type { ChunkRow } from '../prepare-write.js';
import { highToInt, type StoredChunk } from './chunk-names.js';

/*
 * The trace-id index's entries, packed 64 bytes each (little-endian) into the blobs of its pages
 * (trace-runs.ts), sorted by (trace id as a signed 64-bit integer, payload, offset): a chunk row
 * of its own cost SQLite 3.5-4 µs however it was bound, and merging runs of rows another 3.5 µs
 * a row (bench/README.md, "Trace-id runs packed").
 */

export const ENTRY_BYTES = 64;
const WORDS = ENTRY_BYTES / 4;

const TRACE_ID = 0;
const PAYLOAD = 8;
const HIGH = 16;
const START = 24;
const END = 32;
const ROOT = 40;
const OFFSET = 48;
const SPANS = 52;
/** The error count, its top bit set when the chunk's root is a real root (`root_span_id` not null). */
const FLAGS = 56;
const HAS_ROOT = 0x8000_0000;
const NAMES = 60;

/** A trace id's upper 32 bits (signed) and lower 32 bits, as entries compare them. */
const halvesOf = (traceId: bigint): [high: number, low: number] => [Number(BigInt.asIntN(32, traceId >> 32n)), Number(BigInt.asUintN(32, traceId))];

/** A page's entries to read: a view on the blob and how many it holds. */
export class Entries {
  readonly view: DataView;
  readonly count: number;

  /** The blob as 32-bit words, when it is aligned for them (SQLite's blobs come in buffers of their own). */
  private readonly words: Int32Array | undefined;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.count = Math.floor(bytes.byteLength / ENTRY_BYTES);
    if (bytes.byteOffset % 4 === 0) this.words = new Int32Array(bytes.buffer, bytes.byteOffset, this.count * WORDS);
  }

  /**
   * Copies entry i to entry `at` of `out` (whose words are `outWords`): word by word, since a
   * merge copies every entry and a subarray's set cost 170 ns an entry against 22.
   */
  copyTo(i: number, out: Uint8Array, outWords: Int32Array, at: number): void {
    const words = this.words;
    if (words === undefined) {
      out.set(this.bytes.subarray(i * ENTRY_BYTES, (i + 1) * ENTRY_BYTES), at * ENTRY_BYTES);
      return;
    }
    const from = i * WORDS;
    const to = at * WORDS;
    for (let k = 0; k < WORDS; k++) outWords[to + k] = words[from + k]!;
  }

  /** Entry i's trace id, upper 32 bits as signed. */
  idHigh(i: number): number {
    return this.view.getInt32(i * ENTRY_BYTES + TRACE_ID + 4, true);
  }

  idLow(i: number): number {
    return this.view.getUint32(i * ENTRY_BYTES + TRACE_ID, true);
  }

  traceId(i: number): bigint {
    return this.view.getBigInt64(i * ENTRY_BYTES + TRACE_ID, true);
  }

  /** Payload ids are SQLite rowids, far below 2^53. */
  payload(i: number): number {
    const at = i * ENTRY_BYTES + PAYLOAD;
    return this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 0x1_0000_0000;
  }

  offset(i: number): number {
    return this.view.getUint32(i * ENTRY_BYTES + OFFSET, true);
  }

  chunk(i: number): StoredChunk {
    const at = i * ENTRY_BYTES;
    const v = this.view;
    const flags = v.getUint32(at + FLAGS, true);
    return {
      trace_id: v.getBigInt64(at + TRACE_ID, true),
      payload: BigInt(this.payload(i)),
      offset: BigInt(v.getUint32(at + OFFSET, true)),
      trace_id_high: v.getBigInt64(at + HIGH, true),
      start: v.getBigInt64(at + START, true),
      end: v.getBigInt64(at + END, true),
      root_span_id: (flags & HAS_ROOT) !== 0 ? v.getBigInt64(at + ROOT, true) : null,
      span_count: BigInt(v.getUint32(at + SPANS, true)),
      error_count: BigInt(flags & ~HAS_ROOT),
      names: BigInt(v.getUint32(at + NAMES, true)),
    };
  }

  /** The entries of one trace id, found by bisection (the page is sorted). */
  find(traceId: bigint, into: StoredChunk[]): void {
    const [high, low] = halvesOf(traceId);
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const h = this.idHigh(mid);
      if (h < high || (h === high && this.idLow(mid) < low)) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.count && this.idHigh(i) === high && this.idLow(i) === low; i++) into.push(this.chunk(i));
  }
}

/*
 * A page's filter: 128 bits (two signed 64-bit integers, which SQLite can mask), 3 of them set
 * per trace id. A lookup asks each run for its one page that can hold the id, and SQLite skips
 * the pages whose filter lacks the id's bits without handing their blobs over: with 32 entries a
 * page, 15% of pages pass without the id (a blob handed over costs ~4 µs, the seek ~2). A lookup
 * on 22 runs: 77 µs, against 172 without filters (bench/README.md).
 */
function setFilterBits(words: Uint32Array, high: number, low: number): void {
  // Three 7-bit fields of a multiplicative hash of the id (tracers' ids are mostly random, but
  // not all of their bits: some keep a timestamp in the upper half).
  const x = Math.imul(low ^ Math.imul(high, 0x85eb_ca6b), 0x9e37_79b1);
  setBit(words, x >>> 25);
  setBit(words, (x >>> 18) & 127);
  setBit(words, (x >>> 11) & 127);
}

function setBit(words: Uint32Array, b: number): void {
  words[b >>> 5]! |= 1 << (b & 31);
}

const wordsToInts = (w: Uint32Array): [bigint, bigint] => [
  BigInt.asIntN(64, (BigInt(w[1]!) << 32n) | BigInt(w[0]!)),
  BigInt.asIntN(64, (BigInt(w[3]!) << 32n) | BigInt(w[2]!)),
];

/** A page's key and filter columns: its first trace id, and the filter of its entries. */
export function pageColumns(e: Entries): [first: bigint, f0: bigint, f1: bigint] {
  const words = new Uint32Array(4);
  for (let i = 0; i < e.count; i++) setFilterBits(words, e.idHigh(i), e.idLow(i));
  return [e.traceId(0), ...wordsToInts(words)];
}

/** The bits a page's filter has when the page holds this trace id. */
export function idFilter(traceId: bigint): [bigint, bigint] {
  const words = new Uint32Array(4);
  setFilterBits(words, ...halvesOf(traceId));
  return wordsToInts(words);
}

/** A payload's chunk rows as entries in key order, `names[i]` being chunk i's names index. */
export function packEntries(payload: bigint, chunks: readonly ChunkRow[], names: readonly number[]): Buffer {
  const order = chunks.map((_, i) => i).sort((a, b) => {
    const x = chunks[a]!;
    const y = chunks[b]!;
    return x.traceId < y.traceId ? -1 : x.traceId > y.traceId ? 1 : x.offset - y.offset;
  });
  const bytes = Buffer.alloc(chunks.length * ENTRY_BYTES);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  order.forEach((i, k) => {
    const c = chunks[i]!;
    setEntry(v, k * ENTRY_BYTES, c.traceId, payload, highToInt(c.traceIdHigh), c.start, c.end, c.rootSpanId, c.offset, c.spanCount, c.errorCount, names[i]!);
  });
  return bytes;
}

/** Stored chunks (as schema 3 kept them, in key order) as entries. */
export function entriesOfStored(chunks: readonly StoredChunk[]): Buffer {
  const bytes = Buffer.alloc(chunks.length * ENTRY_BYTES);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  chunks.forEach((c, k) => setEntry(v, k * ENTRY_BYTES, c.trace_id, c.payload, c.trace_id_high, c.start, c.end, c.root_span_id,
    Number(c.offset), Number(c.span_count), Number(c.error_count), Number(c.names)));
  return bytes;
}

function setEntry(v: DataView, at: number, traceId: bigint, payload: bigint, high: bigint, start: bigint, end: bigint, root: bigint | null,
  offset: number, spans: number, errors: number, names: number): void {
  v.setBigInt64(at + TRACE_ID, traceId, true);
  v.setBigInt64(at + PAYLOAD, payload, true);
  v.setBigInt64(at + HIGH, high, true);
  v.setBigInt64(at + START, start, true);
  v.setBigInt64(at + END, end, true);
  v.setBigInt64(at + ROOT, root ?? 0n, true);
  v.setUint32(at + OFFSET, offset, true);
  v.setUint32(at + SPANS, spans, true);
  v.setUint32(at + FLAGS, (errors & ~HAS_ROOT) | (root === null ? 0 : HAS_ROOT), true);
  v.setUint32(at + NAMES, names, true);
}
