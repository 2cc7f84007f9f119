/*
 * Keep-by-rate on the trace id, as the Datadog Agent and every Datadog tracer decide it:
 * (trace_id x 1111111111111111111) mod 2^64 < rate x (2^64 - 1). Deterministic, so every process
 * and agent that sees a trace makes the same decision.
 */

const KNUTH = 1111111111111111111n;
const MASK = (1n << 64n) - 1n;
const MAX_U64 = Number(MASK);

export function sampleByRate(traceId: bigint, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return Number((BigInt.asUintN(64, traceId) * KNUTH) & MASK) < rate * MAX_U64;
}
