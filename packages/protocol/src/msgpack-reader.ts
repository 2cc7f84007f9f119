import { PayloadDecodeError } from './errors.js';

/*
 * A cursor over msgpack bytes, specialised for trace payloads: ids come out as bigint, strings
 * are interned through a small byte-keyed cache (span payloads repeat the same keys and values
 * thousands of times), and every type check produces an error a person can read.
 * This is the agent's hot path; bench/intake.bench.js compares it against msgpackr.unpack.
 */

const MAX_INT64 = (1n << 63n) - 1n;
/** Array/map headers above this are refused, as the agent refuses them ("too long payload"). */
export const MAX_CONTAINER_LENGTH = 25_000_000;
/** Values nested deeper than this (in free-form fields: span events, stats) are refused. */
export const MAX_DEPTH = 64;
/*
 * What decoding may cost, in bytes of memory per byte of payload: each array element is charged
 * ELEMENT_COST and each map entry ENTRY_COST (what V8 spends on a slot and a property, roughly),
 * so a payload of empty maps or tiny entries, which costs a few bytes on the wire and hundreds in
 * memory, is refused before it is built. Real payloads stay below the bound: dd-trace's v0.4 and
 * v0.5 captures are charged 2.2x and 3.4x, the intake benchmark's v0.5 payload (300 traces
 * sharing one string table) 9.7x; an array of empty maps 64x (limits.test.ts).
 */
export const MAX_EXPANSION = 16;
const ELEMENT_COST = 16;
const ENTRY_COST = 48;
/** Small payloads may always cost this much, whatever their size. */
const BASE_BUDGET = 64 * 1024;

export interface ReaderLimits {
  /** Refuse payloads whose decoded form would cost more than this many times their size (see MAX_EXPANSION). */
  maxExpansion?: number;
}

const CACHE_SIZE = 1 << 12;
const CACHE_MASK = CACHE_SIZE - 1;
const MAX_CACHED_LENGTH = 64;
/*
 * Interned ASCII strings by a cheap hash of length and four sampled bytes. A hit is confirmed by
 * comparing the cached string's char codes with the bytes, so a miss costs no extra allocation.
 * Only strings whose UTF-16 length equals their byte length are cached: those are pure ASCII (a
 * replaced invalid byte becomes U+FFFD, which never equals a byte, so it can never hit).
 */
const cacheStrings: string[] = new Array<string>(CACHE_SIZE).fill('');

const SMALL_BIGINTS: bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));

export function typeName(b: number): string {
  if (b <= 0x7f || b === 0xcc || b === 0xcd || b === 0xce || b === 0xcf) return 'uint';
  if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3)) return 'int';
  if ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf) return 'map';
  if ((b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd) return 'array';
  if ((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb) return 'str';
  if (b === 0xc4 || b === 0xc5 || b === 0xc6) return 'bin';
  if (b === 0xc0) return 'nil';
  if (b === 0xc2 || b === 0xc3) return 'bool';
  if (b === 0xca) return 'float32';
  if (b === 0xcb) return 'float64';
  return 'ext';
}

export class MsgpackReader {
  pos = 0;
  readonly end: number;
  /*
   * Where the decoder is, for error messages. Kept as numbers and a key so that the hot path
   * never builds a string: the message is composed only when decoding fails.
   */
  trace = -1;
  span = -1;
  key: string | undefined = undefined;
  /** Memory decoding may still spend, in cost units (bytes, roughly); Infinity when unbounded. */
  private budget: number;
  private depth = 0;

  /** 64-bit values are read through a DataView: Buffer's readBig*64 allocate three BigInts each. */
  private readonly view: DataView;

  constructor(readonly buf: Buffer, limits: ReaderLimits = {}) {
    this.end = buf.length;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    this.budget = limits.maxExpansion === undefined ? Infinity : buf.length * limits.maxExpansion + BASE_BUDGET;
  }

  /** What decoding has charged so far against `limits.maxExpansion`, per byte of payload (tests, benchmarks). */
  spent(limits: Required<ReaderLimits>): number {
    return (this.buf.length * limits.maxExpansion + BASE_BUDGET - this.budget) / this.buf.length;
  }

  private charge(cost: number): void {
    this.budget -= cost;
    if (this.budget < 0) {
      this.fail(`payload of ${this.end} bytes would take more than ${MAX_EXPANSION} times its size in memory when decoded (too many elements for its size)`);
    }
  }

  fail(message: string): never {
    let where = '';
    if (this.trace >= 0) where = this.span >= 0 ? `trace ${this.trace}, span ${this.span}: ` : `trace ${this.trace}: `;
    throw new PayloadDecodeError(where + message);
  }

  /** `what`, with the map key being read (set in `key`) when there is one. */
  private label(what: string): string {
    return this.key === undefined ? what : `${what}["${this.key}"]`;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      this.fail(`unexpected end of payload: ${n} more bytes needed at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail(`unexpected end of payload at offset ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  private checkLength(n: number, minBytesEach: number): number {
    if (n > MAX_CONTAINER_LENGTH) this.fail(`too long payload: container of ${n} elements`);
    if (n * minBytesEach > this.end - this.pos) {
      this.fail(`container of ${n} elements is longer than the ${this.end - this.pos} bytes left`);
    }
    return n;
  }

  isNil(): boolean {
    return this.buf[this.pos] === 0xc0;
  }

  /** Array length, or -1 for nil. */
  readArrayHeader(what: string): number {
    const b = this.byte();
    let n: number;
    if (b >= 0x90 && b <= 0x9f) n = b & 0x0f;
    else if (b === 0xdc) { this.need(2); n = this.buf.readUInt16BE(this.pos); this.pos += 2; this.checkLength(n, 1); }
    else if (b === 0xdd) { this.need(4); n = this.buf.readUInt32BE(this.pos); this.pos += 4; this.checkLength(n, 1); }
    else if (b === 0xc0) return -1;
    else {
      this.pos--;
      return this.fail(`${this.label(what)}: expected an array, got ${typeName(b)}`);
    }
    this.charge(ELEMENT_COST * (n + 1));
    return n;
  }

  /** Map size, or -1 for nil. */
  readMapHeader(what: string): number {
    const b = this.byte();
    let n: number;
    if (b >= 0x80 && b <= 0x8f) n = b & 0x0f;
    else if (b === 0xde) { this.need(2); n = this.buf.readUInt16BE(this.pos); this.pos += 2; this.checkLength(n, 2); }
    else if (b === 0xdf) { this.need(4); n = this.buf.readUInt32BE(this.pos); this.pos += 4; this.checkLength(n, 2); }
    else if (b === 0xc0) return -1;
    else {
      this.pos--;
      return this.fail(`${this.label(what)}: expected a map, got ${typeName(b)}`);
    }
    this.charge(ENTRY_COST * (n + 1));
    return n;
  }

  /** Length of a str or bin (the agent accepts both for strings), -1 for nil, -2 for neither. */
  readStringHeader(): number {
    const b = this.buf[this.pos];
    if (b === undefined) return this.fail(`unexpected end of payload at offset ${this.pos}`);
    let n: number;
    if (b >= 0xa0 && b <= 0xbf) { this.pos++; n = b & 0x1f; }
    else if (b === 0xd9 || b === 0xc4) { this.need(2); n = this.buf[this.pos + 1]!; this.pos += 2; }
    else if (b === 0xda || b === 0xc5) { this.need(3); n = this.buf.readUInt16BE(this.pos + 1); this.pos += 3; }
    else if (b === 0xdb || b === 0xc6) { this.need(5); n = this.buf.readUInt32BE(this.pos + 1); this.pos += 5; }
    else if (b === 0xc0) { this.pos++; return -1; }
    else return -2;
    if (this.pos + n > this.end) this.fail(`string of ${n} bytes runs past the end of the payload`);
    return n;
  }

  /** A string (str or bin; nil is ""). Invalid UTF-8 is replaced by U+FFFD, as the agent does. */
  readString(what: string): string {
    const n = this.readStringHeader();
    if (n >= 0) return this.stringBody(n);
    if (n === -1) return '';
    return this.fail(`${this.label(what)}: expected a string, got ${typeName(this.buf[this.pos]!)}`);
  }

  stringBody(len: number): string {
    const buf = this.buf;
    const start = this.pos;
    this.pos = start + len;
    if (len === 0) return '';
    if (len > MAX_CACHED_LENGTH) return buf.toString('utf8', start, start + len);
    const last = start + len - 1;
    const slot = (Math.imul(len, 0x9e3779b1) ^ (buf[start]! << 3) ^ (buf[last]! << 7) ^ (buf[start + (len >> 1)]! << 11) ^ (buf[last - (len >> 2)]! << 1)) & CACHE_MASK;
    const cached = cacheStrings[slot]!;
    if (cached.length === len) {
      let i = 0;
      while (i < len && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === len) return cached;
    }
    const s = buf.toString('utf8', start, start + len);
    if (s.length === len) cacheStrings[slot] = s;
    return s;
  }

  /** Raw bytes of a bin or str value (meta_struct values). */
  readBytes(what: string): Uint8Array {
    const n = this.readStringHeader();
    if (n === -1) return new Uint8Array(0);
    if (n < 0) return this.fail(`${this.label(what)}: expected bytes, got ${typeName(this.buf[this.pos]!)}`);
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** A uint64 field (ids). Signed encodings are reinterpreted as two's complement, as Java sends them. */
  readUint64(what: string): bigint {
    const buf = this.buf;
    const b = this.byte();
    if (b <= 0x7f) return SMALL_BIGINTS[b]!;
    switch (b) {
      case 0xcc: this.need(1); return SMALL_BIGINTS[buf[this.pos++]!]!;
      case 0xcd: this.need(2); this.pos += 2; return BigInt(buf.readUInt16BE(this.pos - 2));
      case 0xce: this.need(4); this.pos += 4; return BigInt(buf.readUInt32BE(this.pos - 4));
      case 0xcf: this.need(8); this.pos += 8; return this.view.getBigUint64(this.pos - 8);
      case 0xd0: this.need(1); this.pos += 1; return BigInt.asUintN(64, BigInt(buf.readInt8(this.pos - 1)));
      case 0xd1: this.need(2); this.pos += 2; return BigInt.asUintN(64, BigInt(buf.readInt16BE(this.pos - 2)));
      case 0xd2: this.need(4); this.pos += 4; return BigInt.asUintN(64, BigInt(buf.readInt32BE(this.pos - 4)));
      case 0xd3: this.need(8); this.pos += 8; return this.view.getBigUint64(this.pos - 8);
      case 0xc0: return 0n;
    }
    if (b >= 0xe0) return BigInt.asUintN(64, BigInt(b - 256));
    this.pos--;
    return this.fail(`${this.label(what)}: expected an unsigned integer, got ${typeName(b)}`);
  }

  /** An int64 field (start). Unsigned encodings above 2^63-1 are an error, as in the agent. */
  readInt64(what: string): bigint {
    const b = this.buf[this.pos];
    if (b === 0xcf) {
      this.need(9);
      const v = this.view.getBigUint64(this.pos + 1);
      if (v > MAX_INT64) this.fail(`${this.label(what)}: ${v} overflows int64`);
      this.pos += 9;
      return v;
    }
    if (b === 0xd3) { this.need(9); this.pos += 9; return this.view.getBigInt64(this.pos - 8); }
    return BigInt(this.readInt53(what));
  }

  /** An int64 field held as a JS number (duration); exact up to 2^53 ns (104 days). */
  readInt53(what: string): number {
    const buf = this.buf;
    const b = this.byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 256;
    switch (b) {
      case 0xcc: this.need(1); return buf[this.pos++]!;
      case 0xcd: this.need(2); this.pos += 2; return buf.readUInt16BE(this.pos - 2);
      case 0xce: this.need(4); this.pos += 4; return buf.readUInt32BE(this.pos - 4);
      case 0xcf: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        if (v > MAX_INT64) { this.pos--; this.fail(`${this.label(what)}: ${v} overflows int64`); }
        this.pos += 8;
        return Number(v);
      }
      case 0xd0: this.need(1); this.pos += 1; return buf.readInt8(this.pos - 1);
      case 0xd1: this.need(2); this.pos += 2; return buf.readInt16BE(this.pos - 2);
      case 0xd2: this.need(4); this.pos += 4; return buf.readInt32BE(this.pos - 4);
      case 0xd3: this.need(8); this.pos += 8; return Number(this.view.getBigInt64(this.pos - 8));
      case 0xc0: return 0;
    }
    this.pos--;
    return this.fail(`${this.label(what)}: expected an integer, got ${typeName(b)}`);
  }

  /** An int32 field (error); values above 2^31-1 are an error, as in the agent. */
  readInt32(what: string): number {
    const v = this.readInt53(what);
    if (v > 0x7fffffff || v < -0x80000000) this.fail(`${this.label(what)}: ${v} overflows int32`);
    return v;
  }

  /**
   * A metric value: int, uint or float64. float32 is refused like the agent's decoder refuses it,
   * so that a payload the Datadog Agent rejects is not silently accepted here.
   */
  readFloat64(what: string): number {
    const b = this.buf[this.pos];
    if (b === 0xcb) { this.need(9); this.pos += 9; return this.view.getFloat64(this.pos - 8); }
    if (b === 0xca) return this.fail(`${this.label(what)}: float32 values are not accepted, send float64`);
    if (b === 0xc2 || b === 0xc3) return this.fail(`${this.label(what)}: expected a number, got bool`);
    return this.readInt53(what);
  }

  /** Skips any value, for unknown keys. */
  skip(): void {
    const buf = this.buf;
    let pending = 1;
    while (pending > 0) {
      pending--;
      const b = this.byte();
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue;
      if (b >= 0x80 && b <= 0x8f) { pending += 2 * (b & 0x0f); continue; }
      if (b >= 0x90 && b <= 0x9f) { pending += b & 0x0f; continue; }
      if (b >= 0xa0 && b <= 0xbf) { this.advance(b & 0x1f); continue; }
      switch (b) {
        case 0xcc: case 0xd0: this.advance(1); break;
        case 0xcd: case 0xd1: this.advance(2); break;
        case 0xce: case 0xd2: case 0xca: this.advance(4); break;
        case 0xcf: case 0xd3: case 0xcb: this.advance(8); break;
        case 0xd9: case 0xc4: this.need(1); this.advance(1 + buf[this.pos]!); break;
        case 0xda: case 0xc5: this.need(2); this.advance(2 + buf.readUInt16BE(this.pos)); break;
        case 0xdb: case 0xc6: this.need(4); this.advance(4 + buf.readUInt32BE(this.pos)); break;
        case 0xdc: this.need(2); pending += this.checkLength(buf.readUInt16BE(this.pos), 0); this.pos += 2; break;
        case 0xdd: this.need(4); pending += this.checkLength(buf.readUInt32BE(this.pos), 0); this.pos += 4; break;
        case 0xde: this.need(2); pending += 2 * this.checkLength(buf.readUInt16BE(this.pos), 0); this.pos += 2; break;
        case 0xdf: this.need(4); pending += 2 * this.checkLength(buf.readUInt32BE(this.pos), 0); this.pos += 4; break;
        case 0xd4: this.advance(2); break;
        case 0xd5: this.advance(3); break;
        case 0xd6: this.advance(5); break;
        case 0xd7: this.advance(9); break;
        case 0xd8: this.advance(17); break;
        case 0xc7: this.need(1); this.advance(2 + buf[this.pos]!); break;
        case 0xc8: this.need(2); this.advance(3 + buf.readUInt16BE(this.pos)); break;
        case 0xc9: this.need(4); this.advance(5 + buf.readUInt32BE(this.pos)); break;
        default: this.pos--; this.fail(`invalid msgpack byte 0x${b.toString(16)} at offset ${this.pos}`);
      }
    }
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Any value as plain JS (for rarely used nested fields); integers above 2^53 become bigint. */
  readAny(): unknown {
    const b = this.buf[this.pos];
    if (b === undefined) return this.fail(`unexpected end of payload at offset ${this.pos}`);
    if (b === 0xc0) { this.pos++; return null; }
    if (b === 0xc2 || b === 0xc3) { this.pos++; return b === 0xc3; }
    if (b === 0xcb || b === 0xca) {
      this.need(b === 0xcb ? 9 : 5);
      const v = b === 0xcb ? this.view.getFloat64(this.pos + 1) : this.view.getFloat32(this.pos + 1);
      this.pos += b === 0xcb ? 9 : 5;
      return v;
    }
    if (b === 0xcf) { const v = this.readUint64('value'); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
    if (b === 0xd3) { const v = this.readInt64('value'); return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v; }
    const t = typeName(b);
    if (t === 'uint' || t === 'int') return this.readInt53('value');
    if (t === 'str') return this.readString('value');
    if (t === 'bin') return this.readBytes('value');
    if (t === 'array' || t === 'map') {
      if (++this.depth > MAX_DEPTH) this.fail(`value nested more than ${MAX_DEPTH} deep at offset ${this.pos}`);
      let out: unknown[] | Record<string, unknown>;
      if (t === 'array') {
        const n = this.readArrayHeader('value');
        const arr: unknown[] = [];
        for (let i = 0; i < n; i++) arr.push(this.readAny());
        out = arr;
      } else {
        const n = this.readMapHeader('value');
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = this.readAny();
          setOwn(obj, String(k), this.readAny());
        }
        out = obj;
      }
      this.depth--;
      return out;
    }
    const start = this.pos;
    this.skip();
    return this.buf.subarray(start, this.pos).slice();
  }
}

/** Assigns without invoking the `__proto__` setter, so a tag named "__proto__" is kept as data. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
