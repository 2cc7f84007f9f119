import { DDSketch } from '@datadog/sketches-js';
import type { Span, TraceChunk } from '@ecs-trace/protocol';

/*
 * What a store keeps and returns, as raw values: ids and times as bigint, spans in the protocol's
 * model. Turning them into the query API's JSON (hex ids, decimal strings) is query/'s job, done
 * once there, so that every backend returns the same records and none formats anything.
 */

/** A trace id in two unsigned 64-bit halves; `high` is 0n for a 64-bit id. */
export interface TraceId {
  high: bigint;
  low: bigint;
}

export interface TraceSummaryRecord {
  traceId: TraceId;
  rootService: string;
  rootName: string;
  rootResource: string;
  /** ns since the epoch. */
  start: bigint;
  /** ns from the first span's start to the last span's end. */
  duration: number;
  spanCount: number;
  errorCount: number;
  services: string[];
  env: string;
  /** No root span (parent 0) has arrived for this trace. */
  incomplete: boolean;
}

/** A stored span with the env it was stored under (its own, else its chunk's, else the payload's). */
export interface SpanRecord {
  span: Span;
  env: string;
}

export interface TraceRecord {
  summary: TraceSummaryRecord;
  /** By start time. */
  spans: SpanRecord[];
}

export interface ServiceRecord {
  service: string;
  env: string;
  type: string;
  /** Service entry (top-level) spans: the service's requests. */
  hits: number;
  /** Service entry spans with an error. */
  errors: number;
  /** ns since the epoch. */
  lastSeen: bigint;
}

/** The key of a stats group, as the Datadog Agent's concentrator keys it. */
export interface GroupKey {
  service: string;
  name: string;
  resource: string;
  type: string;
  env: string;
  version: string;
  httpStatusCode: number;
  spanKind: string;
  isTraceRoot: boolean;
  synthetics: boolean;
  peerTags: string[];
}

/** One group's numbers in one bucket: what the store keeps and the API aggregates. */
export interface StatsRow extends GroupKey {
  /** Bucket start, ns since the epoch. */
  start: bigint;
  durationNs: bigint;
  hits: number;
  topLevelHits: number;
  errors: number;
  /** Sum of durations, ns (weighted). */
  totalDuration: number;
  okSketch: DDSketch;
  errorSketch: DDSketch;
  /** 'agent' (computed here) or 'client' (from /v0.6/stats). */
  source: 'agent' | 'client';
}

/** Relative accuracy of every latency sketch: percentiles within 1%. */
const RELATIVE_ACCURACY = 0.01;

export function newSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
}

/** The chunk's env: the root's, else any span's, else `fallback` (the payload's or the agent's). */
export function chunkEnv(chunk: TraceChunk, root: Span, fallback: string): string {
  if (root.meta['env']) return root.meta['env'];
  for (const s of chunk) if (s.meta['env']) return s.meta['env'];
  return fallback;
}
