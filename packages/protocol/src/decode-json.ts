import { isInteger, parse } from 'lossless-json';
import { PayloadDecodeError } from './errors.js';
import { MAX_DEPTH, MAX_EXPANSION, setOwn } from './msgpack-reader.js';
import type { Span, TraceChunk } from './span.js';

/*
 * JSON bodies (v0.3/v0.4 with a JSON content type): the same keys as msgpack. Ids are parsed
 * exactly (they exceed 2^53), which JSON.parse cannot do.
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MAX = (1n << 63n) - 1n;

function parseNumber(text: string): number | bigint {
  if (isInteger(text)) {
    const v = BigInt(text);
    return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
  }
  return Number(text);
}

function fail(where: string, message: string): never {
  throw new PayloadDecodeError(`${where}: ${message}`);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function uint64(v: unknown, where: string): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) v = BigInt(v);
  if (typeof v !== 'bigint') fail(where, `expected an unsigned integer, got ${kind(v)}`);
  if (v < 0n || v > UINT64_MAX) fail(where, `${v} is not a uint64`);
  return v;
}

function int64(v: unknown, where: string): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v !== 'bigint') fail(where, `expected an integer, got ${kind(v)}`);
  if (v > INT64_MAX || v < -INT64_MAX - 1n) fail(where, `${v} overflows int64`);
  return v;
}

function str(v: unknown, where: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') fail(where, `expected a string, got ${kind(v)}`);
  return v;
}

function toSpan(o: unknown, where: string): Span {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) fail(where, `expected a span object, got ${kind(o)}`);
  const s = o as Record<string, unknown>;
  const meta: Record<string, string> = {};
  if (s['meta'] != null) {
    if (typeof s['meta'] !== 'object' || Array.isArray(s['meta'])) fail(where, `meta: expected an object, got ${kind(s['meta'])}`);
    for (const [k, v] of Object.entries(s['meta'] as object)) setOwn(meta, k, str(v, `${where}: meta["${k}"]`));
  }
  const metrics: Record<string, number> = {};
  if (s['metrics'] != null) {
    if (typeof s['metrics'] !== 'object' || Array.isArray(s['metrics'])) fail(where, `metrics: expected an object, got ${kind(s['metrics'])}`);
    for (const [k, v] of Object.entries(s['metrics'] as object)) {
      if (typeof v !== 'number' && typeof v !== 'bigint') fail(where, `metrics["${k}"]: expected a number, got ${kind(v)}`);
      setOwn(metrics, k, Number(v));
    }
  }
  const duration = int64(s['duration'], `${where}: duration`);
  const error = int64(s['error'], `${where}: error`);
  if (error > 0x7fffffffn || error < -0x80000000n) fail(where, `error: ${error} overflows int32`);
  return {
    service: str(s['service'], `${where}: service`),
    name: str(s['name'], `${where}: name`),
    resource: str(s['resource'], `${where}: resource`),
    type: str(s['type'], `${where}: type`),
    traceId: uint64(s['trace_id'], `${where}: trace_id`),
    spanId: uint64(s['span_id'], `${where}: span_id`),
    parentId: uint64(s['parent_id'], `${where}: parent_id`),
    start: int64(s['start'], `${where}: start`),
    duration: Number(duration),
    error: Number(error),
    meta,
    metrics,
  };
}

const CONTAINER_COST = 64;
const ENTRY_COST = 32;

/**
 * Refuses, in one pass over the bytes and before anything is built, a body nested deeper than
 * MAX_DEPTH or whose objects and entries would cost more than MAX_EXPANSION times its size once
 * parsed (`[[{},{},...]]`: 32x), as the msgpack reader refuses the same shapes.
 */
export function checkJsonShape(body: Buffer): void {
  let depth = 0;
  let cost = 0;
  const budget = body.length * MAX_EXPANSION + 64 * 1024;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === 0x22) {
      // Skip the string, escapes included.
      for (i++; i < body.length && body[i] !== 0x22; i++) if (body[i] === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) fail('payload', `nested more than ${MAX_DEPTH} deep at offset ${i}`);
      cost += CONTAINER_COST;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c || c === 0x3a) cost += ENTRY_COST;
    if (cost > budget) fail('payload', `${body.length} bytes would take more than ${MAX_EXPANSION} times their size in memory when parsed (too many values for its size)`);
  }
}

/** Decodes a JSON v0.3/v0.4 body: `[[span, ...], ...]`. */
export function decodeJsonTraces(body: Buffer): TraceChunk[] {
  checkJsonShape(body);
  let doc: unknown;
  try {
    doc = parse(body.toString('utf8'), null, parseNumber);
  } catch (err) {
    throw new PayloadDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  if (doc === null) return [];
  if (!Array.isArray(doc)) fail('payload', `expected an array of traces, got ${kind(doc)}`);
  return doc.map((trace: unknown, t: number) => {
    if (trace === null) return [];
    if (!Array.isArray(trace)) fail(`trace ${t}`, `expected an array of spans, got ${kind(trace)}`);
    const chunk: Span[] = [];
    trace.forEach((span: unknown, i: number) => {
      if (span !== null) chunk.push(toSpan(span, `trace ${t}, span ${i}`));
    });
    return chunk;
  });
}
