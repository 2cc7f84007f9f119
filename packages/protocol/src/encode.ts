import { MsgpackWriter } from './msgpack-writer.js';
import type { Span, TraceChunk } from './span.js';

/*
 * Encoders for v0.4 and v0.5, in the shapes dd-trace writes: ids and start as uint64, duration
 * and error as ints, metrics as float64 (never float32, which the agent refuses).
 */

function writeSpanV04(w: MsgpackWriter, s: Span): void {
  let fields = 12;
  if (s.metaStruct) fields++;
  if (s.spanLinks) fields++;
  if (s.spanEvents) fields++;
  w.mapHeader(fields);
  w.string('type'); w.string(s.type);
  w.string('trace_id'); w.uint64(s.traceId);
  w.string('span_id'); w.uint64(s.spanId);
  w.string('parent_id'); w.uint64(s.parentId);
  w.string('name'); w.string(s.name);
  w.string('resource'); w.string(s.resource);
  w.string('service'); w.string(s.service);
  w.string('error'); w.int(s.error);
  w.string('start'); w.int64(s.start);
  w.string('duration'); w.int(s.duration);
  const metaKeys = Object.keys(s.meta);
  w.string('meta'); w.mapHeader(metaKeys.length);
  for (const k of metaKeys) { w.string(k); w.string(s.meta[k]!); }
  const metricKeys = Object.keys(s.metrics);
  w.string('metrics'); w.mapHeader(metricKeys.length);
  for (const k of metricKeys) { w.string(k); w.float64(s.metrics[k]!); }
  if (s.metaStruct) {
    const keys = Object.keys(s.metaStruct);
    w.string('meta_struct'); w.mapHeader(keys.length);
    for (const k of keys) { w.string(k); w.bin(s.metaStruct[k]!); }
  }
  if (s.spanLinks) {
    w.string('span_links'); w.arrayHeader(s.spanLinks.length);
    for (const l of s.spanLinks) {
      const n = 3 + (l.attributes ? 1 : 0) + (l.tracestate !== undefined ? 1 : 0) + (l.flags !== undefined ? 1 : 0);
      w.mapHeader(n);
      w.string('trace_id'); w.uint64(l.traceId);
      w.string('trace_id_high'); w.uint64(l.traceIdHigh);
      w.string('span_id'); w.uint64(l.spanId);
      if (l.attributes) {
        const keys = Object.keys(l.attributes);
        w.string('attributes'); w.mapHeader(keys.length);
        for (const k of keys) { w.string(k); w.string(l.attributes[k]!); }
      }
      if (l.tracestate !== undefined) { w.string('tracestate'); w.string(l.tracestate); }
      if (l.flags !== undefined) { w.string('flags'); w.int(l.flags); }
    }
  }
  if (s.spanEvents) {
    w.string('span_events'); w.arrayHeader(s.spanEvents.length);
    for (const e of s.spanEvents) {
      const attrs = e.attributes ? Object.entries(e.attributes) : undefined;
      w.mapHeader(attrs ? 3 : 2);
      w.string('time_unix_nano'); w.uint64(e.timeUnixNano);
      w.string('name'); w.string(e.name);
      if (attrs) {
        w.string('attributes'); w.mapHeader(attrs.length);
        for (const [k, v] of attrs) { w.string(k); writeAttribute(w, v); }
      }
    }
  }
}

function writeAttribute(w: MsgpackWriter, v: unknown): void {
  w.mapHeader(2);
  w.string('type');
  if (typeof v === 'string') { w.int(0); w.string('string_value'); w.string(v); }
  else if (typeof v === 'boolean') { w.int(1); w.string('bool_value'); w.bool(v); }
  else if (typeof v === 'number' && Number.isInteger(v)) { w.int(2); w.string('int_value'); w.int(v); }
  else if (typeof v === 'number') { w.int(3); w.string('double_value'); w.float64(v); }
  else if (Array.isArray(v)) {
    w.int(4); w.string('array_value'); w.mapHeader(1); w.string('values'); w.arrayHeader(v.length);
    for (const x of v) writeAttribute(w, x);
  } else { w.int(0); w.string('string_value'); w.string(String(v)); }
}

/** Encodes chunks as a v0.4 (or v0.3) msgpack body. */
export function encodeV04(chunks: readonly TraceChunk[]): Buffer {
  const w = new MsgpackWriter();
  w.arrayHeader(chunks.length);
  for (const chunk of chunks) {
    w.arrayHeader(chunk.length);
    for (const span of chunk) writeSpanV04(w, span);
  }
  return w.finish();
}

/** Encodes chunks as a v0.5 body: a string dictionary, then 12-element span arrays. */
export function encodeV05(chunks: readonly TraceChunk[]): Buffer {
  const dict: string[] = [''];
  const index = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) { i = dict.length; dict.push(s); index.set(s, i); }
    return i;
  };
  const body = new MsgpackWriter();
  body.arrayHeader(chunks.length);
  for (const chunk of chunks) {
    body.arrayHeader(chunk.length);
    for (const s of chunk) {
      body.arrayHeader(12);
      body.int(ref(s.service)); body.int(ref(s.name)); body.int(ref(s.resource));
      body.uint64(s.traceId); body.uint64(s.spanId); body.uint64(s.parentId);
      body.int64(s.start); body.int(s.duration); body.int(s.error);
      const metaKeys = Object.keys(s.meta);
      body.mapHeader(metaKeys.length);
      for (const k of metaKeys) { body.int(ref(k)); body.int(ref(s.meta[k]!)); }
      const metricKeys = Object.keys(s.metrics);
      body.mapHeader(metricKeys.length);
      for (const k of metricKeys) { body.int(ref(k)); body.float64(s.metrics[k]!); }
      body.int(ref(s.type));
    }
  }
  const head = new MsgpackWriter();
  head.arrayHeader(2);
  head.arrayHeader(dict.length);
  for (const s of dict) head.string(s);
  return Buffer.concat([head.finish(), body.finish()]);
}
