import type { Span } from '@ecs-trace/protocol';
import type { StatsRow } from '../stats/concentrator.js';

/*
 * The storage contract. The embedded SQLite store implements it today; a distributed store must
 * pass the same conformance suite (conformance.ts) to be a drop-in replacement.
 */

/** Chunks from one payload, after normalization, with what the payload says about its origin. */
export interface WriteBatch {
  chunks: Span[][];
  /** The payload's env (tracer env, else the agent's default env), for spans without `env`. */
  env: string;
  hostname: string;
  containerId: string;
  lang: string;
  tracerVersion: string;
  /** Receive time, ns since the epoch. */
  receivedAt: bigint;
}

/** A span as the query API returns it: ids as hex, times in ns (start as a decimal string). */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentId: string;
  service: string;
  name: string;
  resource: string;
  type: string;
  env: string;
  start: string;
  duration: number;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  metaStruct?: Record<string, string>;
  spanLinks?: unknown[];
  spanEvents?: unknown[];
}

export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootName: string;
  rootResource: string;
  /** ns since the epoch, as a decimal string. */
  start: string;
  /** ns from the first span's start to the last span's end. */
  duration: number;
  spanCount: number;
  errorCount: number;
  services: string[];
  env: string;
  /** No root span (parent 0) has arrived for this trace. */
  incomplete: boolean;
}

export interface StoredTrace {
  summary: TraceSummary;
  spans: StoredSpan[];
}

export interface TraceQuery {
  service?: string;
  env?: string;
  resource?: string;
  error?: boolean;
  name?: string;
  minDurationNs?: number;
  maxDurationNs?: number;
  /** ns since the epoch, inclusive. */
  start?: bigint;
  /** ns since the epoch, exclusive. */
  end?: bigint;
  limit: number;
}

export interface ServiceSummary {
  service: string;
  env: string;
  type: string;
  /** Service entry (top-level) spans: the service's requests. */
  hits: number;
  /** Service entry spans with an error. */
  errors: number;
  /** ns since the epoch, as a decimal string. */
  lastSeen: string;
}

export interface RetentionResult {
  deletedSpans: number;
  reason: 'age' | 'size' | 'none';
}

export interface StoreStats {
  diskBytes: number;
  spans: number;
  payloads: number;
}

export interface StatsQuery {
  service?: string;
  env?: string;
  resource?: string;
  name?: string;
  /** Only groups of service entry (top-level) spans: a service's own requests. */
  topLevel?: boolean;
  /** ns since the epoch, inclusive. */
  start: bigint;
  /** ns since the epoch, exclusive. */
  end: bigint;
}

export interface TraceStore {
  /** Stores a batch atomically: all of it, or (on error) none of it. */
  write(batch: WriteBatch): Promise<void>;
  /** `traceId` is 32 hex characters; traces are matched on their lower 64 bits, as the agent does. */
  getTrace(traceId: string): Promise<StoredTrace | undefined>;
  searchTraces(query: TraceQuery): Promise<TraceSummary[]>;
  services(range: { start?: bigint; end?: bigint }): Promise<ServiceSummary[]>;
  /** Deletes data older than `olderThan` (ns) and, if over `maxBytes`, the oldest data until under it. */
  enforceRetention(olderThan: bigint, maxBytes: number): Promise<RetentionResult>;
  stats(): Promise<StoreStats>;
  /** Stores finished stats buckets (from the concentrator or from tracers). */
  writeStats(rows: StatsRow[]): Promise<void>;
  /** Stats rows whose bucket starts in [start, end), filtered by group fields. */
  queryStats(q: StatsQuery): Promise<StatsRow[]>;
  close(): Promise<void>;
}
