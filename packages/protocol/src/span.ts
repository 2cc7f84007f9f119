/**
 * The span model shared by the agent, the tracer and the tests. Field names follow the agent's
 * protobuf `Span` (camel-cased); 64-bit ids and the start time are bigint because tracers send
 * values above 2^53 routinely.
 */
export interface Span {
  service: string;
  name: string;
  resource: string;
  type: string;
  /** Lower 64 bits of the trace id; the upper 64 travel as `meta["_dd.p.tid"]`. */
  traceId: bigint;
  spanId: bigint;
  /** 0n for a root span. */
  parentId: bigint;
  /** Nanoseconds since the Unix epoch (int64). */
  start: bigint;
  /** Nanoseconds. */
  duration: number;
  /** 0 or 1 (any non-zero value counts as an error). */
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  /** Values are msgpack-encoded objects (AppSec, IAST, LLM Observability). */
  metaStruct?: Record<string, Uint8Array>;
  spanLinks?: SpanLink[];
  spanEvents?: SpanEvent[];
}

export interface SpanLink {
  traceId: bigint;
  traceIdHigh: bigint;
  spanId: bigint;
  attributes?: Record<string, string>;
  tracestate?: string;
  flags?: number;
}

export type AttributeValue = string | boolean | number | AttributeValue[];

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes?: Record<string, AttributeValue>;
}

/** One trace chunk as sent by a tracer: the spans of one trace that were flushed together. */
export type TraceChunk = Span[];

/** The wire versions of the trace intake. */
export type TraceApiVersion = 'v0.3' | 'v0.4' | 'v0.5';

/** Creates a span with every field at its zero value, as the agent's decoder does for absent keys. */
export function emptySpan(): Span {
  return {
    service: '',
    name: '',
    resource: '',
    type: '',
    traceId: 0n,
    spanId: 0n,
    parentId: 0n,
    start: 0n,
    duration: 0,
    error: 0,
    meta: {},
    metrics: {},
  };
}
