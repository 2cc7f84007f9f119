import { EventEmitter } from 'node:events';
import { findRoot, markTopLevel, type Span } from '@ecs-trace/protocol';
import type { AgentMetrics } from '../runtime/index.js';
import type { StatsService } from '../stats/index.js';
import { chunkEnv, rollupsOf, type TraceWriter } from '../store/index.js';
import type { EcsTagger } from './ecs-tags.js';
import type { TraceFilters } from './filters.js';
import { normalizeTagValue } from './normalize-strings.js';
import { normalizeChunk, type NormalizeCounters, type SpanFixReason } from './normalize.js';
import type { Obfuscator } from './obfuscate/obfuscator.js';
import type { TraceSampler } from './sampler/sampler.js';

/** A decoded payload with what its request headers said about the sender. */
export interface IntakePayload {
  chunks: Span[][];
  lang: string;
  langVersion: string;
  tracerVersion: string;
  containerId: string;
  clientComputedStats: boolean;
  clientComputedTopLevel: boolean;
  clientDroppedP0Traces: number;
  /** ns since the epoch. */
  receivedAt: bigint;
}

export interface ProcessResult {
  traces: number;
  spans: number;
  /** Chunks dropped by normalization. */
  dropped: number;
  /** Chunks sampled out. */
  sampledOut: number;
}

export interface PipelineOptions {
  store: TraceWriter;
  metrics: AgentMetrics;
  /** Normalized default env. */
  defaultEnv: string;
  hostname: string;
  sampler: TraceSampler;
  obfuscator: Obfuscator;
  filters: TraceFilters;
  stats: StatsService;
  ecsTagger?: EcsTagger;
}

/** A chunk as stored, with its root and env: what the live view is fed. */
export interface StoredChunk {
  chunk: Span[];
  root: Span;
  env: string;
}

/**
 * Receiver -> normalize -> filter -> obfuscate -> top-level -> replace tags -> ECS tags -> stats
 * -> sample -> store, in the Datadog Agent's order; the
 * receiver only sees `process`, which resolves once the payload's kept chunks are stored.
 */
export class Pipeline {
  private readonly store: TraceWriter;
  private readonly metrics: AgentMetrics;
  private readonly defaultEnv: string;
  private readonly hostname: string;
  private readonly ecsTagger: EcsTagger | undefined;
  readonly sampler: TraceSampler;
  private readonly obfuscator: Obfuscator;
  private readonly filters: TraceFilters;
  readonly stats: StatsService;
  /** Emits 'chunks' (StoredChunk[]) after each payload is stored; for the live view. */
  readonly live = new EventEmitter();

  constructor(o: PipelineOptions) {
    this.live.setMaxListeners(100);
    this.stats = o.stats;
    this.obfuscator = o.obfuscator;
    this.filters = o.filters;
    this.store = o.store;
    this.metrics = o.metrics;
    this.defaultEnv = o.defaultEnv;
    this.hostname = o.hostname;
    this.ecsTagger = o.ecsTagger;
    this.sampler = o.sampler;
  }

  async process(p: IntakePayload): Promise<ProcessResult> {
    const labels = { lang: p.lang, tracer_version: p.tracerVersion };
    const fixed = new Map<SpanFixReason, number>();
    const counters: NormalizeCounters = { spanFixed: (r) => fixed.set(r, (fixed.get(r) ?? 0) + 1) };
    // Each kept chunk with its root, found once: filters, stats, sampling and the live view use it.
    const kept: { chunk: Span[]; root: Span }[] = [];
    let spans = 0;
    let dropped = 0;
    for (const chunk of p.chunks) {
      spans += chunk.length;
      const reason = normalizeChunk(chunk, p.lang, p.receivedAt, counters);
      if (reason !== undefined) {
        dropped++;
        this.metrics.tracesDropped.inc({ reason, ...labels });
        continue;
      }
      const root = findRoot(chunk);
      if (this.filters.active) {
        const filtered = this.filters.reject(root);
        if (filtered !== undefined) {
          this.metrics.tracesFiltered.inc({ reason: filtered });
          continue;
        }
      }
      for (const s of chunk) this.obfuscator.span(s);
      markTopLevel(chunk, p.clientComputedTopLevel);
      if (this.filters.active) for (const s of chunk) this.filters.rewrite(s);
      kept.push({ chunk, root });
    }
    for (const [reason, n] of fixed) this.metrics.spansMalformed.inc({ reason, ...labels }, n);
    this.metrics.traces.inc(labels, p.chunks.length);
    this.metrics.spans.inc(labels, spans);
    const ecs = this.ecsTagger?.lookup(p.containerId);
    if (this.ecsTagger && p.containerId !== '') this.metrics.ecsLookups.inc({ result: ecs ? 'hit' : 'miss' });
    if (ecs !== undefined) {
      // A tag the tracer set itself wins.
      for (const { chunk } of kept) for (const s of chunk) for (const k in ecs) if (s.meta[k] === undefined) s.meta[k] = ecs[k]!;
      // Where the container logs, once a chunk (on its root): the UI finds it from any span of the container.
      const logs = this.ecsTagger!.logsOf(p.containerId);
      if (logs !== undefined) for (const { root } of kept) for (const k in logs) if (root.meta[k] === undefined) root.meta[k] = logs[k]!;
    }
    const sampled: { chunk: Span[]; root: Span }[] = [];
    // Kept as single spans: stored after the whole chunks, counted whole with those sampled out.
    const singles: { chunk: Span[]; root: Span }[] = [];
    const countedOut: Span[][] = [];
    const outcomes = new Map<string, number>();
    const extraWeight = p.chunks.length > 0 ? p.clientDroppedP0Traces / p.chunks.length : 0;
    for (const k of kept) {
      const { chunk, root } = k;
      const env = chunkEnv(chunk, root, this.defaultEnv);
      // Stats see every chunk before sampling, unless the tracer computed them itself.
      if (!p.clientComputedStats) this.stats.add(chunk, { root, env, origin: root.meta['_dd.origin'] ?? '' });
      const decision = this.sampler.sample(chunk, { root, env, extraWeight });
      const single = decision.keep ? undefined : singleSpans(chunk);
      // Counted per payload, not per chunk: one metric update per outcome.
      const outcome = decision.keep ? `kept:${decision.reason}` : single ? 'kept:single_span' : `dropped:${decision.reason}`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (decision.keep) sampled.push(k);
      else {
        countedOut.push(chunk);
        if (single) singles.push({ chunk: single, root: findRoot(single) });
      }
    }
    for (const [outcome, n] of outcomes) {
      const [decision, reason] = outcome.split(':') as [string, string];
      this.metrics.sampled.inc({ decision, reason }, n);
    }
    // The service map's calls and error tracking's groups are counted before sampling, over every
    // chunk kept (as the stats are): an edge's calls then agree with its callee's requests. The
    // store counts the chunks it stores whole; what was sampled out is counted here.
    const batch = { env: this.defaultEnv, hostname: this.hostname, containerId: p.containerId, lang: p.lang, tracerVersion: p.tracerVersion, receivedAt: p.receivedAt };
    const sampledOut = countedOut.length > 0 ? rollupsOf({ ...batch, chunks: countedOut }, p.receivedAt) : undefined;
    const counted = singles.length > 0 ? { counted: sampled.length } : {};
    sampled.push(...singles);
    if (sampled.length === 0 && sampledOut !== undefined && (sampledOut.rows.length > 0 || sampledOut.halves.length > 0)) {
      await this.store.write({ ...batch, chunks: [], sampledOut });
    }
    if (sampled.length > 0) {
      await this.store.write({ ...batch, chunks: sampled.map((k) => k.chunk), ...counted, ...(sampledOut ? { sampledOut } : {}) });
      let stored = 0;
      for (const { chunk } of sampled) stored += chunk.length;
      this.metrics.spansStored.inc({}, stored);
      if (this.live.listenerCount('chunks') > 0) {
        const events: StoredChunk[] = sampled.map(({ chunk, root }) => ({ chunk, root, env: chunkEnv(chunk, root, this.defaultEnv) }));
        this.live.emit('chunks', events);
      }
    }
    return { traces: p.chunks.length, spans, dropped, sampledOut: kept.length - sampled.length };
  }
}

/**
 * Single-span sampling, as the Datadog Agent does it: of a chunk the sampler drops, the spans a
 * tracer's span sampling rule kept (`_dd.span_sampling.mechanism`, any value) are kept, as a
 * chunk of their own at priority 2 (user keep); a chunk without any is dropped whole.
 */
export function singleSpans(chunk: Span[]): Span[] | undefined {
  let kept: Span[] | undefined;
  for (const s of chunk) {
    if (s.metrics[SPAN_SAMPLING_MECHANISM] === undefined) continue;
    s.metrics[SAMPLING_PRIORITY] = 2;
    (kept ??= []).push(s);
  }
  return kept;
}

const SPAN_SAMPLING_MECHANISM = '_dd.span_sampling.mechanism';
const SAMPLING_PRIORITY = '_sampling_priority_v1';

export function normalizedDefaultEnv(env: string): string {
  return normalizeTagValue(env) || 'none';
}
