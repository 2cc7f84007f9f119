import type { Half } from './trace-rollup.js';

/*
 * The halves of calls waiting for their other side (trace-rollup.ts), oldest first, found by
 * (trace id, span id). dd-trace's payloads leave a half for every 3.5 spans and most wait their
 * whole time, so tens of thousands are held and as many come and go each second. As objects in a
 * Map (a key string, the half, its data, its ids) each took ~400 bytes that outlived the young
 * generation: the old one grew by ~4 MB/s between collections, and the agent's peak RSS was
 * ~50 MB higher than with 1,000 halves (bench/README.md). Here they are columns of typed arrays
 * in a ring, with an open-addressing index: a half held allocates nothing.
 */

const EMPTY = -1;
const CLIENT = 1;
const LIVE = 2;

export class WaitingHalves {
  private cap = 0;
  /** Sequence numbers of the oldest slot in use and of the next one; a slot is `seq & (cap - 1)`. */
  private head = 0;
  private tail = 0;
  private count = 0;
  private ids = new BigUint64Array(0);
  /** The same ids as 32-bit words: trace id low, high, span id low, high (little-endian). */
  private words = new Uint32Array(0);
  private at = new BigInt64Array(0);
  private start = new BigInt64Array(0);
  private duration = new Float64Array(0);
  private error = new Int32Array(0);
  private flags = new Uint8Array(0);
  private service: string[] = [];
  private env: string[] = [];
  private type: string[] = [];
  private leafName: (string | undefined)[] = [];
  private leafType: (string | undefined)[] = [];
  /** Open addressing, linear probing, twice the ring's size: slot numbers, EMPTY where none. */
  private index = new Int32Array(0);
  private readonly key = new BigUint64Array(2);
  private readonly keyWords = new Uint32Array(this.key.buffer);

  constructor(initialCapacity = 1024) {
    this.resize(Math.max(16, 2 ** Math.ceil(Math.log2(initialCapacity))));
  }

  get size(): number {
    return this.count;
  }

  /** Takes out the half waiting for this call, if any (its ids as unsigned 64-bit numbers). */
  take(traceId: bigint, spanId: bigint): Half | undefined {
    const at = this.find(traceId, spanId);
    if (at === EMPTY) return undefined;
    const slot = this.index[at]!;
    const half = this.half(slot);
    this.remove(at, slot);
    return half;
  }

  /** Adds a half as the newest (a half for the same call must have been taken out first). */
  put(h: Half): void {
    if (this.tail - this.head === this.cap) this.resize(this.count * 2 > this.cap ? this.cap * 2 : this.cap);
    const slot = this.tail++ & (this.cap - 1);
    this.ids[2 * slot] = BigInt.asUintN(64, h.traceId);
    this.ids[2 * slot + 1] = BigInt.asUintN(64, h.spanId);
    this.at[slot] = h.at;
    this.start[slot] = BigInt(h.data.start);
    this.duration[slot] = h.data.duration;
    this.error[slot] = h.data.error;
    this.flags[slot] = LIVE | (h.side === 'client' ? CLIENT : 0);
    this.service[slot] = h.data.service;
    this.env[slot] = h.data.env;
    this.type[slot] = h.data.type;
    this.leafName[slot] = h.data.leaf?.name;
    this.leafType[slot] = h.data.leaf?.type;
    let i = this.hash(slot);
    while (this.index[i] !== EMPTY) i = (i + 1) & (this.index.length - 1);
    this.index[i] = slot;
    this.count++;
  }

  /** When the oldest half was written (ns), or undefined when none waits. */
  oldestAt(): bigint | undefined {
    this.skipHoles();
    return this.count === 0 ? undefined : this.at[this.head & (this.cap - 1)]!;
  }

  /** Takes out the oldest half. */
  shift(): Half | undefined {
    this.skipHoles();
    if (this.count === 0) return undefined;
    const slot = this.head & (this.cap - 1);
    const half = this.half(slot);
    this.remove(this.indexOf(slot), slot);
    return half;
  }

  /** Takes out, oldest first, the halves written before `before` (ns), or all of them without it. */
  shiftOlderThan(before?: bigint): Half[] {
    const out: Half[] = [];
    for (let at = this.oldestAt(); at !== undefined && (before === undefined || at < before); at = this.oldestAt()) out.push(this.shift()!);
    return out;
  }

  private skipHoles(): void {
    while (this.head < this.tail && (this.flags[this.head & (this.cap - 1)]! & LIVE) === 0) this.head++;
  }

  private half(slot: number): Half {
    const name = this.leafName[slot];
    return {
      traceId: this.ids[2 * slot]!,
      spanId: this.ids[2 * slot + 1]!,
      side: (this.flags[slot]! & CLIENT) !== 0 ? 'client' : 'server',
      at: this.at[slot]!,
      data: {
        service: this.service[slot]!, env: this.env[slot]!, type: this.type[slot]!, start: String(this.start[slot]!),
        duration: this.duration[slot]!, error: this.error[slot]!,
        ...(name !== undefined ? { leaf: { name, type: this.leafType[slot]! } } : {}),
      },
    };
  }

  /** Mixes the span id's words (random in every tracer) with the trace id's low word. */
  private mix(w0: number, w2: number, w3: number): number {
    return (Math.imul(w2 ^ Math.imul(w3, 0x9e3779b1) ^ w0, 0x85ebca6b) >>> 0) & (this.index.length - 1);
  }

  private hash(slot: number): number {
    const w = this.words;
    return this.mix(w[4 * slot]!, w[4 * slot + 2]!, w[4 * slot + 3]!);
  }

  /** The index position holding this call, or EMPTY. */
  private find(traceId: bigint, spanId: bigint): number {
    this.key[0] = BigInt.asUintN(64, traceId);
    this.key[1] = BigInt.asUintN(64, spanId);
    const k = this.keyWords;
    const w = this.words;
    for (let i = this.mix(k[0]!, k[2]!, k[3]!); ; i = (i + 1) & (this.index.length - 1)) {
      const slot = this.index[i]!;
      if (slot === EMPTY) return EMPTY;
      const o = 4 * slot;
      if (w[o] === k[0] && w[o + 1] === k[1] && w[o + 2] === k[2] && w[o + 3] === k[3]) return i;
    }
  }

  /** The index position holding a slot in use. */
  private indexOf(slot: number): number {
    for (let i = this.hash(slot); ; i = (i + 1) & (this.index.length - 1)) if (this.index[i] === slot) return i;
  }

  /** Frees a slot and its index entry, shifting later entries of the probe run back (no tombstones). */
  private remove(at: number, slot: number): void {
    this.flags[slot] = 0;
    // The strings go with the half: a slot does not hold a service name alive after it.
    this.service[slot] = this.env[slot] = this.type[slot] = '';
    this.leafName[slot] = this.leafType[slot] = undefined;
    this.count--;
    const mask = this.index.length - 1;
    let hole = at;
    for (let i = (hole + 1) & mask; this.index[i] !== EMPTY; i = (i + 1) & mask) {
      const home = this.hash(this.index[i]!);
      // Moved back only if its home is not between the hole and it (cyclically).
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        this.index[hole] = this.index[i]!;
        hole = i;
      }
    }
    this.index[hole] = EMPTY;
    this.skipHoles();
  }

  /** Copies the halves in use, oldest first, into a ring of `cap` slots. */
  private resize(cap: number): void {
    const old = { cap: this.cap, head: this.head, tail: this.tail, ids: this.ids, at: this.at, start: this.start, duration: this.duration, error: this.error,
      flags: this.flags, service: this.service, env: this.env, type: this.type, leafName: this.leafName, leafType: this.leafType };
    this.cap = cap;
    this.ids = new BigUint64Array(2 * cap);
    this.words = new Uint32Array(this.ids.buffer);
    this.at = new BigInt64Array(cap);
    this.start = new BigInt64Array(cap);
    this.duration = new Float64Array(cap);
    this.error = new Int32Array(cap);
    this.flags = new Uint8Array(cap);
    this.service = new Array<string>(cap).fill('');
    this.env = new Array<string>(cap).fill('');
    this.type = new Array<string>(cap).fill('');
    this.leafName = new Array<string | undefined>(cap).fill(undefined);
    this.leafType = new Array<string | undefined>(cap).fill(undefined);
    this.index = new Int32Array(2 * cap).fill(EMPTY);
    this.head = this.tail = this.count = 0;
    for (let seq = old.head; seq < old.tail; seq++) {
      const s = seq & (old.cap - 1);
      if ((old.flags[s]! & LIVE) === 0) continue;
      const d = this.tail++;
      this.ids[2 * d] = old.ids[2 * s]!;
      this.ids[2 * d + 1] = old.ids[2 * s + 1]!;
      this.at[d] = old.at[s]!;
      this.start[d] = old.start[s]!;
      this.duration[d] = old.duration[s]!;
      this.error[d] = old.error[s]!;
      this.flags[d] = old.flags[s]!;
      this.service[d] = old.service[s]!;
      this.env[d] = old.env[s]!;
      this.type[d] = old.type[s]!;
      this.leafName[d] = old.leafName[s];
      this.leafType[d] = old.leafType[s];
      let i = this.hash(d);
      while (this.index[i] !== EMPTY) i = (i + 1) & (2 * cap - 1);
      this.index[i] = d;
      this.count++;
    }
  }
}
