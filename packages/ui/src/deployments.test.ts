import { describe, expect, it } from 'vitest';
import type { ApiErrorGroup as ErrorGroup, ApiStatsGroup as StatsGroup } from '@ecs-trace/agent/api-types';
import { judgeNewest, newErrorGroups } from './deployments.js';

const v = (key: string, first: number, hits: number, errors: number, p95: number): StatsGroup => ({
  key, versions: [key], firstSeen: String(BigInt(first) * 1_000_000_000n), lastSeen: '0', hits, errors, avgDuration: 0, totalDuration: 0, p50: p95 / 2, p75: null, p95, p99: null, max: null,
});

describe('deployment tracking', () => {
  it('marks the newest version faulty when its error rate is significantly higher or its p95 1.2x', () => {
    expect(judgeNewest([v('1.0', 0, 1000, 10, 100), v('1.1', 60, 800, 60, 100)])).toEqual({ version: '1.1', previous: '1.0', faulty: true, reasons: ['error rate 7.5% against 1.0%'] });
    expect(judgeNewest([v('1.1', 60, 800, 8, 130), v('1.0', 0, 1000, 10, 100)])).toMatchObject({ version: '1.1', faulty: true, reasons: ['p95 1.30x'] });
  });

  it('says nothing bad of a version as good as the last, and nothing at all on too little traffic', () => {
    expect(judgeNewest([v('1.0', 0, 1000, 10, 100), v('1.1', 60, 1000, 12, 105)])).toMatchObject({ faulty: false, reasons: [] });
    // 2 errors in 40 requests against 1 in 1000: too few requests to tell.
    expect(judgeNewest([v('1.0', 0, 1000, 1, 100), v('1.1', 60, 40, 2, 100)])).toBeUndefined();
    expect(judgeNewest([v('1.0', 0, 1000, 1, 100)])).toBeUndefined();
    // First seen in one bucket: which is newer cannot be told.
    expect(judgeNewest([v('1.0', 60, 1000, 10, 100), v('1.1', 60, 800, 60, 100)])).toBeUndefined();
  });
});

const g = (id: string, versions: [string | null, number][]): ErrorGroup => ({
  id, service: 's', resource: 'r', errorType: 'E', message: 'm', count: 1, firstSeen: 0, lastSeen: 0, sampleTraceIds: [], status: 'open',
  versions: versions.map(([version, count]) => ({ version, count, firstSeen: 0, lastSeen: 0 })),
});

describe('error groups new in a version', () => {
  it("are those seen in it and in no version deployed before it in the range; the range's first version has none to tell", () => {
    const versions = [v('1.0', 0, 100, 1, 1), v('1.1', 60, 100, 5, 1), v('1.2', 120, 100, 5, 1)];
    const fresh = newErrorGroups([
      g('old', [['1.0', 3], ['1.1', 2]]),
      g('from-1.1', [['1.1', 4], ['1.2', 1]]),
      g('from-1.2', [['1.2', 2]]),
      g('unknown', [[null, 2], ['1.2', 1]]),
    ], versions);
    expect([...fresh.entries()].map(([k, gs]) => [k, gs.map((x) => x.id)])).toEqual([['1.1', ['from-1.1']], ['1.2', ['from-1.2']]]);
    // Two versions first seen in one bucket: which came first cannot be told, so neither is judged.
    expect(newErrorGroups([g('x', [['1.1', 1]])], [v('1.0', 60, 1, 0, 1), v('1.1', 60, 1, 0, 1)]).has('1.1')).toBe(false);
  });
});
