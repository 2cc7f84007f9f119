import { MAX_EXPANSION, MsgpackReader, setOwn } from './msgpack-reader.js';
import type { AttributeValue, Span, SpanEvent, SpanLink, TraceChunk } from './span.js';

/*
 * v0.3 and v0.4 msgpack: an array of traces, each an array of span maps. Tolerance follows the
 * agent's decoder: nil for any field is its zero value, unknown keys are skipped, strings may be
 * str or bin, ids may be signed, nil spans are dropped.
 */

const enum F {
  Unknown, Service, Name, Resource, Type, TraceId, SpanId, ParentId, Start, Duration, Error,
  Meta, Metrics, MetaStruct, SpanLinks, SpanEvents,
}

const KEYS: [string, F][] = [
  ['service', F.Service], ['name', F.Name], ['resource', F.Resource], ['type', F.Type],
  ['trace_id', F.TraceId], ['span_id', F.SpanId], ['parent_id', F.ParentId], ['start', F.Start],
  ['duration', F.Duration], ['error', F.Error], ['meta', F.Meta], ['metrics', F.Metrics],
  ['meta_struct', F.MetaStruct], ['span_links', F.SpanLinks], ['span_events', F.SpanEvents],
];
/** Keys grouped by byte length, so a key is matched without creating a string. */
const BY_LENGTH: { bytes: Buffer; field: F }[][] = [];
for (const [k, f] of KEYS) (BY_LENGTH[k.length] ??= []).push({ bytes: Buffer.from(k), field: f });

function readKey(r: MsgpackReader): F {
  const n = r.readStringHeader();
  if (n < 0) {
    // A non-string key: skip it (and let the caller skip its value).
    if (n === -2) r.skip();
    return F.Unknown;
  }
  const start = r.pos;
  r.pos += n;
  const candidates = BY_LENGTH[n];
  if (candidates === undefined) return F.Unknown;
  const buf = r.buf;
  for (let c = 0; c < candidates.length; c++) {
    const k = candidates[c]!;
    const kb = k.bytes;
    let i = 0;
    while (i < n && kb[i] === buf[start + i]) i++;
    if (i === n) return k.field;
  }
  return F.Unknown;
}

function readMeta(r: MsgpackReader): Record<string, string> {
  const meta: Record<string, string> = {};
  const n = r.readMapHeader('meta');
  for (let i = 0; i < n; i++) {
    const k = r.readString('meta key');
    r.key = k;
    setOwn(meta, k, r.readString('meta'));
  }
  r.key = undefined;
  return meta;
}

function readMetrics(r: MsgpackReader): Record<string, number> {
  const metrics: Record<string, number> = {};
  const n = r.readMapHeader('metrics');
  for (let i = 0; i < n; i++) {
    const k = r.readString('metrics key');
    r.key = k;
    setOwn(metrics, k, r.readFloat64('metrics'));
  }
  r.key = undefined;
  return metrics;
}

function readMetaStruct(r: MsgpackReader): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const n = r.readMapHeader('meta_struct');
  for (let i = 0; i < n; i++) {
    const k = r.readString('meta_struct key');
    setOwn(out, k, r.readBytes(`meta_struct["${k}"]`));
  }
  return out;
}

function readSpanLinks(r: MsgpackReader): SpanLink[] {
  const n = r.readArrayHeader('span_links');
  const links: SpanLink[] = [];
  for (let i = 0; i < n; i++) {
    const m = r.readMapHeader(`span_links[${i}]`);
    const link: SpanLink = { traceId: 0n, traceIdHigh: 0n, spanId: 0n };
    for (let j = 0; j < m; j++) {
      const k = r.readString('span_links key');
      const what = `span_links[${i}].${k}`;
      switch (k) {
        case 'trace_id': link.traceId = r.readUint64(what); break;
        case 'trace_id_high': link.traceIdHigh = r.readUint64(what); break;
        case 'span_id': link.spanId = r.readUint64(what); break;
        case 'tracestate': link.tracestate = r.readString(what); break;
        case 'flags': link.flags = r.readInt53(what) >>> 0; break;
        case 'attributes': {
          const a: Record<string, string> = {};
          const na = r.readMapHeader(what);
          for (let x = 0; x < na; x++) {
            const ak = r.readString(what);
            setOwn(a, ak, r.readString(`${what}["${ak}"]`));
          }
          link.attributes = a;
          break;
        }
        default: r.skip();
      }
    }
    links.push(link);
  }
  return links;
}

function toAttributeValue(v: unknown): AttributeValue | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return undefined;
  const o = v as Record<string, unknown>;
  switch (o['type']) {
    case 0: return typeof o['string_value'] === 'string' ? o['string_value'] : '';
    case 1: return o['bool_value'] === true;
    case 2: return typeof o['int_value'] === 'bigint' ? Number(o['int_value']) : Number(o['int_value'] ?? 0);
    case 3: return Number(o['double_value'] ?? 0);
    case 4: {
      const arr = (o['array_value'] as { values?: unknown[] } | undefined)?.values ?? [];
      return arr.map(toAttributeValue).filter((x): x is AttributeValue => x !== undefined);
    }
    default: return undefined;
  }
}

function readSpanEvents(r: MsgpackReader): SpanEvent[] {
  const n = r.readArrayHeader('span_events');
  const events: SpanEvent[] = [];
  for (let i = 0; i < n; i++) {
    const m = r.readMapHeader(`span_events[${i}]`);
    const ev: SpanEvent = { timeUnixNano: 0n, name: '' };
    for (let j = 0; j < m; j++) {
      const k = r.readString('span_events key');
      const what = `span_events[${i}].${k}`;
      if (k === 'time_unix_nano') ev.timeUnixNano = r.readUint64(what);
      else if (k === 'name') ev.name = r.readString(what);
      else if (k === 'attributes') {
        const raw = r.readAny();
        if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
          const attrs: Record<string, AttributeValue> = {};
          for (const [ak, av] of Object.entries(raw as Record<string, unknown>)) {
            const v = toAttributeValue(av);
            if (v !== undefined) setOwn(attrs, ak, v);
          }
          ev.attributes = attrs;
        }
      } else r.skip();
    }
    events.push(ev);
  }
  return events;
}

function readSpan(r: MsgpackReader): Span {
  const span: Span = {
    service: '', name: '', resource: '', type: '',
    traceId: 0n, spanId: 0n, parentId: 0n, start: 0n, duration: 0, error: 0,
    meta: {}, metrics: {},
  };
  const n = r.readMapHeader('span');
  for (let i = 0; i < n; i++) {
    const f = readKey(r);
    switch (f) {
      case F.Service: span.service = r.readString('service'); break;
      case F.Name: span.name = r.readString('name'); break;
      case F.Resource: span.resource = r.readString('resource'); break;
      case F.Type: span.type = r.readString('type'); break;
      case F.TraceId: span.traceId = r.readUint64('trace_id'); break;
      case F.SpanId: span.spanId = r.readUint64('span_id'); break;
      case F.ParentId: span.parentId = r.readUint64('parent_id'); break;
      case F.Start: span.start = r.readInt64('start'); break;
      case F.Duration: span.duration = r.readInt53('duration'); break;
      case F.Error: span.error = r.readInt32('error'); break;
      case F.Meta: span.meta = readMeta(r); break;
      case F.Metrics: span.metrics = readMetrics(r); break;
      case F.MetaStruct: span.metaStruct = readMetaStruct(r); break;
      case F.SpanLinks: span.spanLinks = readSpanLinks(r); break;
      case F.SpanEvents: span.spanEvents = readSpanEvents(r); break;
      default: r.skip();
    }
  }
  return span;
}

/** Decodes a v0.3/v0.4 msgpack body. Throws PayloadDecodeError with the place and the reason. */
export function decodeV04(body: Buffer): TraceChunk[] {
  const r = new MsgpackReader(body, { maxExpansion: MAX_EXPANSION });
  const nTraces = r.readArrayHeader('payload (an array of traces)');
  const traces: TraceChunk[] = [];
  for (let t = 0; t < nTraces; t++) {
    r.trace = t;
    r.span = -1;
    const nSpans = r.readArrayHeader('trace (an array of spans)');
    const chunk: Span[] = [];
    for (let s = 0; s < nSpans; s++) {
      r.span = s;
      if (r.isNil()) { r.pos++; continue; }
      chunk.push(readSpan(r));
    }
    traces.push(chunk);
  }
  return traces;
}
