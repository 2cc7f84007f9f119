import { PayloadDecodeError } from '../errors.js';
import { MAX_DEPTH, MAX_EXPANSION } from '../msgpack-reader.js';
import type { OtlpAttribute, OtlpEvent, OtlpLink, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpTraceRequest, OtlpValue } from './model.js';

/*
 * ExportTraceServiceRequest from protobuf, read straight from the wire into the plain model, with
 * the field numbers of opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1).
 * By hand rather than through a generated decoder so that, as for msgpack, every object made is
 * charged against MAX_EXPANSION times the payload's size: a request of empty spans (2 bytes each)
 * is refused before it fills memory. Unknown fields are skipped, as protobuf requires.
 */

const OBJECT_COST = 64;
/**
 * What a decoded span takes beyond OBJECT_COST and its strings: the object, its arrays and id
 * views. Measured: a minimal span (ids, name, kind, times: 56 bytes on the wire) takes 680 bytes
 * of heap, so it passes the 16x bound, while empty spans (2 bytes each) are refused.
 */
const SPAN_COST = 600;

/** What every reader of one request shares: the bytes, one view of them, the memory budget. */
interface Shared {
  buf: Buffer;
  view: DataView;
  budget: number;
}

/**
 * One reader for the whole request: a nested message narrows `end` while it is read and widens it
 * again after (no reader object per message: they were most of the garbage). `path` names the
 * messages it is in, for errors.
 */
class Wire {
  pos = 0;
  private readonly path: string[] = ['request'];
  constructor(private readonly ctx: Shared, public end: number) {}
  get depth(): number {
    return this.path.length - 1;
  }
  /** Where this reader is, e.g. `request.resourceSpans[0].scopeSpans[1]`. */
  private where(): string {
    return this.path.join('.');
  }
  fail(message: string): never {
    throw new PayloadDecodeError(`${this.where()}: ${message}`);
  }
  more(): boolean { return this.pos < this.end; }
  charge(bytes: number): void {
    this.ctx.budget -= bytes;
    if (this.ctx.budget < 0) this.fail(`would take more than ${MAX_EXPANSION} times the payload's size in memory (too many values for its size)`);
  }
  /** An id's bytes: empty, or exactly `size` of them (the Collector refuses any other length). */
  id(size: number, field: string): Uint8Array {
    const b = this.bytes();
    if (b.length !== 0 && b.length !== size) this.fail(`${field} is ${b.length} bytes; an id is ${size} bytes (or empty)`);
    return b;
  }
  varint(): bigint {
    // Most varints fit 7 bytes: read them as a number, and only longer ones as a bigint.
    const start = this.pos;
    const small = this.small53();
    if (small !== undefined) return BigInt(small);
    this.pos = start;
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.ctx.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
      if (shift > 63n) this.fail('varint longer than 10 bytes');
    }
  }
  private small53(): number | undefined {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.ctx.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return undefined;
  }
  /** A varint small enough for a number (tags, lengths, enums). */
  small(): number {
    let result = 0;
    let mul = 1;
    const buf = this.ctx.buf;
    for (;;) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
      if (mul > 2 ** 49) this.fail('length or tag too large');
    }
  }
  fixed64(): bigint {
    if (this.pos + 8 > this.end) this.fail('truncated fixed64');
    const v = this.ctx.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  double(): number {
    if (this.pos + 8 > this.end) this.fail('truncated double');
    const v = this.ctx.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  private span(): [number, number] {
    const len = this.small();
    const start = this.pos;
    if (start + len > this.end) this.fail('truncated length-delimited field');
    this.pos += len;
    return [start, start + len];
  }
  bytes(): Uint8Array {
    const [from, to] = this.span();
    return this.ctx.buf.subarray(from, to);
  }
  string(): string {
    const [from, to] = this.span();
    this.charge((to - from) * 2);
    return this.ctx.buf.toString('utf8', from, to);
  }
  /** A nested message, read by `read` within its own bytes. */
  message<T>(name: string, read: (w: Wire) => T): T {
    const len = this.small();
    if (this.pos + len > this.end) this.fail(`truncated ${name}`);
    if (this.depth + 1 > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} deep`);
    this.charge(OBJECT_COST);
    const outer = this.end;
    this.end = this.pos + len;
    this.path.push(name);
    const v = read(this);
    if (this.pos !== this.end) this.fail('a field runs past the end of its message');
    this.path.pop();
    this.end = outer;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) { const len = this.small(); this.pos += len; } // the length first: `pos +=` would read pos before it
    else if (wire === 5) this.pos += 4;
    else this.fail(`unknown wire type ${wire}`);
    if (this.pos > this.end) this.fail('truncated field');
  }
  /** Calls `field(number, wireType)` for each field until the message ends. */
  fields(field: (n: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const tag = this.small();
      const n = tag >>> 3;
      const wire = tag & 7;
      if (!field(n, wire)) this.skip(wire);
    }
  }
}

const int64 = (v: bigint) => BigInt.asIntN(64, v);

function anyValue(w: Wire): OtlpValue {
  let v: OtlpValue = { empty: true };
  w.fields((n, wire) => {
    if (n === 1 && wire === 2) v = { string: w.string() };
    else if (n === 2 && wire === 0) v = { bool: w.varint() !== 0n };
    else if (n === 3 && wire === 0) v = { int: int64(w.varint()) };
    else if (n === 4 && wire === 1) v = { double: w.double() };
    else if (n === 5 && wire === 2) v = { array: w.message('array', (a) => { const out: OtlpValue[] = []; a.fields((m, aw) => { if (m === 1 && aw === 2) { out.push(a.message('value', anyValue)); return true; } return false; }); return out; }) };
    else if (n === 6 && wire === 2) v = { kvlist: w.message('kvlist', (a) => { const out: OtlpAttribute[] = []; a.fields((m, aw) => { if (m === 1 && aw === 2) { out.push(a.message('kv', keyValue)); return true; } return false; }); return out; }) };
    else if (n === 7 && wire === 2) { const b = w.bytes(); w.charge(b.length); v = { bytes: b }; }
    else return false;
    return true;
  });
  return v;
}

function keyValue(w: Wire): OtlpAttribute {
  let key = '';
  let value: OtlpValue = { empty: true };
  w.fields((n, wire) => {
    if (n === 1 && wire === 2) key = w.string();
    else if (n === 2 && wire === 2) value = w.message('value', anyValue);
    else return false;
    return true;
  });
  return { key, value };
}

function event(w: Wire): OtlpEvent {
  const e: OtlpEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  w.fields((n, wire) => {
    if (n === 1 && wire === 1) e.timeUnixNano = w.fixed64();
    else if (n === 2 && wire === 2) e.name = w.string();
    else if (n === 3 && wire === 2) e.attributes.push(w.message('attributes', keyValue));
    else if (n === 4 && wire === 0) e.droppedAttributesCount = Number(w.varint() & 0xffffffffn);
    else return false;
    return true;
  });
  return e;
}

function link(w: Wire): OtlpLink {
  const l: OtlpLink = { traceId: new Uint8Array(0), spanId: new Uint8Array(0), traceState: '', attributes: [], droppedAttributesCount: 0 };
  w.fields((n, wire) => {
    if (n === 1 && wire === 2) l.traceId = w.id(16, 'traceId');
    else if (n === 2 && wire === 2) l.spanId = w.id(8, 'spanId');
    else if (n === 3 && wire === 2) l.traceState = w.string();
    else if (n === 4 && wire === 2) l.attributes.push(w.message('attributes', keyValue));
    else if (n === 5 && wire === 0) l.droppedAttributesCount = Number(w.varint() & 0xffffffffn);
    else return false;
    return true;
  });
  return l;
}

function span(w: Wire): OtlpSpan {
  w.charge(SPAN_COST);
  const s: OtlpSpan = {
    traceId: new Uint8Array(0), spanId: new Uint8Array(0), traceState: '', parentSpanId: new Uint8Array(0), name: '', kind: 0,
    startTimeUnixNano: 0n, endTimeUnixNano: 0n, attributes: [], events: [], links: [], statusCode: 0, statusMessage: '',
  };
  w.fields((n, wire) => {
    if (n === 1 && wire === 2) s.traceId = w.id(16, 'traceId');
    else if (n === 2 && wire === 2) s.spanId = w.id(8, 'spanId');
    else if (n === 3 && wire === 2) s.traceState = w.string();
    else if (n === 4 && wire === 2) s.parentSpanId = w.id(8, 'parentSpanId');
    else if (n === 5 && wire === 2) s.name = w.string();
    else if (n === 6 && wire === 0) s.kind = Number(w.varint() & 0xffffffffn);
    else if (n === 7 && wire === 1) s.startTimeUnixNano = w.fixed64();
    else if (n === 8 && wire === 1) s.endTimeUnixNano = w.fixed64();
    else if (n === 9 && wire === 2) s.attributes.push(w.message('attributes', keyValue));
    else if (n === 11 && wire === 2) s.events.push(w.message('events', event));
    else if (n === 13 && wire === 2) s.links.push(w.message('links', link));
    else if (n === 15 && wire === 2) {
      w.message('status', (st) => st.fields((m, sw) => {
        if (m === 2 && sw === 2) s.statusMessage = st.string();
        else if (m === 3 && sw === 0) s.statusCode = Number(st.varint() & 0xffffffffn);
        else return false;
        return true;
      }));
    } else return false;
    return true;
  });
  return s;
}

function scopeSpans(w: Wire): OtlpScopeSpans {
  const ss: OtlpScopeSpans = { scopeName: '', scopeVersion: '', scopeAttributes: [], spans: [] };
  w.fields((n, wire) => {
    if (n === 1 && wire === 2) {
      w.message('scope', (sc) => sc.fields((m, sw) => {
        if (m === 1 && sw === 2) ss.scopeName = sc.string();
        else if (m === 2 && sw === 2) ss.scopeVersion = sc.string();
        else if (m === 3 && sw === 2) ss.scopeAttributes.push(sc.message('attributes', keyValue));
        else return false;
        return true;
      }));
    } else if (n === 2 && wire === 2) ss.spans.push(w.message(`spans[${ss.spans.length}]`, span));
    else return false;
    return true;
  });
  return ss;
}

function resourceSpans(w: Wire): OtlpResourceSpans {
  const rs: OtlpResourceSpans = { resourceAttributes: [], scopeSpans: [] };
  w.fields((n, wire) => {
    if (n === 1 && wire === 2) {
      w.message('resource', (r) => r.fields((m, rw) => {
        if (m === 1 && rw === 2) { rs.resourceAttributes.push(r.message('attributes', keyValue)); return true; }
        return false;
      }));
    } else if (n === 2 && wire === 2) rs.scopeSpans.push(w.message(`scopeSpans[${rs.scopeSpans.length}]`, scopeSpans));
    else return false;
    return true;
  });
  return rs;
}

/** Decodes an OTLP/protobuf ExportTraceServiceRequest; PayloadDecodeError names where it stopped. */
export function decodeOtlpProtobuf(body: Uint8Array): OtlpTraceRequest {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const ctx: Shared = { buf, view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), budget: body.length * MAX_EXPANSION + 64 * 1024 };
  const w = new Wire(ctx, body.length);
  const req: OtlpTraceRequest = { resourceSpans: [] };
  w.fields((n, wire) => {
    if (n === 1 && wire === 2) {
      req.resourceSpans.push(w.message(`resourceSpans[${req.resourceSpans.length}]`, resourceSpans));
      return true;
    }
    return false;
  });
  return req;
}
