import type { Span } from '@ecs-trace/protocol';
import { normalizeTagValue } from './normalize-strings.js';
import { markTopLevel, normalizeChunk, type NormalizeCounters, type SpanFixReason } from './normalize.js';
import type { AgentMetrics } from './metrics.js';
import type { TraceStore } from './store/store.js';
import type { EcsTagger } from './ecs-tags.js';

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
  dropped: number;
}

/**
 * Receiver -> normalize -> store. Later stages (sampling, stats, obfuscation, ECS tags) slot in
 * here; the receiver only sees `process`, which resolves once the payload is stored.
 */
export class Pipeline {
  constructor(
    private readonly store: TraceStore,
    private readonly metrics: AgentMetrics,
    private readonly defaultEnv: string,
    private readonly hostname: string,
    private readonly ecsTagger?: EcsTagger,
  ) {}

  async process(p: IntakePayload): Promise<ProcessResult> {
    const labels = { lang: p.lang, tracer_version: p.tracerVersion };
    const fixed = new Map<SpanFixReason, number>();
    const counters: NormalizeCounters = { spanFixed: (r) => fixed.set(r, (fixed.get(r) ?? 0) + 1) };
    const kept: Span[][] = [];
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
      markTopLevel(chunk, p.clientComputedTopLevel);
      kept.push(chunk);
    }
    for (const [reason, n] of fixed) this.metrics.spansMalformed.inc({ reason, ...labels }, n);
    this.metrics.traces.inc(labels, p.chunks.length);
    this.metrics.spans.inc(labels, spans);
    const ecs = this.ecsTagger?.lookup(p.containerId);
    if (this.ecsTagger && p.containerId !== '') this.metrics.ecsLookups.inc({ result: ecs ? 'hit' : 'miss' });
    if (ecs !== undefined) {
      // A tag the tracer set itself wins.
      for (const chunk of kept) for (const s of chunk) for (const k in ecs) if (s.meta[k] === undefined) s.meta[k] = ecs[k]!;
    }
    if (kept.length > 0) {
      await this.store.write({
        chunks: kept,
        env: this.defaultEnv,
        hostname: this.hostname,
        containerId: p.containerId,
        lang: p.lang,
        tracerVersion: p.tracerVersion,
        receivedAt: p.receivedAt,
      });
      let stored = 0;
      for (const c of kept) stored += c.length;
      this.metrics.spansStored.inc({}, stored);
    }
    return { traces: p.chunks.length, spans, dropped };
  }
}

export function normalizedDefaultEnv(env: string): string {
  return normalizeTagValue(env) || 'none';
}
