import { createHash } from 'node:crypto';
import { stackFrames } from './stack-frames.js';
import { findRoot, type Span } from '@ecs-trace/protocol';
import type { WriteBatch } from './contract.js';
import { chunkEnv } from './records.js';
import { coverRange, SLOT_WIDTHS } from './service-rollup.js';
import type { WaitingHalves } from './waiting-halves.js';

/*
 * The rollups behind the service map and error tracking, the same for every backend: written with
 * the spans, in slots of an hour, 10 minutes and a minute (as the services rollup), so a day of a
 * cluster is read as a few dozen rows per key instead of its traces.
 *
 * - error: error spans counted by fingerprint (service, error type, the message with its variable
 *   parts as `?`, the top stack frames without line numbers), with first/last seen and samples.
 * - edge: calls across a service boundary (a span whose parent is in another service), and calls
 *   out of the traced world (a client span naming a database, a peer service or a host, with no
 *   traced child), with calls, errors and a latency histogram for the p95.
 *
 * A call's two sides often arrive apart (the client's and the server's tracers flush on their own,
 * perhaps to agents on other hosts): each side that crosses a process boundary is kept as a "half"
 * until its other side comes, and the backend pairs them (store/halves in each backend). A client
 * half left alone for HALF_TTL becomes a call to its leaf, if it names one.
 */

export type RollupKind = 'error' | 'edge';

export interface ErrorData {
  service: string;
  env: string;
  errorType: string;
  message: string;
  resource: string;
  count: number;
  /** ms since the epoch. */
  firstSeen: number;
  lastSeen: number;
  /** Up to 5 trace ids (hex). */
  samples: string[];
  /**
   * The version of the service that failed (its entry span's `version`), '' for none: a group's
   * rows are kept per version, so each version's counts, first and last seen are its own. Rows
   * written before versions were kept have none.
   */
  version?: string;
}

export interface EdgeData {
  env: string;
  from: string;
  to: string;
  /** The called side's type (a leaf's: db, cache, http, ...). */
  toType: string;
  leaf: boolean;
  calls: number;
  errors: number;
  /** Durations (ns) by log bucket (LOG_BASE), for percentiles within ~2.5%. */
  hist: Record<string, number>;
}

export type RollupData = ErrorData | EdgeData;

export interface RollupRow {
  width: bigint;
  slot: bigint;
  kind: RollupKind;
  key: string;
  data: RollupData;
}

/** One side of a call across a process boundary, waiting for the other. */
export interface Half {
  traceId: bigint;
  /** The client side's own span id; the server side's parent id: the two meet on it. */
  spanId: bigint;
  side: 'client' | 'server';
  /** When it was written (ns), for its expiry. */
  at: bigint;
  data: HalfData;
}

export interface HalfData {
  service: string;
  env: string;
  type: string;
  start: string;
  duration: number;
  error: number;
  /** The client side's leaf, when it names one (used if no server side comes). */
  leaf?: { name: string; type: string };
}

/** How long a half waits for its other side. */
export const HALF_TTL_NS = 120n * 1_000_000_000n;

/**
 * How many halves wait in memory at most; past it the oldest is given up as if its time had come.
 * A half takes about 300 bytes, and dd-trace's payloads leave one for every 3.5 spans (its http
 * client calls): at 70k spans/s, two minutes of them took 800 MB before this bound; 50k is 15 MB.
 */
export const MAX_WAITING_HALVES = 50_000;

/** Between the parts of a rollup key: PostgreSQL's text cannot hold NUL. */
const SEP = '\u001f';
const LOG_BASE = 1.05;

/**
 * The message with what varies between occurrences of one error made `?`: quoted values, e-mail
 * addresses, hex ids and UUIDs, numbers (a unit after one stays: `?ms`), and words with two digits
 * or more (`customer c135`, `order ord_8f3k2`), which are ids far more often than words (one group
 * per customer otherwise); a word with one digit (`HTTP2`, `utf8`, `v2`) is kept.
 */
export function normalizeMessage(message: string): string {
  return message
    .replace(/"[^"]*"|'[^']*'/g, '?')
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, '?')
    .replace(/\b[0-9a-f]{8,}(-[0-9a-f]{4,})*\b/gi, '?')
    .replace(/\b\d+(\.\d+)?/g, '?')
    .replace(/\b(?=(?:[A-Za-z_-]*\d){2})[A-Za-z_][\w-]*\b/g, '?')
    .slice(0, 300);
}

/**
 * What an error span without a message is, in words: `HTTP 502` for a server's answer, `HTTP 404
 * from payments` for a call's, `gRPC status 14`; empty when nothing says.
 */
export function messageOfUnnamed(span: Span): string {
  const m = span.meta;
  const status = span.metrics['http.status_code'] ?? (m['http.status_code'] !== undefined ? Number(m['http.status_code']) : undefined);
  const client = m['span.kind'] === 'client' || span.type === 'http';
  if (status !== undefined && Number.isFinite(status)) {
    const peer = m['peer.service'] || m['out.host'] || m['http.host'] || m['network.destination.name'] || '';
    return client && peer ? `HTTP ${status} from ${peer}` : `HTTP ${status}`;
  }
  const grpc = m['grpc.status.code'] ?? m['rpc.grpc.status_code'] ?? (span.metrics['grpc.status.code'] !== undefined ? String(span.metrics['grpc.status.code']) : undefined);
  return grpc !== undefined ? `gRPC status ${grpc}` : '';
}

/** The first of two tags that is set and not empty. */
const metaOf = (m: Record<string, string>, a: string, b?: string): string => {
  const v = m[a];
  if (v !== undefined && v !== '') return v;
  const w = b === undefined ? undefined : m[b];
  return w !== undefined ? w : '';
};

interface ErrorGroup { id: string; errorType: string; message: string }

/**
 * Groups of errors seen lately, by their raw fields: one bug repeats, and its regexes and hash
 * need not. Keyed field by field: a key joined from them copied each error's stack once more.
 */
const groupCache = new Map<string, Map<string, Map<string, Map<string, ErrorGroup>>>>();
let groupsCached = 0;

const level = <V>(m: Map<string, V>, k: string, make: () => V): V => {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
};

/**
 * The error group of an error: its id (a fingerprint) and what the group shows. As Datadog's error
 * tracking: the service, the error's type and the top frames of its stack (file and function,
 * stack-frames.ts), so that one bug's occurrences with other values, ids or line numbers are one
 * group; without a stack, its type and message (ids and numbers made `?`). `raiser` is the span the
 * error came from (its type, message and stack); `entry` the service entry span that failed with
 * it, which names the service and, for an error without a message, what it was (`HTTP 502`).
 */
export function errorGroupOf(raiser: Span, entry: Span = raiser): ErrorGroup {
  const m = raiser.meta;
  const errorType = metaOf(m, 'error.type', 'error.kind');
  const given = metaOf(m, 'error.message', 'error.msg');
  // Without a message, what the span is (HTTP 502) stands for it, in the cache's key too.
  const unnamed = given === '' ? messageOfUnnamed(raiser) || messageOfUnnamed(entry) : undefined;
  const messageKey = unnamed === undefined ? given : `\u0000${unnamed}`;
  // dd-trace-go (v2) records where an error was handled, not raised, for errors that carry no stack.
  const stack = metaOf(m, 'error.stack', 'error.handling_stack');
  const byService = groupCache.get(entry.service);
  const cached = byService?.get(errorType)?.get(messageKey)?.get(stack);
  if (cached) return cached;
  const message = unnamed ?? normalizeMessage(given);
  const frames = stackFrames(stack);
  const id = createHash('sha256').update([entry.service, errorType, ...(frames.length > 0 ? frames : [message])].join('\u0000')).digest('hex').slice(0, 16);
  const group = { id, errorType, message };
  // Bounded: past 2048 groups the cache starts again (a bug that repeats is back in it at once).
  if (groupsCached >= 2048) {
    groupCache.clear();
    groupsCached = 0;
  }
  const byType = level(groupCache, entry.service, () => new Map<string, Map<string, Map<string, ErrorGroup>>>());
  level(level(byType, errorType, () => new Map<string, Map<string, ErrorGroup>>()), messageKey, () => new Map<string, ErrorGroup>()).set(stack, group);
  groupsCached++;
  return group;
}

/**
 * The occurrences of errors in a chunk, as error tracking counts them: per service entry span (a
 * request a service served). An entry that failed is one occurrence, its error taken from the
 * deepest span of its own service under it that carries a stack or a type (where it was raised;
 * the entry itself when none does). An entry that did not fail, under which spans of its service
 * did (errors handled on the way), counts each distinct error once.
 */
export function errorOccurrences(chunk: readonly Span[], links: { parentOf(id: bigint): Span | undefined }): { entry: Span; raiser: Span }[] {
  // Most chunks have no error: no array made for them.
  let first = -1;
  for (let i = 0; i < chunk.length; i++) if (chunk[i]!.error !== 0) { first = i; break; }
  if (first < 0) return [];
  const errors = chunk.slice(first).filter((s) => s.error !== 0);
  // Each error span's entry: up its own service's spans to the one whose parent is elsewhere.
  const byEntry = new Map<Span, { span: Span; depth: number }[]>();
  for (const s of errors) {
    let entry = s;
    let depth = 0;
    for (let p = links.parentOf(entry.parentId); p !== undefined && p.service === entry.service && entry.metrics['_top_level'] !== 1 && depth < 256; p = links.parentOf(entry.parentId)) {
      entry = p;
      depth++;
    }
    const list = byEntry.get(entry);
    if (list === undefined) byEntry.set(entry, [{ span: s, depth }]);
    else list.push({ span: s, depth });
  }
  const out: { entry: Span; raiser: Span }[] = [];
  const described = (s: Span) => s.meta['error.stack'] || s.meta['error.handling_stack'] || s.meta['error.type'] || s.meta['error.kind'];
  for (const [entry, spans] of byEntry) {
    if (entry.error !== 0) {
      let raiser = entry;
      let deepest = -1;
      for (const { span, depth } of spans) if (described(span) && depth > deepest) { raiser = span; deepest = depth; }
      out.push({ entry, raiser });
      continue;
    }
    const seen = new Set<string>();
    for (const { span } of spans) {
      const id = errorGroupOf(span, entry).id;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ entry, raiser: span });
    }
  }
  return out;
}

/**
 * Whether a client span is a call that carries the trace on (HTTP, gRPC/RPC, a message): only
 * such a call can have a traced answer. A tracer's own connection spans (dns.lookup,
 * tcp.connect) are neither calls to wait for nor leaves worth a node; skipping them also keeps
 * the halves few (bench: a third of dd-trace's spans are such).
 */
function carriesContext(s: Span): boolean {
  const m = s.meta;
  return m['http.method'] !== undefined || m['http.request.method'] !== undefined || m['rpc.system'] !== undefined || m['grpc.method.name'] !== undefined
    || m['messaging.system'] !== undefined || s.type === 'http' || s.type === 'grpc' || s.type === 'queue';
}

/** The leaf a client span calls, when it names one: a peer service, a database, an outside host it made a call to. */
export function leafOf(meta: Record<string, string>, type: string): { name: string; type: string; database: boolean } | undefined {
  const peer = meta['peer.service'];
  if (peer) return { name: peer, type: type || 'external', database: false };
  const db = meta['db.system'] ?? meta['db.type'];
  if (db) return { name: meta['db.instance'] || meta['db.name'] ? `${db}:${meta['db.instance'] || meta['db.name']}` : db, type: type || 'db', database: true };
  const host = meta['out.host'] ?? meta['peer.hostname'] ?? meta['server.address'];
  const call = meta['http.method'] !== undefined || meta['http.request.method'] !== undefined || meta['rpc.system'] !== undefined || meta['messaging.system'] !== undefined;
  if (host && call && (meta['span.kind'] === 'client' || meta['span.kind'] === 'producer')) return { name: host, type: type || 'external', database: false };
  return undefined;
}

export const floorTo = (t: bigint, w: bigint): bigint => t - (((t % w) + w) % w);
const bucketOf = (ns: number) => String(ns <= 1 ? 0 : Math.floor(Math.log(ns) / Math.log(LOG_BASE)));

const MINUTE = SLOT_WIDTHS[SLOT_WIDTHS.length - 1]!;

/** Minute rows and the same rows folded into every wider slot. */
function expandSlots(minuteRows: RollupRow[]): RollupRow[] {
  const wider = SLOT_WIDTHS.filter((w) => w !== MINUTE).flatMap((width) => minuteRows.map((r) => ({ ...r, width, slot: floorTo(r.slot, width) })));
  return [...minuteRows, ...foldRollups(wider)];
}

/** A client half and its server half, paired: one call from the client's service to the server's. */
function addPaired(acc: MinuteRows, client: HalfData, server: HalfData): void {
  if (client.service === server.service) return;
  acc.edge(server.env || client.env, client.service, server.service, server.type, false, BigInt(server.start), server.duration, server.error);
}

/** A client half no server came for: a call to its leaf, if it names one. */
function addExpired(acc: MinuteRows, client: HalfData): void {
  if (!client.leaf || client.leaf.name === client.service) return;
  acc.edge(client.env, client.service, client.leaf.name, client.leaf.type, true, BigInt(client.start), client.duration, client.error);
}

/** The rows of one paired call. */
export function pairedEdge(client: HalfData, server: HalfData): RollupRow[] {
  const acc = new MinuteRows();
  addPaired(acc, client, server);
  return acc.all();
}

/** The rows of client halves no server came for, summed (their calls to their leaves). */
export function expiredEdges(clients: Iterable<HalfData>): RollupRow[] {
  const acc = new MinuteRows();
  for (const c of clients) addExpired(acc, c);
  return acc.all();
}

/**
 * A batch's occurrences summed per minute and key as they are met, in place: no object per
 * occurrence (bench: this was a fifth of intake's time as rows folded afterwards).
 */
class MinuteRows {
  private readonly rows = new Map<string, RollupRow>();
  /** The last minute met and its text: a batch's spans mostly share one (BigInt math and text cost ~0.3 µs a call). */
  private minute = -1n;
  private minuteText = '';

  /** The minute a time falls in, and that minute as text for keys. */
  private slotOf(t: bigint): [bigint, string] {
    if (t < this.minute || t >= this.minute + MINUTE || this.minute < 0n) {
      this.minute = floorTo(t, MINUTE);
      this.minuteText = String(this.minute);
    }
    return [this.minute, this.minuteText];
  }

  error(env: string, s: Span, raiser: Span, traceHex: string): void {
    const g = errorGroupOf(raiser, s);
    const version = s.meta['version'] || raiser.meta['version'] || '';
    // The group's id last: readers take it from there whatever comes before (older rows have no version).
    const key = `${env}${SEP}${s.service}${SEP}${version}${SEP}${g.id}`;
    const [slot, slotText] = this.slotOf(s.start);
    const at = Number(s.start / 1_000_000n);
    const k = `e${slotText}${SEP}${key}`;
    const have = this.rows.get(k);
    if (have !== undefined) {
      const d = have.data as ErrorData;
      d.count++;
      if (at < d.firstSeen) d.firstSeen = at;
      if (at > d.lastSeen) d.lastSeen = at;
      if (d.samples.length < 5 && !d.samples.includes(traceHex)) d.samples.push(traceHex);
      return;
    }
    this.rows.set(k, { width: MINUTE, slot, kind: 'error', key, data: {
      service: s.service, env, errorType: g.errorType, message: g.message, resource: s.resource, count: 1, firstSeen: at, lastSeen: at, samples: [traceHex], version,
    } });
  }

  edge(env: string, from: string, to: string, toType: string, leaf: boolean, start: bigint, duration: number, error: number): void {
    const key = `${env}${SEP}${from}${SEP}${to}`;
    const [slot, slotText] = this.slotOf(start);
    const k = `c${slotText}${SEP}${key}`;
    const bucket = bucketOf(duration);
    const have = this.rows.get(k);
    if (have !== undefined) {
      const d = have.data as EdgeData;
      d.calls++;
      if (error !== 0) d.errors++;
      d.hist[bucket] = (d.hist[bucket] ?? 0) + 1;
      // As mergeInto does: many calls (met halves, say) summed here must not keep an empty type.
      d.toType ||= toType;
      return;
    }
    this.rows.set(k, { width: MINUTE, slot, kind: 'edge', key, data: { env, from, to, toType, leaf, calls: 1, errors: error !== 0 ? 1 : 0, hist: { [bucket]: 1 } } });
  }

  /** Every width's rows. */
  all(): RollupRow[] {
    return expandSlots([...this.rows.values()]);
  }
}

/** A chunk's trace id as hex, 128-bit when a span carries its upper half. */
function traceHexOf(chunk: Span[], traceId: bigint): string {
  let tid = '';
  for (const x of chunk) {
    const t = x.meta['_dd.p.tid'];
    if (t) {
      tid = t;
      break;
    }
  }
  const hex = traceId.toString(16).padStart(16, '0');
  return /^[0-9a-f]{16}$/.test(tid) ? tid + hex : hex;
}

/** A client call answered by `child`: a span in another service, or the server side of a call to itself. */
const answers = (parent: Span, child: Span): boolean => parent.service !== child.service || child.meta['span.kind'] === 'server' || child.meta['span.kind'] === 'consumer';

/** Up to this many spans, a trace's links are found by scanning it: cheaper than maps of BigInts (bench: 0.3 µs a span). */
const SCANNED = 16;

/** Parents, children and answered calls among a trace's spans; by id, the last span with an id its owner. */
class Links {
  private readonly byId: Map<bigint, Span> | undefined;
  private readonly parents: Set<bigint> | undefined;
  /** Client spans answered among these spans: no half to wait. */
  private readonly answeredIds: Set<bigint> | undefined;

  constructor(private readonly spans: readonly Span[]) {
    if (spans.length <= SCANNED) return;
    this.byId = new Map();
    this.parents = new Set();
    for (const s of spans) {
      this.byId.set(s.spanId, s);
      this.parents.add(s.parentId);
    }
    this.answeredIds = new Set();
    for (const s of spans) {
      const parent = this.byId.get(s.parentId);
      if (parent !== undefined && answers(parent, s)) this.answeredIds.add(s.parentId);
    }
  }

  parentOf(id: bigint): Span | undefined {
    if (this.byId) return this.byId.get(id);
    const spans = this.spans;
    for (let i = spans.length - 1; i >= 0; i--) if (spans[i]!.spanId === id) return spans[i];
    return undefined;
  }

  hasChild(id: bigint): boolean {
    if (this.parents) return this.parents.has(id);
    for (const s of this.spans) if (s.parentId === id) return true;
    return false;
  }

  answered(id: bigint): boolean {
    if (this.answeredIds) return this.answeredIds.has(id);
    // The call's own span, found once: its children are what may answer it.
    const parent = this.parentOf(id);
    if (parent === undefined) return false;
    for (const s of this.spans) if (s.parentId === id && answers(parent, s)) return true;
    return false;
  }
}

/** What a batch adds to the rollups, and the halves it leaves waiting. */
export function rollupsOf(batch: WriteBatch, now: bigint): { rows: RollupRow[]; halves: Half[] } {
  const acc = new MinuteRows();
  const halves: Half[] = [];
  // Calls are found among a trace's spans: a chunk's, unless a trace id repeats across the batch's
  // chunks (a tracer flushed the trace in parts), when they are found among all of its spans.
  let whole: Links | undefined;
  const traces = new Set<bigint>();
  for (const chunk of batch.chunks) {
    if (chunk.length === 0) continue;
    const t = chunk[0]!.traceId;
    if (traces.has(t)) {
      whole = new Links(batch.chunks.flat());
      break;
    }
    traces.add(t);
  }
  for (const chunk of batch.chunks) {
    if (chunk.length === 0) continue;
    const env = chunkEnv(chunk, findRoot(chunk), batch.env);
    const links = whole ?? new Links(chunk);
    // A chunk's spans share a trace id (normalize.ts drops a chunk that mixes them): its text once.
    let traceHex: string | undefined;
    for (const { entry, raiser } of errorOccurrences(chunk, links)) {
      acc.error(env, entry, raiser, entry.traceId === chunk[0]!.traceId ? (traceHex ??= traceHexOf(chunk, entry.traceId)) : traceHexOf(chunk, entry.traceId));
    }
    for (const s of chunk) {
      const parent = s.parentId !== 0n ? links.parentOf(s.parentId) : undefined;
      if (parent !== undefined) {
        if (parent.service !== s.service) acc.edge(env, parent.service, s.service, s.type, false, s.start, s.duration, s.error);
      } else if (s.parentId !== 0n) {
        halves.push({ traceId: s.traceId, spanId: s.parentId, side: 'server', at: now, data: { service: s.service, env, type: s.type, start: String(s.start), duration: s.duration, error: s.error } });
      }
      const kind = s.meta['span.kind'];
      if (kind === undefined && s.meta['peer.service'] === undefined && s.meta['db.system'] === undefined && s.meta['db.type'] === undefined) continue;
      const leaf = leafOf(s.meta, s.type);
      // A database is never traced: the innermost span naming it is a call to it, now. Other
      // calls out may reach a traced service, whose side is still to come (a client span's own
      // children, such as tcp.connect, are in its service and do not answer it).
      if (leaf?.database) {
        // A database span in a service of its own (dd-trace's `orders-postgres`) is the inferred
        // service of that database: the call into it, counted above, is the one hop to draw.
        const inferred = parent !== undefined && parent.service !== s.service;
        if (!inferred && leaf.name !== s.service && !links.hasChild(s.spanId)) acc.edge(env, s.service, leaf.name, leaf.type, true, s.start, s.duration, s.error);
      } else if ((leaf !== undefined || ((kind === 'client' || kind === 'producer') && carriesContext(s))) && !links.answered(s.spanId)) {
        halves.push({
          traceId: s.traceId, spanId: s.spanId, side: 'client', at: now,
          data: { service: s.service, env, type: s.type, start: String(s.start), duration: s.duration, error: s.error, ...(leaf ? { leaf: { name: leaf.name, type: leaf.type } } : {}) },
        });
      }
    }
  }
  return { rows: acc.all(), halves };
}

/** A copy that merging into will not share arrays or maps with `d`. */
function cloneData(d: RollupData): RollupData {
  return 'count' in d ? { ...d, samples: [...d.samples] } : { ...d, hist: { ...d.hist } };
}

/** `b` added to `a`, in place (the same kind and key). */
function mergeInto(a: RollupData, b: RollupData): void {
  if ('count' in a && 'count' in b) {
    a.count += b.count;
    if (b.firstSeen < a.firstSeen) a.firstSeen = b.firstSeen;
    if (b.lastSeen > a.lastSeen) a.lastSeen = b.lastSeen;
    for (const t of b.samples) if (a.samples.length < 5 && !a.samples.includes(t)) a.samples.push(t);
    a.resource ||= b.resource;
  } else if ('calls' in a && 'calls' in b) {
    a.calls += b.calls;
    a.errors += b.errors;
    for (const k in b.hist) a.hist[k] = (a.hist[k] ?? 0) + b.hist[k]!;
    a.toType ||= b.toType;
  } else {
    throw new Error('rollup rows of different kinds cannot merge');
  }
}

/**
 * Halves meeting in memory, as both stores keep the recent ones: a half whose other side waits in
 * `waiting` makes a call (returned, counted now) and takes it out; any other waits there, a second
 * half of the same side (a retried call) replacing the first so that one call is counted. Beyond
 * `max` waiting, the oldest tenth go as expired ones do (a client's becomes a call to its leaf).
 */
export function meetWaiting(waiting: WaitingHalves, halves: readonly Half[], max = MAX_WAITING_HALVES): RollupRow[] {
  // Calls summed in place, as a batch's own are (tens of thousands a second go past the bound).
  const acc = new MinuteRows();
  for (const h of halves) {
    const other = waiting.take(h.traceId, h.spanId);
    if (other !== undefined && other.side !== h.side) {
      if (h.side === 'client') addPaired(acc, h.data, other.data);
      else addPaired(acc, other.data, h.data);
    } else waiting.put(h);
  }
  // A tenth goes at once, so that a full pool does not give up one half per half that comes.
  if (waiting.size > max) {
    const keep = max - Math.floor(max / 10);
    while (waiting.size > keep) {
      const h = waiting.shift()!;
      if (h.side === 'client') addExpired(acc, h.data);
    }
  }
  return acc.all();
}

/** Rows summed into `into`, one per slot and key: a busy second's payloads hit the same few keys. */
export function sumRollups(into: Map<string, RollupRow>, rows: readonly RollupRow[]): void {
  for (const r of rows) {
    const k = rollupRowKey(r);
    const have = into.get(k);
    // The map's rows are its own copies, so they are summed in place.
    if (have) mergeInto(have.data, r.data);
    else into.set(k, { ...r, data: cloneData(r.data) });
  }
}

/** `b` merged into a copy of `a` (the same kind and key). */
export function mergeRollupData(a: RollupData, b: RollupData): RollupData {
  const out = cloneData(a);
  mergeInto(out, b);
  return out;
}

/**
 * Rows of the same slot and key merged into one. Merged in place into one copy per key: a batch
 * brings hundreds of rows for a few keys (bench: 5x faster than merging copies).
 */
export function foldRollups(rows: readonly RollupRow[]): RollupRow[] {
  const out = new Map<string, RollupRow>();
  for (const r of rows) {
    const k = rollupRowKey(r);
    const have = out.get(k);
    if (have) mergeInto(have.data, r.data);
    else out.set(k, { ...r, data: cloneData(r.data) });
  }
  return [...out.values()];
}

export function rollupRowKey(r: Pick<RollupRow, 'width' | 'slot' | 'kind' | 'key'>): string {
  return `${r.width}\u0000${r.slot}\u0000${r.kind}\u0000${r.key}`;
}

/** The p-th percentile (0..1) of a histogram, in ns. */
export function histPercentile(hist: Record<string, number>, p: number): number {
  const entries = Object.entries(hist).map(([k, n]) => [Number(k), n] as const).sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (const [k, n] of entries) {
    seen += n;
    if (seen >= Math.ceil(total * p)) return k === 0 ? 0 : Math.round(LOG_BASE ** (k + 0.5));
  }
  return 0;
}

/**
 * The slots that cover [start, end): whole hours, then 10-minute and minute slots at the ends; the
 * ragged ends finer than a minute are widened to their minute (this rollup has no finer rows).
 */
export function rollupSlots(start: bigint, end: bigint): { width: bigint; from: bigint; to: bigint }[] {
  const minute = SLOT_WIDTHS[SLOT_WIDTHS.length - 1]!;
  const from = floorTo(start, minute);
  const to = end % minute === 0n ? end : floorTo(end, minute) + minute;
  return coverRange(from, to).slots;
}

/** Rows read from the slots of a range, merged per key. */
export function mergeByKey(rows: readonly { key: string; data: RollupData }[]): { key: string; data: RollupData }[] {
  const out = new Map<string, RollupData>();
  for (const r of rows) {
    const have = out.get(r.key);
    out.set(r.key, have ? mergeRollupData(have, r.data) : r.data);
  }
  return [...out].map(([key, data]) => ({ key, data }));
}

/** Rows of several writers for the same slot and key merged into one. */
export function mergeBySlotAndKey(rows: readonly { key: string; data: RollupData; slot: bigint }[]): { key: string; data: RollupData; slot: bigint }[] {
  const out = new Map<string, { key: string; data: RollupData; slot: bigint }>();
  for (const r of rows) {
    const k = `${r.slot}\u0000${r.key}`;
    const have = out.get(k);
    out.set(k, have ? { ...have, data: mergeRollupData(have.data, r.data) } : r);
  }
  return [...out.values()];
}
