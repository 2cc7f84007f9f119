import type { ApiStatsGroup as StatsGroup } from '@ecs-trace/agent/api-types';

/*
 * A range against another one before it (the period just before, or the same period a day or
 * a week earlier): the service's requests, error rate and latency then and now, in words.
 */

export const COMPARISONS = { previous: 'the period before', '1d': 'a day before', '1w': 'a week before' } as const;
export type Comparison = keyof typeof COMPARISONS;

/** The range to compare `range` (ms) with. */
export function earlier(range: { start: number; end: number }, c: Comparison): { start: number; end: number } {
  const shift = c === 'previous' ? range.end - range.start : c === '1d' ? 86_400_000 : 7 * 86_400_000;
  return { start: range.start - shift, end: range.end - shift };
}

const change = (now: number, then: number) => (then === 0 ? (now === 0 ? '±0%' : 'new') : `${now >= then ? '+' : '−'}${Math.abs(Math.round((100 * (now - then)) / then))}%`);
const ms = (ns: number | null) => (ns === null ? '—' : `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`);
const pct = (g: { hits: number; errors: number } | undefined) => (g && g.hits > 0 ? `${((100 * g.errors) / g.hits).toFixed(1)}%` : '—');

/** `requests +20% (240 against 200), error rate 13.3% (was 1.7%), p50 ..., p99 ...`; nothing then: said so. */
export function describeChange(now: StatsGroup | undefined, then: StatsGroup | undefined): string {
  if (!then || then.hits === 0) return 'no requests then';
  const hits = now?.hits ?? 0;
  return `requests ${change(hits, then.hits)} (${Math.round(hits)} against ${Math.round(then.hits)}), error rate ${pct(now)} (was ${pct(then)}), p50 ${ms(now?.p50 ?? null)} (was ${ms(then.p50)}), p99 ${ms(now?.p99 ?? null)} (was ${ms(then.p99)})`;
}
