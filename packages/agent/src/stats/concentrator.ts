import type { Span, TraceChunk } from '@ecs-trace/protocol';
import { newSketch, type StatsRow } from '../store/index.js';
import { DEFAULT_PEER_TAGS, STATS_SPAN_KINDS } from './peer-tags.js';

/*
 * APM stats as the Datadog Agent's concentrator computes them (trace-agent spec 8.1): every chunk
 * is counted *before* sampling, so hits, errors and latency stay exact whatever is sampled away.
 * Spans that are top-level, measured, or of kind server/client/producer/consumer are grouped by
 * (service, name, resource, type, HTTP status, span kind, trace root, synthetics, peer tags) in
 * 10-s buckets by end time; each group keeps weighted hits, errors and duration, and DDSketches
 * of ok and error durations (relative accuracy 1%).
 */

export const BUCKET_NS = 10_000_000_000n;
/** Groups per 10-s bucket; past it, new groups are counted under resource OTHER_RESOURCE. */
export const MAX_GROUPS_PER_BUCKET = 20_000;
export const OTHER_RESOURCE = '(other: too many groups in 10 s)';
const STATS_SPAN_KINDS_SET = new Set(STATS_SPAN_KINDS);
const PEER_TAG_KINDS = new Set(['client', 'producer', 'consumer']);
const PEER_TAG_KEYS = new Set(DEFAULT_PEER_TAGS);



function statusCode(s: Span): number {
  const m = s.metrics['http.status_code'];
  if (m !== undefined) return Math.trunc(m);
  const v = Number(s.meta['http.status_code']);
  return Number.isInteger(v) && v > 0 && v < 2 ** 32 ? v : 0;
}

function eligible(s: Span): boolean {
  const partial = s.metrics['_dd.partial_version'];
  if (partial !== undefined && partial >= 0) return false;
  if (s.metrics['_top_level'] === 1 || s.metrics['_dd.top_level'] === 1 || s.metrics['_dd.measured'] === 1) return true;
  const kind = s.meta['span.kind'];
  return kind !== undefined && STATS_SPAN_KINDS_SET.has(kind.toLowerCase());
}

const NO_PEER_TAGS: string[] = [];

function peerTags(s: Span, kind: string): string[] {
  if (!PEER_TAG_KINDS.has(kind)) return NO_PEER_TAGS;
  // A span's own tags (a dozen or two) looked up in the 44 peer tags, rather than each of them
  // in the span's tags: most are absent, and a missed property lookup is the slower.
  const out: string[] = [];
  const meta = s.meta;
  for (const k in meta) if (PEER_TAG_KEYS.has(k) && meta[k]) out.push(`${k}:${meta[k]}`);
  return out.sort();
}

export interface ChunkInfo {
  root: Span;
  env: string;
  origin: string;
}

/** A 10-s bucket's groups: by resource, then compared field by field (see add). */
interface Bucket {
  byResource: Map<string, StatsRow[]>;
  /** Groups past MAX_GROUPS_PER_BUCKET, by service and name. */
  other: Map<string, StatsRow>;
  size: number;
}

const samePeers = (a: string[], b: string[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

export class Concentrator {
  private readonly buckets = new Map<bigint, Bucket>();
  private oldest: bigint;

  constructor(now: bigint = BigInt(Date.now()) * 1_000_000n, private readonly bufferLen = 2) {
    this.oldest = now - (now % BUCKET_NS);
  }

  /** Counts a chunk's eligible spans. */
  add(chunk: TraceChunk, info: ChunkInfo): void {
    const rate = info.root.metrics['_sample_rate'];
    const weight = rate !== undefined && rate > 0 && rate <= 1 ? 1 / rate : 1;
    const synthetics = info.origin.startsWith('synthetics');
    // A chunk's spans mostly end in the same 10 s: its bounds are computed once.
    let lo = -1n;
    let hi = -1n;
    /** The bucket's start: its 10 s, or the oldest still open for one already flushed. */
    let start = -1n;
    let bucket: Bucket | undefined;
    for (const s of chunk) {
      if (!eligible(s)) continue;
      const end = s.start + BigInt(s.duration);
      if (bucket === undefined || end < lo || end >= hi) {
        lo = end - (end % BUCKET_NS);
        hi = lo + BUCKET_NS;
        start = lo < this.oldest ? this.oldest : lo;
        bucket = this.buckets.get(start);
        if (!bucket) {
          bucket = { byResource: new Map(), other: new Map(), size: 0 };
          this.buckets.set(start, bucket);
        }
      }
      const kind = (s.meta['span.kind'] ?? '').toLowerCase();
      const env = s.meta['env'] || info.env;
      const version = s.meta['version'] ?? '';
      const status = statusCode(s);
      const isTraceRoot = s.parentId === 0n;
      const peers = peerTags(s, kind);
      // Groups are found by resource and then compared field by field, rather than by a key
      // string joining every field: the decoder hands out the same string instances for
      // repeated values, so the comparisons are mostly pointer checks, and building and hashing
      // the key was most of the concentrator's time (bench/README.md, "Span cost").
      let rows = bucket.byResource.get(s.resource);
      let row: StatsRow | undefined;
      if (rows !== undefined) {
        for (const r of rows) {
          if (r.service === s.service && r.name === s.name && r.type === s.type && r.env === env && r.version === version
            && r.httpStatusCode === status && r.spanKind === kind && r.isTraceRoot === isTraceRoot && r.synthetics === synthetics
            && samePeers(r.peerTags, peers)) { row = r; break; }
        }
      }
      if (row === undefined) {
        if (bucket.size >= MAX_GROUPS_PER_BUCKET) {
          // A flood of distinct resources (ids in URLs, say) must not grow memory without bound.
          const other = `${s.service}\u0000${s.name}`;
          row = bucket.other.get(other);
          if (!row) bucket.other.set(other, row = this.newRow(s, OTHER_RESOURCE, env, version, status, kind, isTraceRoot, synthetics, peers, start));
        } else {
          row = this.newRow(s, s.resource, env, version, status, kind, isTraceRoot, synthetics, peers, start);
          if (rows === undefined) bucket.byResource.set(s.resource, rows = []);
          rows.push(row);
          bucket.size++;
        }
      }
      row.hits += weight;
      if (s.metrics['_top_level'] === 1 || s.metrics['_dd.top_level'] === 1) row.topLevelHits += weight;
      row.totalDuration += s.duration * weight;
      // Sketches are unweighted, as in the Datadog Agent.
      if (s.error !== 0) {
        row.errors += weight;
        row.errorSketch.accept(Math.max(s.duration, 0));
      } else {
        row.okSketch.accept(Math.max(s.duration, 0));
      }
    }
  }

  private newRow(s: Span, resource: string, env: string, version: string, status: number, kind: string, isTraceRoot: boolean, synthetics: boolean, peers: string[], start: bigint): StatsRow {
    return {
      service: s.service, name: s.name, resource, type: s.type, env, version, httpStatusCode: status, spanKind: kind,
      isTraceRoot, synthetics, peerTags: peers,
      start, durationNs: BUCKET_NS, hits: 0, topLevelHits: 0, errors: 0, totalDuration: 0, okSketch: newSketch(), errorSketch: newSketch(), source: 'agent',
    };
  }

  /** Buckets old enough to be final (all of them with `force`), removed from memory. */
  flush(now: bigint, force = false): StatsRow[] {
    const out: StatsRow[] = [];
    const keepFrom = now - (now % BUCKET_NS) - BigInt(this.bufferLen - 1) * BUCKET_NS;
    for (const [start, bucket] of this.buckets) {
      if (!force && start >= keepFrom) continue;
      rowsOf(bucket, out);
      this.buckets.delete(start);
    }
    this.oldest = keepFrom > this.oldest ? keepFrom : this.oldest;
    return out;
  }

  /** Rows not yet flushed, for queries about the last seconds. */
  pending(): StatsRow[] {
    const out: StatsRow[] = [];
    for (const b of this.buckets.values()) rowsOf(b, out);
    return out;
  }
}

function rowsOf(b: Bucket, out: StatsRow[]): void {
  for (const rows of b.byResource.values()) for (const r of rows) out.push(r);
  for (const r of b.other.values()) out.push(r);
}
