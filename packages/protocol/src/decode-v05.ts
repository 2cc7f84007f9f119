import { MAX_EXPANSION, MsgpackReader, setOwn } from './msgpack-reader.js';
import type { Span, TraceChunk } from './span.js';

/*
 * v0.5: [dictionary, traces]. Every string is an index into the dictionary and every span is an
 * array of exactly 12 elements; the agent refuses any other shape and so do we.
 */

function lookup(r: MsgpackReader, dict: string[], what: string): string {
  const i = r.readInt53(what);
  if (i < 0 || i >= dict.length) r.fail(`${r.key === undefined ? what : `${what}["${r.key}"]`}: dictionary index ${i} out of range (dictionary has ${dict.length} strings)`);
  return dict[i]!;
}

/**
 * The 12 fields of a v0.5 span after its array header, strings read through `str` (an index into
 * a dictionary). The agent's store reads its segments, which lay spans out the same way, with it.
 * (Calling it through a closure costs nothing measurable: 0-3% against the loop written inline,
 * interleaved in one process.)
 */
export function readIndexedSpan(r: MsgpackReader, str: (what: string) => string): Span {
  const service = str('service');
  const name = str('name');
  const resource = str('resource');
  const traceId = r.readUint64('trace_id');
  const spanId = r.readUint64('span_id');
  const parentId = r.readUint64('parent_id');
  const start = r.readInt64('start');
  const duration = r.readInt53('duration');
  const error = r.readInt32('error');
  const meta: Record<string, string> = {};
  const nMeta = r.readMapHeader('meta');
  for (let i = 0; i < nMeta; i++) {
    const k = str('meta key');
    r.key = k;
    setOwn(meta, k, str('meta'));
  }
  r.key = undefined;
  const metrics: Record<string, number> = {};
  const nMetrics = r.readMapHeader('metrics');
  for (let i = 0; i < nMetrics; i++) {
    const k = str('metrics key');
    r.key = k;
    setOwn(metrics, k, r.readFloat64('metrics'));
  }
  r.key = undefined;
  const type = str('type');
  return { service, name, resource, type, traceId, spanId, parentId, start, duration, error, meta, metrics };
}

export function decodeV05(body: Buffer): TraceChunk[] {
  const r = new MsgpackReader(body, { maxExpansion: MAX_EXPANSION });
  const top = r.readArrayHeader('payload');
  if (top !== 2) r.fail(`payload: expected an array of 2 elements [dictionary, traces], got ${top < 0 ? 'nil' : top}`);
  const nDict = r.readArrayHeader('dictionary');
  const dict: string[] = new Array<string>(Math.max(nDict, 0));
  for (let i = 0; i < nDict; i++) dict[i] = r.readString(`dictionary[${i}]`);
  const str = (what: string) => lookup(r, dict, what);
  const nTraces = r.readArrayHeader('traces');
  const traces: TraceChunk[] = [];
  for (let t = 0; t < nTraces; t++) {
    r.trace = t;
    r.span = -1;
    const nSpans = r.readArrayHeader('trace (an array of spans)');
    const chunk: Span[] = [];
    for (let s = 0; s < nSpans; s++) {
      r.span = s;
      const n = r.readArrayHeader('span');
      if (n !== 12) r.fail(`encoded span needs exactly 12 elements in array, got ${n < 0 ? 'nil' : n}`);
      chunk.push(readIndexedSpan(r, str));
    }
    traces.push(chunk);
  }
  return traces;
}
