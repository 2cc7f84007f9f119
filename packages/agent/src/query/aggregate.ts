import { newSketch, type StatsRow } from '../store/index.js';
import type { ApiGroupField, ApiStatsGroup, ApiStatsPoint, ApiStatsValues } from './api-types.js';

/*
 * Stats rows rolled up for the query API: a time series (hits, errors, latency percentiles per
 * step) or a table grouped by a field. Sketches merge exactly, so percentiles over any range are
 * as accurate as over one bucket.
 */

class Acc {
  hits = 0;
  errors = 0;
  total = 0;
  readonly sketch = newSketch();

  add(r: StatsRow): void {
    this.hits += r.hits;
    this.errors += r.errors;
    this.total += r.totalDuration;
    if (r.okSketch.count > 0) this.sketch.merge(r.okSketch);
    if (r.errorSketch.count > 0) this.sketch.merge(r.errorSketch);
  }

  values(): ApiStatsValues {
    const q = (x: number) => (this.sketch.count > 0 ? Math.round(this.sketch.getValueAtQuantile(x)) : null);
    return {
      hits: Math.round(this.hits * 1000) / 1000,
      errors: Math.round(this.errors * 1000) / 1000,
      avgDuration: this.hits > 0 ? Math.round(this.total / this.hits) : 0,
      totalDuration: Math.round(this.total),
      p50: q(0.5), p75: q(0.75), p95: q(0.95), p99: q(0.99), max: q(1),
    };
  }
}

export function timeSeries(rows: StatsRow[], start: bigint, end: bigint, stepNs: bigint): ApiStatsPoint[] {
  const accs = new Map<bigint, Acc>();
  for (let t = start - (start % stepNs); t < end; t += stepNs) accs.set(t, new Acc());
  for (const r of rows) {
    const t = r.start - (r.start % stepNs);
    accs.get(t)?.add(r);
  }
  return [...accs].map(([t, a]) => ({ time: t.toString(), ...a.values() }));
}


export function groupBy(rows: StatsRow[], field: ApiGroupField): ApiStatsGroup[] {
  const accs = new Map<string, { acc: Acc; versions: Set<string> }>();
  for (const r of rows) {
    const k = String(r[field]);
    let a = accs.get(k);
    if (!a) {
      a = { acc: new Acc(), versions: new Set() };
      accs.set(k, a);
    }
    a.acc.add(r);
    if (r.version) a.versions.add(r.version);
  }
  return [...accs].map(([key, a]) => ({ key, versions: [...a.versions].sort(), ...a.acc.values() })).sort((x, y) => y.hits - x.hits);
}
