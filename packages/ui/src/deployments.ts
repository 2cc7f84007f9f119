import type { ApiErrorGroup as ErrorGroup, ApiStatsGroup as StatsGroup } from '@ecs-trace/agent/api-types';

/*
 * Deployment tracking, as Datadog marks a faulty deployment: a service's version is deployed from
 * its first request in the range; the newest is compared with the one before it over the range's
 * traffic, and marked faulty when its error rate is significantly higher (a two-proportion z-test
 * above 3, and a point more at least) or its p95 is 1.2x the previous one's or more. Either side
 * with fewer than MIN_REQUESTS says nothing: too little to tell.
 */

export const MIN_REQUESTS = 50;

export interface Deployment {
  version: string;
  previous: string;
  faulty: boolean;
  /** What is worse, in words (empty when nothing is). */
  reasons: string[];
}

const byFirstSeen = (versions: readonly StatsGroup[]): StatsGroup[] =>
  [...versions].filter((v) => v.key !== '').sort((a, b) => (BigInt(a.firstSeen) < BigInt(b.firstSeen) ? -1 : BigInt(a.firstSeen) > BigInt(b.firstSeen) ? 1 : 0));

export function judgeNewest(versions: readonly StatsGroup[]): Deployment | undefined {
  const byFirst = byFirstSeen(versions);
  if (byFirst.length < 2) return undefined;
  const now = byFirst[byFirst.length - 1]!;
  const before = byFirst[byFirst.length - 2]!;
  // First seen in the same stats bucket: which came first cannot be told.
  if (now.firstSeen === before.firstSeen) return undefined;
  if (now.hits < MIN_REQUESTS || before.hits < MIN_REQUESTS) return undefined;
  const reasons: string[] = [];
  const p1 = now.errors / now.hits;
  const p0 = before.errors / before.hits;
  const pooled = (now.errors + before.errors) / (now.hits + before.hits);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / now.hits + 1 / before.hits));
  if (se > 0 && (p1 - p0) / se > 3 && p1 - p0 >= 0.01) reasons.push(`error rate ${(100 * p1).toFixed(1)}% against ${(100 * p0).toFixed(1)}%`);
  if (now.p95 !== null && before.p95 !== null && before.p95 > 0 && now.p95 >= 1.2 * before.p95) reasons.push(`p95 ${(now.p95 / before.p95).toFixed(2)}x`);
  return { version: now.key, previous: before.key, faulty: reasons.length > 0, reasons };
}


/**
 * The error groups new in each version: seen in it and in none of the versions deployed before it
 * in the range. The range's first version gets none (what came before the range is not read), nor
 * does a version deployed in the same stats bucket as the one before it, and a group with
 * occurrences counted before versions were kept is left out (where they came from is not known).
 */
export function newErrorGroups(groups: readonly ErrorGroup[], versions: readonly StatsGroup[]): Map<string, ErrorGroup[]> {
  const order = byFirstSeen(versions);
  const out = new Map<string, ErrorGroup[]>();
  for (let i = 1; i < order.length; i++) {
    const v = order[i]!;
    if (v.firstSeen === order[i - 1]!.firstSeen) continue;
    const earlier = new Set(order.slice(0, i).map((x) => x.key));
    const fresh = groups.filter((g) => !g.versions.some((x) => x.version === null)
      && g.versions.some((x) => x.version === v.key && x.count > 0)
      && !g.versions.some((x) => x.version !== null && earlier.has(x.version) && x.count > 0));
    out.set(v.key, fresh);
  }
  return out;
}
