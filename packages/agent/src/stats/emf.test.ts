import { describe, expect, it } from 'vitest';
import { newSketch, type StatsRow } from '../store/index.js';
import { emfSpecViolations as specViolations } from '../../../../e2e/emf-spec.js';
import { emfLines, type EmfLine } from './emf.js';

const row = (service: string, env: string, ms: number[], errors: number, topLevel = true): StatsRow => {
  const ok = newSketch();
  const err = newSketch();
  ms.forEach((d, i) => (i < errors ? err : ok).accept(d * 1e6));
  return {
    start: 0n, durationNs: 10_000_000_000n, service, name: 'web.request', resource: 'GET /', type: 'web', env, version: '', httpStatusCode: 200, spanKind: 'server',
    isTraceRoot: true, synthetics: false, peerTags: [], hits: ms.length, topLevelHits: topLevel ? ms.length : 0, errors, totalDuration: 0, okSketch: ok, errorSketch: err, source: 'agent',
  };
};

describe('CloudWatch EMF lines', () => {
  it('one per service, env and operation per flush, with requests, errors and latency percentiles, as the specification asks', () => {
    const lines = emfLines([row('shop', 'prod', [10, 20, 30, 40], 1), row('shop', 'prod', [50], 0), row('shop', 'staging', [5], 0), row('shop', 'prod', [1], 0, false)], 'ecs-trace', 1_795_576_142_000);
    expect(lines.map((l) => [l.Service, l.Environment, l.Requests, l.Errors])).toEqual([['shop', 'prod', 5, 1], ['shop', 'staging', 1, 0]]);
    const prod = lines[0]!;
    expect(prod._aws.Timestamp).toBe(1_795_576_142_000);
    expect(prod.LatencyP50).toBeCloseTo(30, -0.5);
    // DDSketch's rank for 0.99 of five values is the fourth (40 ms), to the sketch's 1%.
    expect(prod.LatencyP99).toBeCloseTo(40, -0.5);
    for (const l of lines) expect(specViolations(JSON.parse(JSON.stringify(l)) as EmfLine)).toEqual([]);
    // The checker catches what CloudWatch would drop.
    expect(specViolations({ ...prod, Requests: 'five' })).toEqual(['metric Requests has no number']);
    expect(specViolations({ ...prod, _aws: { ...prod._aws, Timestamp: '2026' } })).toEqual(['Timestamp is not an integer of ms']);
  });
});
