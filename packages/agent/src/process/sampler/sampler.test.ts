import { emptySpan, type Span, type TraceChunk } from '@ecs-trace/protocol';
import { describe, expect, it } from 'vitest';
import { TraceSampler } from './sampler.js';
import { sampleByRate, TpsRates } from './tps.js';

/*
 * The sampler driven by a simulated clock and a simulated tracer that applies the rates it is
 * sent back, as dd-trace does with rate_by_service.
 */

let nextId = 1n;
function chunk(o: { service?: string; env?: string; priority?: number; error?: boolean; resource?: string; sampleRate?: number } = {}): TraceChunk {
  const id = nextId++;
  const root: Span = { ...emptySpan(), traceId: id * 7919n, spanId: id, service: o.service ?? 'web', name: 'web.request', resource: o.resource ?? 'GET /', error: o.error ? 1 : 0 };
  root.meta = { env: o.env ?? 'prod' };
  root.metrics = { _top_level: 1 };
  if (o.priority !== undefined) root.metrics['_sampling_priority_v1'] = o.priority;
  if (o.sampleRate !== undefined) root.metrics['_sample_rate'] = o.sampleRate;
  return [root];
}

function sampler(now: () => number, o: Partial<ConstructorParameters<typeof TraceSampler>[0]> = {}) {
  return new TraceSampler({ targetTps: 10, errorTps: 10, rareSampler: false, defaultEnv: 'prod', now, ...o });
}

const decide = (s: TraceSampler, c: TraceChunk, extraWeight = 0) => s.sample(c, { root: c[0]!, env: c[0]!.meta['env'] ?? 'prod', extraWeight });

describe('priority sampler feedback', () => {
  it('converges on the target TPS for a service sending 10x the target, keeping errors', () => {
    let now = 1_000_000_000;
    const s = sampler(() => now);
    let keptByPriority = 0;
    let errorsSent = 0;
    let errorsKept = 0;
    for (let second = 0; second < 120; second++) {
      const rate = s.ratesByService().rates['service:web,env:prod'] ?? 1;
      for (let i = 0; i < 100; i++) {
        now += 10;
        const error = i % 20 === 0; // 5 errors a second
        const c = chunk({ error });
        // The tracer: AUTO_KEEP with the agent's rate, by trace id, as dd-trace does.
        c[0]!.metrics['_sampling_priority_v1'] = sampleByRate(c[0]!.traceId, rate) ? 1 : 0;
        const d = decide(s, c);
        if (second < 60) continue; // converging
        if (d.reason === 'priority') keptByPriority++;
        if (error) {
          errorsSent++;
          if (d.keep) errorsKept++;
        }
      }
    }
    // 100 traces/s against a target of 10/s: within 20% of the target once converged.
    expect(keptByPriority / 60).toBeGreaterThan(8);
    expect(keptByPriority / 60).toBeLessThan(12);
    expect(s.ratesByService().rates['service:web,env:prod']).toBeCloseTo(0.1, 1);
    // Errors sampled out by priority are rescued by the errors sampler (5/s is under its 10/s).
    expect(errorsSent).toBe(300);
    expect(errorsKept).toBe(errorsSent);
  });

  it('publishes rates per service and env, under the empty env for the default env, and a default rate', () => {
    let now = 0;
    const s = sampler(() => now);
    expect(s.ratesByService().rates).toEqual({});
    for (let i = 0; i < 500; i++) { decide(s, chunk({ priority: 1 })); decide(s, chunk({ priority: 1, service: 'api', env: 'staging' })); now += 10; }
    now += 5000;
    const { rates, version } = s.ratesByService();
    expect(Object.keys(rates).sort()).toEqual(['service:,env:', 'service:api,env:', 'service:api,env:staging', 'service:web,env:', 'service:web,env:prod'].filter((k) => k !== 'service:api,env:'));
    expect(rates['service:web,env:prod']).toBe(rates['service:web,env:']);
    expect(rates['service:web,env:prod']).toBeLessThan(1);
    expect(version).toMatch(/^[0-9a-f]+-[0-9a-f]+$/);
  });

  it('raises a rate by at most x1.2 per update when traffic falls', () => {
    let now = 0;
    const s = sampler(() => now);
    for (let i = 0; i < 1000; i++) { decide(s, chunk({ priority: 1 })); now += 5; } // 200/s for 5 s
    const rates: number[] = [];
    for (let second = 0; second < 150; second++) { decide(s, chunk({ priority: 1 })); now += 1000; rates.push(s.ratesByService().rates['service:web,env:prod']!); } // then 1/s
    for (let i = 1; i < rates.length; i++) expect(rates[i]!).toBeLessThanOrEqual(rates[i - 1]! * 1.2 + 1e-12);
    expect(rates[0]).toBeLessThan(0.1);
    expect(rates.at(-1)).toBe(1);
  });

  it('counts P0 traces the tracer dropped itself toward the observed TPS', () => {
    let now = 0;
    const s = sampler(() => now);
    // 10 kept traces a second arrive, each standing for 9 more that the tracer dropped.
    for (let i = 0; i < 300; i++) { decide(s, chunk({ priority: 1 }), 9); now += 100; }
    expect(s.ratesByService().rates['service:web,env:prod']).toBeCloseTo(0.1, 1);
  });

  it('marks kept roots with the rate it applied', () => {
    const s = sampler(() => 0);
    const c = chunk({ priority: 1 });
    decide(s, c);
    expect(c[0]!.metrics['_sampling_priority_rate_v1']).toBe(1);
  });
});

describe('decisions', () => {
  it('keeps priority 1 and 2, drops 0 and -1, by reason', () => {
    const s = sampler(() => 0);
    expect(decide(s, chunk({ priority: 2 }))).toEqual({ keep: true, reason: 'user_keep' });
    expect(decide(s, chunk({ priority: 1 }))).toEqual({ keep: true, reason: 'priority' });
    expect(decide(s, chunk({ priority: 0 }))).toEqual({ keep: false, reason: 'priority_drop' });
    expect(decide(s, chunk({ priority: -1 }))).toEqual({ keep: false, reason: 'user_reject' });
  });

  it('lets the errors sampler rescue a P0 error, but never a user reject', () => {
    const s = sampler(() => 0);
    const c = chunk({ priority: 0, error: true });
    expect(decide(s, c)).toEqual({ keep: true, reason: 'errors' });
    expect(c[0]!.metrics['_dd.errors_sr']).toBe(1);
    expect(decide(s, chunk({ priority: -1, error: true }))).toEqual({ keep: false, reason: 'user_reject' });
    expect(decide(sampler(() => 0, { errorTps: 0 }), chunk({ priority: 0, error: true }))).toEqual({ keep: false, reason: 'priority_drop' });
  });

  it('samples chunks without a priority to the target TPS', () => {
    let now = 0;
    const s = sampler(() => now);
    let kept = 0;
    for (let i = 0; i < 12_000; i++) {
      now += 10; // 100/s for 120 s
      const d = decide(s, chunk({}));
      if (i >= 6000 && d.keep) kept++;
    }
    expect(kept / 60).toBeGreaterThan(8);
    expect(kept / 60).toBeLessThan(12);
  });

  it('keeps a rare shape when the rare sampler is on, once', () => {
    const s = sampler(() => 0, { rareSampler: true });
    const first = chunk({ priority: 0, resource: 'GET /rare' });
    expect(decide(s, first)).toEqual({ keep: true, reason: 'rare' });
    expect(first[0]!.metrics['_dd.rare']).toBe(1);
    expect(decide(s, chunk({ priority: 0, resource: 'GET /rare' }))).toEqual({ keep: false, reason: 'priority_drop' });
    // A shape kept by priority is not rare afterwards.
    decide(s, chunk({ priority: 1, resource: 'GET /common' }));
    expect(decide(s, chunk({ priority: 0, resource: 'GET /common' })).reason).toBe('priority_drop');
  });
});

describe('sampleByRate', () => {
  it('keeps about rate x n trace ids, the same ones every time', () => {
    let kept = 0;
    for (let i = 1n; i <= 100_000n; i++) if (sampleByRate(i * 104729n, 0.25)) kept++;
    expect(kept / 100_000).toBeCloseTo(0.25, 2);
    expect(sampleByRate(42n, 0.5)).toBe(sampleByRate(42n, 0.5));
  });
});

describe('TpsRates', () => {
  it('gives quiet signatures rate 1 and what they leave to the busy one', () => {
    let now = 0;
    const r = new TpsRates<string>(10);
    for (let i = 0; i < 30; i++) { r.count('quiet', 1, now); now += 1000; } // 1/s
    now = 0;
    for (let i = 0; i < 3000; i++) { r.count('busy', 1, now); now += 10; } // 100/s
    r.advance(now + 5000);
    expect(r.rate('quiet')).toBe(1);
    expect(r.rate('busy')).toBeCloseTo(0.09, 2);
  });
});
