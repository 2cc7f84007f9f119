import { sampleByRate } from '@ecs-trace/protocol';
import { AUTO_KEEP, AUTO_REJECT, USER_KEEP, USER_REJECT, type SpanImpl } from './span.js';

/*
 * Priority sampling for traces that start here: a rule rate (DD_TRACE_SAMPLE_RATE) when set,
 * else the rate the agent sent back for this service and env in rate_by_service, else keep.
 * Decided by the trace id, the same way the agent and dd-trace do, so every process agrees.
 */

/** Deterministic keep-by-rate on the trace id, the same function the agent uses. */
export const keepByRate = sampleByRate;

export class PrioritySampler {
  private rates: Record<string, number> = {};

  constructor(private readonly ruleRate: number | undefined) {}

  updateRates(rates: Record<string, number>): void {
    this.rates = rates;
  }

  /** Sets the trace's priority and the matching tags on its local root, once. */
  sample(root: SpanImpl, env: string): void {
    const ctx = root.context();
    const trace = ctx.trace;
    if (trace.priority !== undefined) return;
    let rate: number;
    if (this.ruleRate !== undefined) {
      rate = this.ruleRate;
      root.metrics['_dd.rule_psr'] = rate;
      trace.priority = keepByRate(ctx.traceId, rate) ? USER_KEEP : USER_REJECT;
      if (trace.priority > 0) trace.tags['_dd.p.dm'] = '-3';
      return;
    }
    const key = `service:${root.service},env:${env}`;
    const agentRate = this.rates[key] ?? this.rates['service:,env:'];
    rate = agentRate ?? 1;
    if (agentRate !== undefined) root.metrics['_dd.agent_psr'] = rate;
    trace.priority = keepByRate(ctx.traceId, rate) ? AUTO_KEEP : AUTO_REJECT;
    if (trace.priority > 0) trace.tags['_dd.p.dm'] = agentRate !== undefined ? '-1' : '-0';
  }
}
