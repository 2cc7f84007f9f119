import { decodeV04, encodeV04, MsgpackReader, MsgpackWriter, readIndexedSpan, type Span } from '@ecs-trace/protocol';

/** A span's meta_struct, links and events, as msgpack (a v0.4 span holding only them); undefined when it has none. */
export function spanExtras(s: Span): Uint8Array | undefined {
  if (!s.metaStruct && !s.spanLinks && !s.spanEvents) return undefined;
  const extra: Span = {
    service: '', name: '', resource: '', type: '', traceId: 0n, spanId: 0n, parentId: 0n, start: 0n,
    duration: 0, error: 0, meta: {}, metrics: {},
  };
  if (s.metaStruct) extra.metaStruct = s.metaStruct;
  if (s.spanLinks) extra.spanLinks = s.spanLinks;
  if (s.spanEvents) extra.spanEvents = s.spanEvents;
  return encodeV04([[extra]]);
}

/** Puts back on `span` the extras spanExtras wrote. */
export function withSpanExtras(span: Span, bytes: Uint8Array): void {
  const extra = decodeV04(Buffer.from(bytes))[0]![0]!;
  if (extra.metaStruct) span.metaStruct = extra.metaStruct;
  if (extra.spanLinks) span.spanLinks = extra.spanLinks;
  if (extra.spanEvents) span.spanEvents = extra.spanEvents;
}

/*
 * How a payload's spans are kept on disk: one blob per payload, a string dictionary followed by
 * its chunks. Chunks are v0.5-style arrays of indices into the dictionary, so a service name,
 * a meta key or a process tag repeated across hundreds of spans is stored once (about 6x smaller
 * than v0.4 for dd-trace payloads). Each chunk's byte offset is kept in the chunk index, so one
 * trace is read without decoding the rest of its payload.
 *
 * Span layout: [service, name, resource, trace_id, span_id, parent_id, start, duration, error,
 * meta, metrics, type, extra] where extra is nil or a v0.4 msgpack body holding the span's
 * meta_struct, span_links and span_events (rare, so kept in their wire form).
 */

export interface EncodedSegment {
  blob: Buffer;
  /** Byte offset of each chunk inside the blob, in the order given. */
  offsets: number[];
}

export function encodeSegment(chunks: readonly Span[][]): EncodedSegment {
  const dict: string[] = [''];
  const index = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = dict.length;
      dict.push(s);
      index.set(s, i);
    }
    return i;
  };
  const body = new MsgpackWriter(64 * 1024);
  const offsets: number[] = [];
  for (const chunk of chunks) {
    offsets.push(body.pos);
    body.arrayHeader(chunk.length);
    for (const s of chunk) {
      body.arrayHeader(13);
      body.int(ref(s.service));
      body.int(ref(s.name));
      body.int(ref(s.resource));
      body.uint64(s.traceId);
      body.uint64(s.spanId);
      body.uint64(s.parentId);
      body.uint64(s.start);
      body.int(s.duration);
      body.int(s.error);
      const meta = s.meta;
      body.mapHeader(Object.keys(meta).length);
      for (const k in meta) { body.int(ref(k)); body.int(ref(meta[k]!)); }
      const metrics = s.metrics;
      body.mapHeader(Object.keys(metrics).length);
      for (const k in metrics) { body.int(ref(k)); body.float64(metrics[k]!); }
      body.int(ref(s.type));
      const extra = spanExtras(s);
      if (extra) body.bin(extra);
      else body.nil();
    }
  }
  const head = new MsgpackWriter(16 * 1024);
  head.arrayHeader(dict.length);
  for (const s of dict) head.string(s);
  const headBytes = head.finish();
  const bodyBytes = body.finish();
  return { blob: Buffer.concat([headBytes, bodyBytes]), offsets: offsets.map((o) => o + headBytes.length) };
}

/** The dictionary at the start of a segment blob. */
export function readDictionary(blob: Buffer): string[] {
  const r = new MsgpackReader(blob);
  const n = r.readArrayHeader('dictionary');
  const dict = new Array<string>(n);
  for (let i = 0; i < n; i++) dict[i] = r.readString('dictionary');
  return dict;
}

/** Every chunk of a segment blob, in the order they were written, with its dictionary. */
export function decodeSegment(blob: Buffer): { dict: string[]; chunks: Span[][] } {
  const r = new MsgpackReader(blob);
  const n = r.readArrayHeader('dictionary');
  const dict = new Array<string>(n);
  for (let i = 0; i < n; i++) dict[i] = r.readString('dictionary');
  const chunks: Span[][] = [];
  // Chunks follow the dictionary back to back (encodeSegment).
  for (let at = r.pos; at < blob.length;) {
    const end = { pos: 0 };
    chunks.push(decodeSegmentChunk(blob, dict, at, end));
    at = end.pos;
  }
  return { dict, chunks };
}

/** Decodes the chunk at `offset` of a segment blob; `end.pos` is set to where it ends. */
export function decodeSegmentChunk(blob: Buffer, dict: string[], offset: number, end?: { pos: number }): Span[] {
  const r = new MsgpackReader(blob);
  r.pos = offset;
  const at = (what: string): string => {
    const i = r.readInt53(what);
    const s = dict[i];
    if (s === undefined) r.fail(`stored segment is corrupt: ${what} index ${i} out of range`);
    return s;
  };
  const n = r.readArrayHeader('chunk');
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    r.readArrayHeader('span');
    const span = readIndexedSpan(r, at);
    if (r.isNil()) r.pos++;
    else {
      withSpanExtras(span, r.readBytes('extra'));
    }
    spans.push(span);
  }
  if (end) end.pos = r.pos;
  return spans;
}

/**
 * What a tag-index search looks for in a span: a tag (its meta value, or else its metric's decimal
 * text, equal under `same`, as search compares them), or free text its resource, operation name or
 * error message holds.
 */
export type SegmentMatch = { tag: string; same: (text: string) => boolean } | { text: (text: string) => boolean };

/**
 * The traces (lower 64 bits, signed) with a span in [start, end) that matches, read from a segment
 * blob without building its spans: the tag index's candidates are found by this, a payload at a
 * time. A payload whose dictionary holds no string that could match ends at once (the index's
 * false "maybe"s).
 */
export function segmentTracesMatching(blob: Buffer, m: SegmentMatch, start: bigint, end: bigint, into: Set<bigint>): void {
  const text = 'text' in m;
  const test = text ? m.text : m.same;
  // The meta key whose value is looked at: the tag's, or the error message for free text.
  const key = text ? 'error.message' : m.tag;
  const r = new MsgpackReader(blob);
  const n = r.readArrayHeader('dictionary');
  let keyRef = -1;
  const values = new Set<number>();
  for (let i = 0; i < n; i++) {
    const s = r.readString('dictionary');
    if (s === key) keyRef = i;
    if (test(s)) values.add(i);
  }
  if (text ? values.size === 0 : keyRef < 0) return;
  while (r.pos < blob.length) {
    const spans = r.readArrayHeader('chunk');
    for (let i = 0; i < spans; i++) {
      r.readArrayHeader('span');
      r.readInt53('service');
      const name = r.readInt53('name');
      const resource = r.readInt53('resource');
      let hit = text && (values.has(name) || values.has(resource));
      const traceId = r.readUint64('trace_id');
      r.skip(); r.skip();
      const at = r.readInt64('start');
      r.readInt53('duration'); r.readInt53('error');
      let inMeta = false;
      const nMeta = r.readMapHeader('meta');
      for (let j = 0; j < nMeta; j++) {
        const k = r.readInt53('meta key');
        const v = r.readInt53('meta');
        if (k === keyRef) { inMeta = true; if (values.has(v)) hit = true; }
      }
      const nMetrics = r.readMapHeader('metrics');
      for (let j = 0; j < nMetrics; j++) {
        const k = r.readInt53('metrics key');
        const v = r.readFloat64('metrics');
        // A tag in meta is searched there only (search-query.ts).
        if (!text && k === keyRef && !inMeta && test(String(v))) hit = true;
      }
      r.readInt53('type');
      r.skip();
      if (hit && at >= start && at < end) into.add(BigInt.asIntN(64, traceId));
    }
  }
}
