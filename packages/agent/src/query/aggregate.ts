import { newSketch, type ServiceStatsRow, type StatsRow } from '../store/index.js';
import type { ApiGroupField, ApiService, ApiStatsGroup, ApiStatsPoint, ApiStatsValues } from './api-types.js';

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

  add(r: Pick<StatsRow, 'hits' | 'errors' | 'totalDuration' | 'okSketch' | 'errorSketch'>): void {
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
  const accs = new Map<string, { acc: Acc; versions: Set<string>; first: bigint; last: bigint }>();
  for (const r of rows) {
    const k = String(r[field]);
    let a = accs.get(k);
    if (!a) {
      a = { acc: new Acc(), versions: new Set(), first: r.start, last: r.start + r.durationNs };
      accs.set(k, a);
    }
    a.acc.add(r);
    if (r.version) a.versions.add(r.version);
    if (r.start < a.first) a.first = r.start;
    if (r.start + r.durationNs > a.last) a.last = r.start + r.durationNs;
  }
  return [...accs].map(([key, a]) => ({ key, versions: [...a.versions].sort(), firstSeen: a.first.toString(), lastSeen: a.last.toString(), ...a.acc.values() })).sort((x, y) => y.hits - x.hits);
}

/** Span types of calls out and connections: never a service's primary operation while it has another. */
const CLIENT_TYPES = new Set(['http', 'dns', 'tcp', 'net', 'sql', 'db', 'cache', 'redis', 'memcached', 'mongodb', 'elasticsearch', 'opensearch', 'cassandra']);
const entryRank = (type: string): number => (type === 'web' || type === 'serverless' || type === 'worker' ? 2 : CLIENT_TYPES.has(type) ? 0 : 1);

/**
 * The services list from the services rollup (top-level stats, counted before sampling, so exact
 * whatever is kept): each service's requests are the top-level spans of its primary operation,
 * a server's before an internal one's before a client call's, then the one with the most of them;
 * a `dns.lookup` at start-up is not a request of a web service. Latency and errors are that
 * operation's.
 */
export function servicesFromStats(rows: ServiceStatsRow[]): ApiService[] {
  const byService = new Map<string, ServiceStatsRow[]>();
  for (const r of rows) {
    const key = `${r.service}\u0000${r.env}`;
    const list = byService.get(key);
    if (list) list.push(r);
    else byService.set(key, [r]);
  }
  const out: ApiService[] = [];
  for (const list of byService.values()) {
    const byName = new Map<string, { hits: number; rank: number }>();
    for (const r of list) {
      const o = byName.get(r.name) ?? { hits: 0, rank: entryRank(r.type) };
      o.hits += r.topLevelHits;
      byName.set(r.name, o);
    }
    // The primary operation: an entry's (a server's) before an internal one's before a client's
    // (dd-trace's dns.lookup roots are as many as a script's own root spans), then the most hits.
    const [operation, { hits: requests }] = [...byName].reduce((a, b) =>
      (b[1].rank > a[1].rank || (b[1].rank === a[1].rank && (b[1].hits > a[1].hits || (b[1].hits === a[1].hits && b[0] < a[0]))) ? b : a));
    const acc = new Acc();
    const versions = new Set<string>();
    let lastSeen = 0n;
    let firstSeen = -1n;
    let type = '';
    for (const r of list) {
      if (r.name !== operation) continue;
      acc.add(r);
      if (r.version) versions.add(r.version);
      if (r.lastSeen > lastSeen) lastSeen = r.lastSeen;
      if (firstSeen < 0n || r.firstSeen < firstSeen) firstSeen = r.firstSeen;
      type ||= r.type;
    }
    const v = acc.values();
    out.push({
      service: list[0]!.service, env: list[0]!.env, type, operation, hits: Math.round(requests * 1000) / 1000, errors: v.errors,
      lastSeen: lastSeen.toString(), firstSeen: firstSeen.toString(), avgDuration: v.avgDuration, p50: v.p50, p95: v.p95, p99: v.p99, versions: [...versions].sort(),
    });
  }
  return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.env < b.env ? -1 : a.env > b.env ? 1 : 0));
}
