import { describe, expect, it } from 'vitest';
import type { ApiStatsGroup as StatsGroup } from '@ecs-trace/agent/api-types';
import { describeChange, earlier } from './period-compare.js';

const g = (hits: number, errors: number, p50: number, p99: number): StatsGroup => ({ key: 's', versions: [], firstSeen: '0', lastSeen: '0', hits, errors, avgDuration: 0, totalDuration: 0, p50, p75: null, p95: null, p99, max: null });

describe('a range against one before it', () => {
  it('is the period just before, or the same a day or a week earlier', () => {
    const hour = { start: 10 * 3_600_000, end: 11 * 3_600_000 };
    expect(earlier(hour, 'previous')).toEqual({ start: 9 * 3_600_000, end: 10 * 3_600_000 });
    expect(earlier(hour, '1d')).toEqual({ start: hour.start - 86_400_000, end: hour.end - 86_400_000 });
    expect(earlier(hour, '1w')).toEqual({ start: hour.start - 7 * 86_400_000, end: hour.end - 7 * 86_400_000 });
  });

  it('says what changed, and that there was nothing to compare with', () => {
    expect(describeChange(g(240, 32, 4e6, 9e6), g(200, 2, 3e6, 8e6))).toBe('requests +20% (240 against 200), error rate 13.3% (was 1.0%), p50 4.00 ms (was 3.00 ms), p99 9.00 ms (was 8.00 ms)');
    expect(describeChange(g(50, 0, 1e6, 1e6), g(100, 0, 1e6, 1e6))).toMatch(/^requests −50% /);
    expect(describeChange(g(50, 0, 1e6, 1e6), undefined)).toBe('no requests then');
  });
});
