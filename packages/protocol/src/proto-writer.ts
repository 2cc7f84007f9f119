/*
 * Protobuf written by hand for the messages the agent sends (the trace-agent's AgentPayload, an
 * OTLP ExportTraceServiceRequest): varints, fixed-width numbers and length-delimited fields, each
 * nested message written into a buffer of its own and copied once into its parent.
 */

/** Map keys repeat across spans (`http.method`, `_dd.p.dm`, ...): their bytes, kept once. */
const keyBytes = new Map<string, Buffer>();
function keyOf(k: string): Buffer {
  let b = keyBytes.get(k);
  if (b === undefined) {
    b = Buffer.from(k, 'utf8');
    if (keyBytes.size < 4096) keyBytes.set(k, b);
  }
  return b;
}

/**
 * UTF-8 length; for the short ASCII strings that make up most tags, counted in JS, since the
 * native call costs more than the loop (bench/forward.bench.js: encoding was a third of
 * forwarding's cost, and native string writes a quarter of encoding).
 */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Below this a varint is written from a number, without bigint arithmetic. */
const SAFE_VARINT = 2 ** 52;
const SAFE_VARINT_BIG = 2n ** 52n;

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); len++; }
  return len;
}

export class ProtoWriter {
  private buf = Buffer.allocUnsafe(256);
  /** 64-bit values go through a DataView: Buffer's writeBig*64 are ~10x slower. */
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** A 64-bit varint from two 32-bit halves: bigint arithmetic per byte was most of the time. */
  private rawVarint(v: bigint): void {
    this.room(10);
    const u = BigInt.asUintN(64, v);
    let lo = Number(u & 0xffffffffn);
    let hi = Number(u >> 32n);
    while (hi > 0 || lo >= 0x80) {
      this.buf[this.len++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.len++] = lo;
  }

  private smallVarint(n: number): void {
    this.room(10);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.len++] = n;
  }

  /** A varint field (uint64, int64 as two's complement, int32, bool); zero is left out, as proto3 does. */
  varint(field: number, v: bigint | number | boolean): void {
    if (typeof v !== 'bigint') {
      const n = typeof v === 'boolean' ? (v ? 1 : 0) : Math.trunc(v);
      if (n === 0) return;
      this.smallVarint(field * 8);
      if (n > 0 && n < SAFE_VARINT) this.smallVarint(n);
      else this.rawVarint(BigInt(n));
      return;
    }
    if (v === 0n) return;
    this.smallVarint(field * 8);
    if (v > 0n && v < SAFE_VARINT_BIG) this.smallVarint(Number(v));
    else this.rawVarint(v);
  }

  double(field: number, v: number): void {
    if (v === 0) return;
    this.smallVarint(field * 8 + 1);
    this.room(8);
    this.view.setFloat64(this.len, v, true);
    this.len += 8;
  }

  /** A string written even when empty (a oneof member, such as OTLP's AnyValue). */
  stringKeep(field: number, s: string): void {
    this.smallVarint(field * 8 + 2);
    this.rawString(s);
  }

  /** A double written even when zero (a oneof member). */
  doubleKeep(field: number, v: number): void {
    this.smallVarint(field * 8 + 1);
    this.room(8);
    this.view.setFloat64(this.len, v, true);
    this.len += 8;
  }

  /** A bool or int64 written even when zero (a oneof member). */
  varintKeep(field: number, v: bigint | boolean): void {
    const b = typeof v === 'boolean' ? (v ? 1n : 0n) : v;
    this.smallVarint(field * 8);
    this.rawVarint(b);
  }

  /** A fixed64 field (OTLP's times); zero is left out. */
  fixed64(field: number, v: bigint): void {
    if (v === 0n) return;
    this.smallVarint(field * 8 + 1);
    this.room(8);
    this.view.setBigUint64(this.len, v, true);
    this.len += 8;
  }

  /** A fixed32 field (OTLP's span flags); zero is left out. */
  fixed32(field: number, v: number): void {
    if (v === 0) return;
    this.smallVarint(field * 8 + 5);
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  bytes(field: number, b: Uint8Array): void {
    this.smallVarint(field * 8 + 2);
    this.smallVarint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(field: number, s: string): void {
    if (s === '') return;
    this.smallVarint(field * 8 + 2);
    this.rawString(s);
  }

  /** Length and UTF-8 bytes, written in place. */
  private rawString(s: string): void {
    const n = utf8Length(s);
    this.smallVarint(n);
    this.utf8(s, n);
  }

  /** `s`, whose UTF-8 length is `n`: short ASCII copied in JS, the rest by Buffer.write. */
  private utf8(s: string, n: number): void {
    this.room(n);
    const buf = this.buf;
    let at = this.len;
    if (n === s.length && n <= 64) {
      for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
      this.len = at;
    } else {
      this.len += buf.write(s, at, n === s.length ? 'latin1' : 'utf8');
    }
  }

  /** A map<string, string> entry, written in place (no writer of its own: meta has many). */
  stringEntry(field: number, k: string, v: string): void {
    const key = keyOf(k);
    const vn = utf8Length(v);
    this.smallVarint(field * 8 + 2);
    this.smallVarint(1 + varintLength(key.length) + key.length + 1 + varintLength(vn) + vn);
    this.smallVarint(0x0a);
    this.rawBytes(key);
    this.smallVarint(0x12);
    this.smallVarint(vn);
    this.utf8(v, vn);
  }

  private rawBytes(b: Buffer): void {
    const n = b.length;
    this.smallVarint(n);
    this.room(n);
    if (n <= 32) {
      const buf = this.buf;
      let at = this.len;
      for (let i = 0; i < n; i++) buf[at++] = b[i]!;
      this.len = at;
    } else {
      b.copy(this.buf, this.len);
      this.len += n;
    }
  }

  /** A map<string, double> entry, written in place. */
  doubleEntry(field: number, k: string, v: number): void {
    const key = keyOf(k);
    this.smallVarint(field * 8 + 2);
    this.smallVarint(1 + varintLength(key.length) + key.length + 1 + 8);
    this.smallVarint(0x0a);
    this.rawBytes(key);
    this.smallVarint(0x11);
    this.room(8);
    this.view.setFloat64(this.len, v, true);
    this.len += 8;
  }

  /** An OTLP KeyValue with a string AnyValue, written in place (spans carry dozens). */
  keyValueString(field: number, k: string, v: string): void {
    const key = keyOf(k);
    const vn = utf8Length(v);
    const any = 1 + varintLength(vn) + vn;
    this.smallVarint(field * 8 + 2);
    this.smallVarint(1 + varintLength(key.length) + key.length + 1 + varintLength(any) + any);
    this.smallVarint(0x0a);
    this.rawBytes(key);
    this.smallVarint(0x12);
    this.smallVarint(any);
    this.smallVarint(0x0a);
    this.smallVarint(vn);
    this.utf8(v, vn);
  }

  /** An OTLP KeyValue with a double AnyValue, written in place. */
  keyValueDouble(field: number, k: string, v: number): void {
    const key = keyOf(k);
    this.smallVarint(field * 8 + 2);
    this.smallVarint(1 + varintLength(key.length) + key.length + 1 + 1 + 9);
    this.smallVarint(0x0a);
    this.rawBytes(key);
    this.smallVarint(0x12);
    this.smallVarint(9);
    this.smallVarint(0x21);
    this.room(8);
    this.view.setFloat64(this.len, v, true);
    this.len += 8;
  }

  /** A nested message, written into a scratch writer (reused, one per depth) and copied once. */
  message(field: number, write: (w: ProtoWriter) => void): void {
    const w = (this.child ??= new ProtoWriter());
    w.len = 0;
    write(w);
    this.bytes(field, w.finish());
  }

  private child: ProtoWriter | undefined;

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
