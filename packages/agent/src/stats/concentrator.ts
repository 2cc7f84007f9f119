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
const PEER_TAG_KEYS = DEFAULT_PEER_TAGS;



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
  const out: string[] = [];
  for (const k of PEER_TAG_KEYS) if (s.meta[k]) out.push(`${k}:${s.meta[k]}`);
  return out.sort();
}

export interface ChunkInfo {
  root: Span;
  env: string;
  origin: string;
}

export class Concentrator {
  private readonly buckets = new Map<bigint, Map<string, StatsRow>>();
  private oldest: bigint;

  constructor(now: bigint = BigInt(Date.now()) * 1_000_000n, private readonly bufferLen = 2) {
    this.oldest = now - (now % BUCKET_NS);
  }

  /** Counts a chunk's eligible spans. */
  add(chunk: TraceChunk, info: ChunkInfo): void {
    const rate = info.root.metrics['_sample_rate'];
    const weight = rate !== undefined && rate > 0 && rate <= 1 ? 1 / rate : 1;
    const synthetics = info.origin.startsWith('synthetics');
    for (const s of chunk) {
      if (!eligible(s)) continue;
      const end = s.start + BigInt(s.duration);
      let start = end - (end % BUCKET_NS);
      if (start < this.oldest) start = this.oldest;
      const kind = (s.meta['span.kind'] ?? '').toLowerCase();
      const env = s.meta['env'] || info.env;
      const version = s.meta['version'] ?? '';
      const status = statusCode(s);
      const isTraceRoot = s.parentId === 0n;
      const peers = peerTags(s, kind);
      let bucket = this.buckets.get(start);
      if (!bucket) {
        bucket = new Map();
        this.buckets.set(start, bucket);
      }
      // The key is built from the fields directly: most spans hit an existing group, and then
      // nothing else is allocated for them.
      const ks = `${s.service}\u0000${s.name}\u0000${s.resource}\u0000${s.type}\u0000${env}\u0000${version}\u0000${status}\u0000${kind}\u0000${isTraceRoot ? 1 : 0}${synthetics ? 1 : 0}\u0000${peers.length > 0 ? peers.join(',') : ''}`;
      let row = bucket.get(ks);
      let resource = s.resource;
      if (!row && bucket.size >= MAX_GROUPS_PER_BUCKET) {
        // A flood of distinct resources (ids in URLs, say) must not grow memory without bound.
        resource = OTHER_RESOURCE;
        const other = `${s.service}\u0000${s.name}\u0000${resource}`;
        row = bucket.get(other);
        if (!row) bucket.set(other, row = this.newRow(s, resource, env, version, status, kind, isTraceRoot, synthetics, peers, start));
      }
      if (!row) {
        row = this.newRow(s, resource, env, version, status, kind, isTraceRoot, synthetics, peers, start);
        bucket.set(ks, row);
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
      out.push(...bucket.values());
      this.buckets.delete(start);
    }
    this.oldest = keepFrom > this.oldest ? keepFrom : this.oldest;
    return out;
  }

  /** Rows not yet flushed, for queries about the last seconds. */
  pending(): StatsRow[] {
    const out: StatsRow[] = [];
    for (const b of this.buckets.values()) out.push(...b.values());
    return out;
  }
}
