import { DDSketch } from '@datadog/sketches-js';
import { decodeSketch, encodeSketch } from './sketch-codec.js';
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

/**
 * A service's entry spans of one operation and version over a time range: what the services
 * list is made of. Summed from the 10-s stats rows whose spans were top-level, through a rollup
 * of 10-minute slots, so a day of a cluster's stats is read in a few hundred rows.
 */
export interface ServiceStatsRow {
  service: string;
  env: string;
  name: string;
  version: string;
  type: string;
  topLevelHits: number;
  hits: number;
  errors: number;
  totalDuration: number;
  okSketch: DDSketch;
  errorSketch: DDSketch;
  /** End of the last bucket with such spans, ns since the epoch. */
  lastSeen: bigint;
  /** Start of the first bucket (or rollup slot: to its width) with such spans, ns since the epoch. */
  firstSeen: bigint;
}

export const serviceStatsKey = (r: { service: string; env: string; name: string; version: string }) => `${r.service}\u0000${r.env}\u0000${r.name}\u0000${r.version}`;

/** Adds `b` into `a` (sums, merged sketches, the later lastSeen, the earlier firstSeen). */
export function addServiceStats(a: ServiceStatsRow, b: ServiceStatsRow): void {
  a.topLevelHits += b.topLevelHits;
  a.hits += b.hits;
  a.errors += b.errors;
  a.totalDuration += b.totalDuration;
  if (b.okSketch.count > 0) a.okSketch.merge(b.okSketch);
  if (b.errorSketch.count > 0) a.errorSketch.merge(b.errorSketch);
  if (b.lastSeen > a.lastSeen) a.lastSeen = b.lastSeen;
  if (b.firstSeen < a.firstSeen) a.firstSeen = b.firstSeen;
  a.type ||= b.type;
}

/** Merges rows by service, env, operation and version. */
export function mergeServiceStats(rows: Iterable<ServiceStatsRow>): ServiceStatsRow[] {
  const out = new Map<string, ServiceStatsRow>();
  for (const r of rows) {
    const k = serviceStatsKey(r);
    const have = out.get(k);
    // The rows are fresh from decoding: the first of each key takes the others in.
    if (have) addServiceStats(have, r);
    else out.set(k, r);
  }
  return [...out.values()];
}

/** A rollup slot row's first request: its own column, or (rows written before it was kept) the slot's start. */
export const slotFirstSeen = (r: Record<string, unknown>): bigint => (r['first_seen'] ?? r['slot']) as bigint;

/** A ServiceStatsRow from a SQL row of the stats table's column names (any backend). */
export function serviceStatsFromColumns(r: Record<string, unknown>, lastSeen: bigint, firstSeen: bigint): ServiceStatsRow {
  return {
    service: r['service'] as string, env: r['env'] as string, name: r['name'] as string, version: r['version'] as string, type: r['type'] as string,
    topLevelHits: Number(r['top_level_hits']), hits: Number(r['hits']), errors: Number(r['errors']), totalDuration: Number(r['total_duration']),
    okSketch: decodeSketch(r['ok_sketch'] as Uint8Array), errorSketch: decodeSketch(r['error_sketch'] as Uint8Array), lastSeen, firstSeen,
  };
}

/** Rows with their sketches as protobuf bytes: plain data, to cross to another thread or into the spool. */
export type WithEncodedSketches<T extends { okSketch: DDSketch; errorSketch: DDSketch }> = Omit<T, 'okSketch' | 'errorSketch'> & { okSketch: Uint8Array; errorSketch: Uint8Array };

export function encodeSketches<T extends { okSketch: DDSketch; errorSketch: DDSketch }>(rows: T[]): WithEncodedSketches<T>[] {
  return rows.map((r) => ({ ...r, okSketch: encodeSketch(r.okSketch), errorSketch: encodeSketch(r.errorSketch) }));
}

export function decodeSketches<T extends { okSketch: DDSketch; errorSketch: DDSketch }>(rows: WithEncodedSketches<T>[]): T[] {
  return rows.map((r) => ({ ...r, okSketch: decodeSketch(r.okSketch), errorSketch: decodeSketch(r.errorSketch) }) as unknown as T);
}

export { newSketch } from './sketch-codec.js';

/** The chunk's env: the root's, else any span's, else `fallback` (the payload's or the agent's). */
export function chunkEnv(chunk: TraceChunk, root: Span, fallback: string): string {
  if (root.meta['env']) return root.meta['env'];
  for (const s of chunk) if (s.meta['env']) return s.meta['env'];
  return fallback;
}
