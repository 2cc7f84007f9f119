import type { DatadogTracerPayload } from '@ecs-trace/protocol';
import type { Half, RollupData, RollupKind, RollupRow } from './trace-rollup.js';

/** A row read from the rollups: merged over the range, or one slot's (`slot`). */
export interface RollupRead {
  key: string;
  data: RollupData;
  slot?: bigint;
}
import type { ServiceStatsRow, StatsRow, TraceId, TraceRecord, TraceSummaryRecord } from './records.js';

/*
 * The storage contract. The embedded SQLite store implements it today; a distributed store must
 * pass the same conformance suite (conformance.ts) to be a drop-in replacement.
 */

/** Chunks from one payload, after normalization, with what the payload says about its origin. */
export interface WriteBatch extends DatadogTracerPayload {
  /** Receive time, ns since the epoch. */
  receivedAt: bigint;
  /**
   * The service map's calls and error tracking's occurrences are counted before sampling, over
   * every chunk kept (as the stats are), so that an edge's calls and a node's requests agree. The
   * chunks stored are counted by the store; `sampledOut` is what the chunks sampled out add (and
   * those kept as single spans, counted whole), and `counted`, when set, how many of `chunks`, from
   * the first, the store counts (the rest are single spans, counted in `sampledOut`). A batch may
   * hold `sampledOut` alone: a store then writes the counts and no payload.
   */
  sampledOut?: { rows: RollupRow[]; halves: Half[] };
  counted?: number;
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
  /**
   * Traces with a span that carries this tag (its meta value, or else its metric's decimal text,
   * equal ignoring case) and starts in [start, end), found by the tag index. With it, no other
   * condition applies: the caller checks the rest on each trace. Only for tags the index holds
   * (`indexedTag`); with key `*text` (TEXT_KEY), free text: a span whose resource, operation name
   * or error message holds the value, ignoring case (`indexedText`: three characters or more). Newest first; when more than `limit` traces match, which `limit` of them is
   * not defined (a caller that needs them all asks narrower ranges, as search-walk.ts does).
   */
  tag?: { key: string; value: string };
  /**
   * Only the traces' ids and when they matched: a store may give records with just `traceId` and
   * `start` (its latest matching span's) and `services` empty, saving the summaries (a search
   * that finds more than it asked for narrows its window and asks again). Others give whole ones.
   */
  startsOnly?: boolean;
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
  version?: string;
  resource?: string;
  name?: string;
  /** Only groups of service entry (top-level) spans: a service's own requests. */
  topLevel?: boolean;
  /** Counts only: the rows' latency sketches are left empty (what facets and request counts need; 20x less to read). */
  countsOnly?: boolean;
  /**
   * With countsOnly: the rows summed in the store per value of this field (and version), one row
   * each, whose other fields are one of the summed rows' (what a count by one field reads: a day
   * of one service's rows is tens of thousands).
   */
  sumBy?: 'service' | 'name' | 'resource' | 'env' | 'version' | 'httpStatusCode' | 'spanKind';
  /** ns since the epoch, inclusive. */
  start: bigint;
  /** ns since the epoch, exclusive. */
  end: bigint;
}

/** Where the pipeline puts kept traces. */
export interface TraceWriter {
  /** Stores a batch atomically: all of it, or (on error) none of it. Resolves once it is durable. */
  write(batch: WriteBatch): Promise<void>;
  /** Several batches at once, each atomic (a remote store saves round trips); else one by one. */
  writeMany?(batches: WriteBatch[]): Promise<void>;
}

/** Where finished stats buckets go (from the concentrator or from tracers), and where they are read. */
export interface StatsWriter {
  writeStats(rows: StatsRow[]): Promise<void>;
}

export interface StatsReader {
  /** Stats rows whose bucket starts in [start, end), filtered by group fields. */
  queryStats(q: StatsQuery): Promise<StatsRow[]>;
  /** Per service, env, operation and version: the top-level spans of buckets in [start, end). */
  serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]>;
}

/** The service map's and error tracking's rollups (store/trace-rollup.ts). */
export interface RollupReader {
  /**
   * Rows of `kind` in the slots covering [start, end) (to the minute), merged per key; with
   * `width` (one of the slot widths), that width's slots from the one holding `start`, each apart
   * (`slot` set): a series over time.
   */
  readRollups(kind: RollupKind, range: { start: bigint; end: bigint }, width?: bigint): Promise<RollupRead[]>;
}

/** What the query API reads. */
export interface TraceReader {
  /** Traces are matched on their lower 64 bits, and on the upper ones when both sides have them. */
  getTrace(traceId: TraceId): Promise<TraceRecord | undefined>;
  /** Several traces in one read (a store across a network saves a round trip each), in the order asked; absent: getTrace each. */
  getTraces?(traceIds: TraceId[]): Promise<(TraceRecord | undefined)[]>;
  /** Newest first. */
  searchTraces(query: TraceQuery): Promise<TraceSummaryRecord[]>;
  stats(): Promise<StoreStats>;
}

/** What the query API holds: every read, and a way to let go of it. */
export interface StoreReader extends TraceReader, StatsReader, RollupReader {
  close(): Promise<void>;
}

/** A whole backend, as the factory opens it: the agent hands each stage the part it needs. */
export interface TraceStore extends TraceWriter, TraceReader, StatsWriter, StatsReader, RollupReader {
  /** Deletes data older than `olderThan` (ns) and, if over `maxBytes`, the oldest data until under it. */
  enforceRetention(olderThan: bigint, maxBytes: number): Promise<RetentionResult>;
  /** Bytes the data takes on disk now; cheap enough to ask after every write. */
  diskUsage(): Promise<number>;
  /** Sets an error group's status, for every agent and UI replica of the store. Absent: the store keeps none. */
  setErrorStatus?(group: string, status: ErrorStatus, at: bigint): Promise<void>;
  /** Every status set; a group without one is open. */
  errorStatuses?(): Promise<ErrorStatusRecord[]>;
  /** Mutes a monitor until `until` (ns; null: unmutes it), for every agent and UI replica of the store. */
  setMonitorMute?(monitor: string, until: bigint | null): Promise<void>;
  /** The monitors muted, and until when (ns); a mute that has passed may still be listed. */
  monitorMutes?(): Promise<{ monitor: string; until: bigint }[]>;
  /** Keeps a monitor made in the UI or the API (its definition as the monitors file writes one, JSON); null deletes it. */
  saveMonitor?(id: string, definition: string | null): Promise<void>;
  /** The monitors made in the UI or the API. */
  savedMonitors?(): Promise<{ id: string; definition: string }[]>;
  /** Keeps a monitor's change of state (JSON), replacing the one of the same monitor and time; those older than 30 days go. */
  saveMonitorEvent?(monitor: string, at: bigint, event: string): Promise<void>;
  /** The latest changes of every monitor, newest first, at most `limit`. */
  monitorEvents?(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]>;
  /** Keeps a remote configuration (JSON; null removes it) for every agent and UI replica: its version, and the revision, go up. */
  saveRemoteConfig?(id: string, definition: string | null): Promise<void>;
  /** Every remote configuration kept, and the revision: greater after every change, a removal too (0: none ever). */
  remoteConfigs?(): Promise<RemoteConfigRecords>;
  /** How a store reached over the network is doing (reconnecting.ts, spool.ts); absent: always at hand. */
  condition?(): StoreCondition;
  close(): Promise<void>;
}

/** The remote configurations a store keeps (remote-config/): each with the version it was last set at. */
export interface RemoteConfigRecords {
  revision: number;
  configs: { id: string; definition: string; version: number }[];
}

/** What people decided of an error group (error tracking). */
export type ErrorStatus = 'open' | 'resolved' | 'ignored';
export const ERROR_STATUSES: readonly ErrorStatus[] = ['open', 'resolved', 'ignored'];

export interface ErrorStatusRecord {
  /** The group's fingerprint (trace-rollup.ts errorGroupOf). */
  group: string;
  status: ErrorStatus;
  /** When it was set, ns since the epoch: a resolved group seen after it is open again. */
  changedAt: bigint;
}

/** What /healthz says of a store reached over the network. */
export interface StoreCondition {
  /** false while data is being lost, or nothing can be served: /healthz answers 503. */
  ok: boolean;
  /** One line: `ok`, `unreachable, spooling, 4096 bytes`, `unreachable`. */
  status: string;
  /** Why, when the store is not reached. */
  problem?: string;
}

/** The store cannot be reached now (a shared store's outage); the message says which and why. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** A read that ran past its deadline and was stopped. */
export class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
}
