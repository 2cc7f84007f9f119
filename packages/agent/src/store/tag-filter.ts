import type { Span } from '@ecs-trace/protocol';
import type { SegmentMatch } from './segment-codec.js';

/*
 * The tag index: per payload, Bloom filters over the key=value pairs its spans carry, so that a
 * search for a tag reads a few bytes a payload instead of its spans, and reads only the payloads
 * whose filter says "maybe" (about 1 in 800 of those without the tag). A pair is one 32-bit hash
 * of the key and of the value as searches compare it (lower case); the filter holds 14 bits a
 * distinct pair with 10 probes. A payload with many distinct pairs has its filter cut in
 * 16 shards by the hash's top bits, each a row of its own, so a search reads one sixteenth of it;
 * a payload with few keeps one row (WHOLE). Both stores keep the rows (payload, shard, the
 * payload's first and last span start, bits) and test the bits the same way: bit n of a filter is
 * bit n % 8, from the least significant, of byte n / 8, as PostgreSQL's get_bit numbers them.
 *
 * Free text is indexed the same way: every three characters in a row (lower case) of each span's
 * resource, operation name and error message are a pair of the key TEXT, so a search for text of
 * three characters or more reads the payloads whose filters hold all of its trigrams (a payload
 * with a span that contains the text holds them all: the filters never miss one).
 *
 * Not indexed, so never used to find candidates (a search on them checks traces instead): keys
 * that start with `_` (the tracers' internals: `_dd.p.tid`, `_sampling_priority_v1`), the fields
 * a search reads from the span itself (service, env, resource, name, type), and values over 256
 * characters (stacks, long statements).
 */

// About 1 false "maybe" in 800 payloads (k = 10 probes, 14 bits a pair): each one is a payload
// read for nothing, and a day holds tens of thousands (bench/README.md, ui-api at 10M spans).
const BITS_PER_PAIR = 14;
const PROBES = 10;
export const TAG_SHARDS = 16;
/** The shard id of a payload's filter kept whole. */
export const WHOLE = TAG_SHARDS;
/** Pairs up to which a payload's filter is kept whole: at most 640 bytes to read. */
const WHOLE_UP_TO = 512;
const MAX_VALUE = 256;
const SPAN_FIELDS = new Set(['service', 'env', 'resource', 'name', 'type']);

/** The key free text is searched under (TraceQuery.tag): a span's resource, name or error message contains the value. */
export const TEXT_KEY = '*text';
/** The key trigrams are kept under; no tag has it (keys starting with `_` are not indexed). */
const TRIGRAM_KEY = stringHash('\u0000trigram');

export interface TagFilterRow {
  shard: number;
  bits: Buffer;
}

export interface PayloadTagFilters {
  /** The first and last start of the payload's spans, ns. */
  minStart: bigint;
  maxStart: bigint;
  rows: TagFilterRow[];
}

/** The text a value is compared as: lower case, as searches compare values. */
function normalize(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 65 && c <= 90 || c > 127) return value.toLowerCase();
  }
  return value;
}

/** Whether the tag index holds `key` with values like `value`: only then can it find candidates. */
export function indexedTag(key: string, value: string): boolean {
  return indexedKey(key) && !key.includes('*') && normalize(value).length <= MAX_VALUE;
}

/** A key the filters hold pairs of: not the tracers' own (`_`), not a field of the span itself. */
const indexedKey = (key: string): boolean => key.length > 0 && key.charCodeAt(0) !== 95 && !SPAN_FIELDS.has(key);

/** Whether the index can find candidates for free text: three characters or more, no wildcard. */
export function indexedText(text: string): boolean {
  return normalize(text).length >= 3 && !text.includes('*');
}

/** FNV-1a over UTF-16 code units. */
function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** MurmurHash3's finalizer: every input bit reaches every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const pairHash = (keyHash: number, valueHash: number): number => mix(Math.imul(keyHash, 0x9e3779b1) ^ valueHash);

/** Where a pair's bits are, before each filter's length is known: bit g % length for each g. */
function probesOf(h: number): number[] {
  const step = mix(h ^ 0x5bd1e995) | 1;
  const out: number[] = [];
  for (let i = 0; i < PROBES; i++) out.push((h + Math.imul(i, step)) >>> 0);
  return out;
}

/** What a search for key:value reads: the shards that may hold it, and its probes. */
export interface TagProbe {
  shards: [number, number];
  probes: number[];
}

export function tagProbe(key: string, value: string): TagProbe {
  const h = pairHash(stringHash(key), stringHash(normalize(value)));
  return { shards: [h >>> 28, WHOLE], probes: probesOf(h) };
}

/** A trigram's hash from the three characters of `s` at `i` (s lower case), without making a string of them. */
function trigramHash(s: string, i: number): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ s.charCodeAt(i + 1), 0x01000193);
  h = Math.imul(h ^ s.charCodeAt(i + 2), 0x01000193);
  return pairHash(TRIGRAM_KEY, h >>> 0);
}

/** What a free-text search reads: a probe a distinct trigram of the text (all must be in a payload). */
export function textProbes(text: string): TagProbe[] {
  const t = normalize(text);
  const seen = new Set<number>();
  const out: TagProbe[] = [];
  for (let i = 0; i + 3 <= t.length; i++) {
    const h = trigramHash(t, i);
    if (seen.has(h)) continue;
    seen.add(h);
    out.push({ shards: [h >>> 28, WHOLE], probes: probesOf(h) });
  }
  return out;
}

/** Whether a filter may hold the pair probed (a false "maybe" about 0.1% of the time, never a false "no"). */
export function mayContain(bits: Uint8Array, probes: readonly number[]): boolean {
  const length = bits.length * 8;
  for (const g of probes) {
    const n = g % length;
    if ((bits[n >>> 3]! & (1 << (n & 7))) === 0) return false;
  }
  return true;
}

/** The distinct pair hashes of a payload: an open-addressing set of 32-bit values (0 marks empty). */
class HashSet {
  private table = new Int32Array(1024);
  size = 0;
  hasZero = false;

  add(h: number): void {
    if (h === 0) { if (!this.hasZero) { this.hasZero = true; this.size++; } return; }
    if (2 * this.size >= this.table.length) this.grow();
    const mask = this.table.length - 1;
    let i = h & mask;
    const v = h | 0;
    for (;;) {
      const at = this.table[i]!;
      if (at === v) return;
      if (at === 0) { this.table[i] = v; this.size++; return; }
      i = (i + 1) & mask;
    }
  }

  *values(): Generator<number> {
    if (this.hasZero) yield 0;
    for (const v of this.table) if (v !== 0) yield v >>> 0;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    const mask = this.table.length - 1;
    for (const v of old) {
      if (v === 0) continue;
      let i = v & mask;
      while (this.table[i] !== 0) i = (i + 1) & mask;
      this.table[i] = v;
    }
  }
}

function filterOf(hashes: readonly number[]): Buffer {
  // A whole number of 8-byte words, 64 bits at least.
  const bytes = Math.max(8, Math.ceil((hashes.length * BITS_PER_PAIR) / 64) * 8);
  const bits = Buffer.alloc(bytes);
  const length = bytes * 8;
  for (const h of hashes) {
    for (const g of probesOf(h)) {
      const n = g % length;
      bits[n >>> 3]! |= 1 << (n & 7);
    }
  }
  return bits;
}

/** The tag filters of a payload's spans. */
export function buildTagFilters(chunks: readonly (readonly Span[])[]): PayloadTagFilters {
  // Each distinct string hashed once (keys and values repeat across the payload's spans).
  const keyHashes = new Map<string, number>();
  const valueHashes = new Map<string, number>();
  const pairs = new HashSet();
  let minStart: bigint | undefined;
  let maxStart: bigint | undefined;
  const valueHash = (value: string): number => {
    let h = valueHashes.get(value);
    if (h === undefined) {
      const text = normalize(value);
      h = text.length <= MAX_VALUE ? stringHash(text) : -1;
      valueHashes.set(value, h);
    }
    return h;
  };
  const add = (key: string, value: string): void => {
    let kh = keyHashes.get(key);
    if (kh === undefined) {
      kh = indexedKey(key) ? stringHash(key) : -1;
      keyHashes.set(key, kh);
    }
    if (kh === -1) return;
    const vh = valueHash(value);
    if (vh !== -1) pairs.add(pairHash(kh, vh));
  };
  // Each distinct text's trigrams once (a payload's resources and names repeat).
  const texts = new Set<string>();
  const addText = (text: string | undefined): void => {
    if (text === undefined || text.length < 3 || texts.has(text)) return;
    texts.add(text);
    const t = normalize(text);
    for (let i = 0; i + 3 <= t.length; i++) pairs.add(trigramHash(t, i));
  };
  for (const chunk of chunks) {
    for (const s of chunk) {
      if (minStart === undefined || s.start < minStart) minStart = s.start;
      if (maxStart === undefined || s.start > maxStart) maxStart = s.start;
      addText(s.resource);
      addText(s.name);
      addText(s.meta['error.message']);
      const meta = s.meta;
      // The tracers' own keys (`_dd.*`, `_sampling_priority_v1`) are most of a span's: passed over first.
      for (const k in meta) if (k.charCodeAt(0) !== 95) add(k, meta[k]!);
      const metrics = s.metrics;
      // A metric is searched as its decimal text (search-query.ts); a key in meta too is searched there.
      for (const k in metrics) if (k.charCodeAt(0) !== 95 && meta[k] === undefined) add(k, String(metrics[k]));
    }
  }
  const all = [...pairs.values()];
  let rows: TagFilterRow[];
  if (all.length <= WHOLE_UP_TO) rows = [{ shard: WHOLE, bits: filterOf(all) }];
  else {
    const shards: number[][] = Array.from({ length: TAG_SHARDS }, () => []);
    for (const h of all) shards[h >>> 28]!.push(h);
    rows = shards.flatMap((hashes, shard) => (hashes.length > 0 ? [{ shard, bits: filterOf(hashes) }] : []));
  }
  return { minStart: minStart ?? 0n, maxStart: maxStart ?? 0n, rows };
}

/** Whether a text holds the free text searched for (ignoring case). */
export function holdsText(text: string): (s: string) => boolean {
  const want = normalize(text);
  return (s) => normalize(s).includes(want);
}

/** Whether a text is the value searched for, as searches compare values (ignoring case). */
export function sameValue(value: string): (text: string) => boolean {
  const want = normalize(value);
  // Lower case is never shorter: a longer text cannot be it.
  return (text) => text.length <= want.length && normalize(text) === want;
}

/** What is in every list (by `key`), in the first list's order: each probe's payloads, newest first. */
export function everyOf<T>(lists: readonly (readonly T[])[], key: (x: T) => unknown = (x) => x): T[] {
  if (lists.length === 0) return [];
  const rest = lists.slice(1).map((l) => new Set(l.map(key)));
  return lists[0]!.filter((x) => rest.every((s) => s.has(key(x))));
}

/**
 * How a store answers TraceQuery.tag: the probes whose payloads it reads (a payload must hold all
 * of them), and what it looks for in their spans (segment-codec.ts).
 */
export function tagSearch(tag: { key: string; value: string }): { probes: TagProbe[]; match: SegmentMatch } {
  if (tag.key === TEXT_KEY) {
    const probes = textProbes(tag.value);
    // Fewer than three characters have no trigram: the index cannot name their payloads.
    if (probes.length === 0) throw new Error(`free text "${tag.value}" is too short for the tag index (indexedText)`);
    return { probes, match: { text: holdsText(tag.value) } };
  }
  return { probes: [tagProbe(tag.key, tag.value)], match: { tag: tag.key, same: sameValue(tag.value) } };
}
