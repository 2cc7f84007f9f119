/** A growable msgpack writer for the few shapes trace payloads need. */
export class MsgpackWriter {
  private buf: Buffer;
  /** 64-bit values go through a DataView: Buffer's writeBig*64 are ~10x slower (bench/README.md, "Span cost"). */
  private view: DataView;
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) { this.buf[this.pos++] = 0xdc; this.buf.writeUInt16BE(n, this.pos); this.pos += 2; }
    else { this.buf[this.pos++] = 0xdd; this.buf.writeUInt32BE(n, this.pos); this.pos += 4; }
  }

  mapHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x80 | n;
    else if (n < 0x10000) { this.buf[this.pos++] = 0xde; this.buf.writeUInt16BE(n, this.pos); this.pos += 2; }
    else { this.buf[this.pos++] = 0xdf; this.buf.writeUInt32BE(n, this.pos); this.pos += 4; }
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  string(s: string): void {
    // Short ASCII strings (keys, names, most values) byte by byte: cheaper than a utf8 write call.
    const len = s.length;
    if (len < 32) {
      this.ensure(len + 1);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[start + i] = c;
      }
      if (i === len) {
        buf[this.pos] = 0xa0 | len;
        this.pos = start + len;
        return;
      }
    }
    const max = s.length * 3;
    this.ensure(max + 5);
    // Reserve the largest header the string can need, then shift if a smaller one fits.
    const headerAt = this.pos;
    const headerSize = max < 32 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    const n = this.buf.write(s, headerAt + headerSize, 'utf8');
    const actual = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if (actual !== headerSize) this.buf.copy(this.buf, headerAt + actual, headerAt + headerSize, headerAt + headerSize + n);
    if (actual === 1) this.buf[headerAt] = 0xa0 | n;
    else if (actual === 2) { this.buf[headerAt] = 0xd9; this.buf[headerAt + 1] = n; }
    else if (actual === 3) { this.buf[headerAt] = 0xda; this.buf.writeUInt16BE(n, headerAt + 1); }
    else { this.buf[headerAt] = 0xdb; this.buf.writeUInt32BE(n, headerAt + 1); }
    this.pos = headerAt + actual + n;
  }

  bin(b: Uint8Array): void {
    this.ensure(b.length + 5);
    if (b.length < 0x100) { this.buf[this.pos++] = 0xc4; this.buf[this.pos++] = b.length; }
    else if (b.length < 0x10000) { this.buf[this.pos++] = 0xc5; this.buf.writeUInt16BE(b.length, this.pos); this.pos += 2; }
    else { this.buf[this.pos++] = 0xc6; this.buf.writeUInt32BE(b.length, this.pos); this.pos += 4; }
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Unsigned 64-bit integer, always as uint64 (what tracers send for ids and start). */
  uint64(v: bigint): void {
    this.ensure(9);
    this.buf[this.pos++] = 0xcf;
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }

  /** Signed 64-bit integer (start): as uint64 when at least 0, as dd-trace sends it, else as int64. */
  int64(v: bigint): void {
    if (v >= 0n) return this.uint64(v);
    this.ensure(9);
    this.buf[this.pos++] = 0xd3;
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  /** A safe integer in its smallest encoding. */
  int(v: number): void {
    this.ensure(9);
    if (v >= 0) {
      if (v < 0x80) this.buf[this.pos++] = v;
      else if (v < 0x100) { this.buf[this.pos++] = 0xcc; this.buf[this.pos++] = v; }
      else if (v < 0x10000) { this.buf[this.pos++] = 0xcd; this.buf.writeUInt16BE(v, this.pos); this.pos += 2; }
      else if (v < 0x100000000) { this.buf[this.pos++] = 0xce; this.buf.writeUInt32BE(v, this.pos); this.pos += 4; }
      else { this.buf[this.pos++] = 0xcf; this.view.setBigUint64(this.pos, BigInt(v)); this.pos += 8; }
    } else if (v >= -32) this.buf[this.pos++] = 0x100 + v;
    else if (v >= -0x80000000) { this.buf[this.pos++] = 0xd2; this.buf.writeInt32BE(v, this.pos); this.pos += 4; }
    else { this.buf[this.pos++] = 0xd3; this.view.setBigInt64(this.pos, BigInt(v)); this.pos += 8; }
  }

  float64(v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 0xc3 : 0xc2;
  }
}
