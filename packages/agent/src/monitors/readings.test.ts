import { describe, expect, it } from 'vitest';
import { newSketch, type StatsQuery, type StatsRow } from '../store/index.js';
import { parseMonitors } from './definition.js';
import { readMonitor } from './readings.js';

/* What monitors read from the stats: Apdex from the sketches, and a change against a day before. */

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const row = (atMs: number, okMs: number[], errors: number): StatsRow => {
  const ok = newSketch();
  okMs.forEach((d) => ok.accept(d * 1e6));
  const err = newSketch();
  for (let i = 0; i < errors; i++) err.accept(5e6);
  return {
    start: BigInt(atMs) * 1_000_000n, durationNs: 10_000_000_000n, service: 'shop', name: 'web.request', resource: 'GET /', type: 'web', env: 'prod', version: '1', httpStatusCode: 200,
    spanKind: 'server', isTraceRoot: true, synthetics: false, peerTags: [], hits: okMs.length + errors, topLevelHits: okMs.length + errors, errors, totalDuration: 0, okSketch: ok, errorSketch: err, source: 'agent',
  };
};
const sources = (rows: StatsRow[]) => ({
  stats: { query: async (q: StatsQuery) => rows.filter((r) => r.start >= q.start && r.start < q.end && r.service === q.service) },
  rollups: { readRollups: async () => [] },
});
const monitor = (extra: string) => parseMonitors(`monitors: [{ id: m, service: shop, ${extra} }]`).monitors[0]!;

describe('monitor readings', () => {
  it('Apdex: satisfied within T, tolerated within 4T at half, failures frustrated', async () => {
    // 6 at 100 ms, 2 at 300 ms, 1 at 1 s, 1 failed: (6 + 2/2) / 10.
    const rows = [row(NOW - 60_000, [100, 100, 100, 100, 100, 100, 300, 300, 1000], 1)];
    expect(await readMonitor(monitor('metric: apdex, apdex_t: 200, comparison: below, critical: 0.8'), NOW, sources(rows))).toEqual({ value: 0.7, requests: 10 });
  });

  it('a change against the same window a day before, in %', async () => {
    const rows = [row(NOW - 60_000, new Array<number>(20).fill(10), 0), row(NOW - 86_400_000 - 60_000, new Array<number>(10).fill(10), 0)];
    const m = monitor('metric: request_rate, compare_to: 1d, comparison: above, critical: 50');
    expect(await readMonitor(m, NOW, sources(rows))).toEqual({ value: 100, requests: 20 });
    // Nothing the day before: nothing to compare (no data, not an infinite rise).
    expect(await readMonitor(m, NOW, sources([rows[0]!]))).toEqual({ value: undefined, requests: 20 });
  });

  it("one error group's occurrences in the window, from the error rollups", async () => {
    const rollup = (group: string, service: string, count: number) => ({ key: `prod\u001f${service}\u001f1.0\u001f${group}`, data: { service, env: 'prod', errorType: 'E', message: 'm', resource: '', count, firstSeen: 0, lastSeen: 0, samples: [], version: '1.0' } });
    const s = { ...sources([]), rollups: { readRollups: async () => [rollup('00000000000000aa', 'shop', 3), rollup('00000000000000aa', 'shop', 4), rollup('00000000000000bb', 'shop', 9), rollup('00000000000000aa', 'cart', 5)] } };
    expect(await readMonitor(monitor('metric: error_group_count, group: 00000000000000aa, critical: 5'), NOW, s)).toEqual({ value: 7, requests: 7 });
    expect(() => monitor('metric: error_group_count, group: nope')).toThrow(/^monitors\[0\]\.group: "nope" is not an error group's id/);
    expect(() => monitor('metric: error_rate, critical: 5, group: 00000000000000aa')).toThrow(/^monitors\[0\]\.group: is for metric: error_group_count only/);
  });

  it('refuses what they cannot read, naming the field', () => {
    expect(() => monitor('metric: apdex, critical: 0.8')).toThrow(/^monitors\[0\]\.apdex_t: is required for apdex/);
    expect(() => monitor('metric: apdex, apdex_t: 300, critical: 80')).toThrow(/^monitors\[0\]\.critical: an Apdex is from 0 to 1/);
    expect(() => monitor('metric: error_rate, critical: 5, compare_to: 1h')).toThrow(/^monitors\[0\]\.compare_to: "1h" is not one of: 1d, 1w/);
    expect(() => monitor('metric: new_error_group, compare_to: 1d')).toThrow(/^monitors\[0\]\.compare_to: compares a metric of the stats/);
  });
});
