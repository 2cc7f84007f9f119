import type { Span, TraceChunk } from '@ecs-trace/protocol';
import { fnv32a, sampleByRate, TpsRates } from './tps.js';

/*
 * The Datadog Agent's sampling decision for a chunk (trace-agent spec 6.2-6.5): the rare sampler
 * (off by default) sees every chunk first; a negative priority drops; a positive one keeps;
 * priorities 0 and 1 feed the per-`service,env` rates sent back to tracers in rate_by_service;
 * chunks without a priority go to the no-priority score sampler; and a dropped chunk with an
 * error gets a second chance from the errors sampler.
 */

export type SamplingReason =
  | 'priority' | 'user_keep' | 'rare' | 'no_priority' | 'errors'
  | 'user_reject' | 'priority_drop' | 'no_priority_drop';

export interface SamplingDecision {
  keep: boolean;
  reason: SamplingReason;
}

export interface SamplerOptions {
  targetTps: number;
  errorTps: number;
  rareSampler: boolean;
  /** The agent's default env: rates for it are also published under `env:` (empty). */
  defaultEnv: string;
  now?: () => number;
}

export interface ChunkContext {
  root: Span;
  /** The chunk's env (its spans', else the agent's default). */
  env: string;
  /** P0 chunks the tracer dropped itself, spread over the payload's chunks. */
  extraWeight: number;
}

const MAX_SCORE_SIGNATURES = 100;
const RARE_TPS = 5;
const RARE_BURST = 50;
const RARE_COOLDOWN_MS = 5 * 60_000;
const RARE_PRIORITY_TTL_MS = 10 * 60_000;
const MAX_RARE_SHARDS = 1000;

export function chunkPriority(chunk: TraceChunk, root: Span): number | undefined {
  const p = root.metrics['_sampling_priority_v1'] ?? chunk[0]?.metrics['_sampling_priority_v1'];
  return p === undefined ? undefined : Math.trunc(p);
}

/** 1 / (_sample_rate x _dd1.sr.rapre), each factor counted only when in (0, 1]. */
function weight(root: Span): number {
  let w = 1;
  for (const k of ['_sample_rate', '_dd1.sr.rapre']) {
    const r = root.metrics[k];
    if (r !== undefined && r > 0 && r <= 1) w /= r;
  }
  return w;
}

function hasError(chunk: TraceChunk): boolean {
  for (const s of chunk) if (s.error !== 0) return true;
  return false;
}

function isTopLevelOrMeasured(s: Span): boolean {
  return s.metrics['_top_level'] === 1 || s.metrics['_dd.top_level'] === 1 || s.metrics['_dd.measured'] === 1;
}

/** The score samplers' signature: the root's shape combined with the set of span shapes. */
export function scoreSignature(chunk: TraceChunk, root: Span, env: string): number {
  const shape = (s: Span) => fnv32a(env, s.service, s.name, s.error !== 0 ? '1' : '0', s.meta['http.status_code'] ?? '', s.meta['error.type'] ?? '');
  let sig = fnv32a(env, root.service, root.name, root.error !== 0 ? '1' : '0', root.resource, root.meta['http.status_code'] ?? '', root.meta['error.type'] ?? '');
  for (const h of new Set(chunk.map(shape))) sig = (sig ^ h) >>> 0;
  return sig;
}

class ScoreSampler {
  readonly rates: TpsRates<number>;
  constructor(tps: number, private readonly rateKey: string) {
    this.rates = new TpsRates<number>(tps, MAX_SCORE_SIGNATURES * 2);
  }

  sample(chunk: TraceChunk, root: Span, ctx: ChunkContext, nowMs: number): boolean {
    let sig = scoreSignature(chunk, root, ctx.env);
    if (!this.rates.has(sig) && this.rates.size >= MAX_SCORE_SIGNATURES) sig %= MAX_SCORE_SIGNATURES;
    this.rates.count(sig, weight(root) + ctx.extraWeight, nowMs);
    const rate = this.rates.rate(sig);
    const rootRate = root.metrics['_sample_rate'] ?? 1;
    if (!sampleByRate(root.traceId, rootRate * rate)) return false;
    root.metrics[this.rateKey] = rate;
    return true;
  }
}

class RareSampler {
  private readonly seen = new Map<string, Map<number, number>>();
  private tokens = RARE_BURST;
  private lastRefill = 0;

  private sig(s: Span): number {
    return fnv32a(s.service, s.name, s.error !== 0 ? '1' : '0', s.resource, s.meta['http.status_code'] ?? '', s.meta['error.type'] ?? '');
  }

  private shard(env: string, service: string): Map<number, number> {
    const key = `${env}\u0000${service}`;
    let m = this.seen.get(key);
    if (!m) {
      // Bounded like everything fed by tracers: the oldest shard goes first.
      if (this.seen.size >= MAX_RARE_SHARDS) this.seen.delete(this.seen.keys().next().value!);
      m = new Map();
      this.seen.set(key, m);
    }
    return m;
  }

  private record(chunk: TraceChunk, env: string, expires: number): void {
    for (const s of chunk) {
      if (!isTopLevelOrMeasured(s)) continue;
      const shard = this.shard(env, s.service);
      const sig = this.sig(s);
      if (shard.size >= 200 && !shard.has(sig)) continue;
      const prev = shard.get(sig) ?? 0;
      if (expires - prev >= 60_000) shard.set(sig, expires);
    }
  }

  /** True when the chunk has a span shape not seen lately (and the 5/s budget allows). */
  sample(chunk: TraceChunk, env: string, priority: number | undefined, nowMs: number): boolean {
    if (priority !== undefined && priority > 0) {
      this.record(chunk, env, nowMs + RARE_PRIORITY_TTL_MS);
      return false;
    }
    this.tokens = Math.min(RARE_BURST, this.tokens + ((nowMs - this.lastRefill) / 1000) * RARE_TPS);
    this.lastRefill = nowMs;
    for (const s of chunk) {
      if (!isTopLevelOrMeasured(s)) continue;
      const expires = this.shard(env, s.service).get(this.sig(s));
      if (expires !== undefined && expires > nowMs) continue;
      if (this.tokens < 1) return false;
      this.tokens -= 1;
      s.metrics['_dd.rare'] = 1;
      this.record(chunk, env, nowMs + RARE_COOLDOWN_MS);
      return true;
    }
    return false;
  }
}

export class TraceSampler {
  private readonly priority: TpsRates<string>;
  private readonly noPriority: ScoreSampler;
  private readonly errors: ScoreSampler | undefined;
  private readonly rare: RareSampler | undefined;
  private readonly now: () => number;
  private readonly started = Math.floor(Date.now() / 1000).toString(16);

  constructor(private readonly o: SamplerOptions) {
    this.priority = new TpsRates<string>(o.targetTps);
    this.noPriority = new ScoreSampler(o.targetTps, '_dd.no_p_sr');
    this.errors = o.errorTps > 0 ? new ScoreSampler(o.errorTps, '_dd.errors_sr') : undefined;
    this.rare = o.rareSampler ? new RareSampler() : undefined;
    this.now = o.now ?? Date.now;
  }

  sample(chunk: TraceChunk, ctx: ChunkContext): SamplingDecision {
    const nowMs = this.now();
    const { root } = ctx;
    const priority = chunkPriority(chunk, root);
    const rare = this.rare?.sample(chunk, ctx.env, priority, nowMs) ?? false;
    if (priority !== undefined && priority < 0) return { keep: false, reason: 'user_reject' };
    if (rare) return { keep: true, reason: 'rare' };
    let keep: boolean;
    let reason: SamplingReason;
    if (priority !== undefined) {
      if (priority === 0 || priority === 1) {
        const key = `service:${root.service},env:${ctx.env}`;
        this.priority.count(key, weight(root) + ctx.extraWeight, nowMs);
        if (priority === 1 && root.parentId === 0n && root.metrics['_dd.agent_psr'] === undefined && root.metrics['_dd.rule_psr'] === undefined && root.metrics['_sampling_priority_rate_v1'] === undefined) {
          root.metrics['_sampling_priority_rate_v1'] = this.priority.rate(key);
        }
      }
      keep = priority > 0;
      reason = keep ? (priority >= 2 ? 'user_keep' : 'priority') : 'priority_drop';
    } else {
      keep = this.noPriority.sample(chunk, root, ctx, nowMs);
      reason = keep ? 'no_priority' : 'no_priority_drop';
    }
    if (!keep && this.errors && hasError(chunk) && this.errors.sample(chunk, root, ctx, nowMs)) return { keep: true, reason: 'errors' };
    return { keep, reason };
  }

  /** The body of `rate_by_service` and its version, as the Datadog Agent publishes them. */
  ratesByService(): { version: string; rates: Record<string, number> } {
    this.priority.advance(this.now());
    const rates: Record<string, number> = {};
    let any = false;
    for (const [key, { rate }] of this.priority.entries()) {
      any = true;
      const r = Math.min(1, Math.max(0, rate));
      rates[key] = r;
      const envSuffix = `,env:${this.o.defaultEnv}`;
      if (key.endsWith(envSuffix)) rates[key.slice(0, -envSuffix.length) + ',env:'] = r;
    }
    if (any) rates['service:,env:'] = Math.min(1, Math.max(0, this.priority.getDefaultRate()));
    return { version: `${this.started}-${this.priority.version.toString(16)}`, rates };
  }
}
