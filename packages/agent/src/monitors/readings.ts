import { newSketch, type ErrorData, type ErrorStatusRecord, type RollupReader, type ServiceStatsRow, type StatsQuery, type StatsRow } from '../store/index.js';
import type { Monitor } from './definition.js';
import type { Reading } from './evaluate.js';

/*
 * What a monitor reads over its window, from what the agent already keeps exactly whatever is
 * sampled: the stats (RED metrics of a service's requests, its entry spans) and the error
 * rollups. Never spans: a hundred monitors cost a hundred small reads a round.
 */

const MS = 1_000_000n;
/** How far back "new" looks: a group not seen in the week before the window is new. */
export const NEW_GROUP_LOOKBACK_MS = 7 * 86_400_000;

export interface ReadingSources {
  stats: { query(q: StatsQuery): Promise<StatsRow[]> };
  /** Per service, env, operation and version over a range: read from the rollup's slots, so a window of a day is a few dozen rows a group. */
  serviceStats?: (range: { start: bigint; end: bigint }) => Promise<ServiceStatsRow[]>;
  rollups: RollupReader;
  statuses?: () => Promise<ErrorStatusRecord[]>;
}

const groupId = (key: string) => key.slice(key.lastIndexOf('\u001f') + 1);

/**
 * Reads monitors a round at a time: the monitors of a round that share a window share its reads
 * (every service's stats over the window in one read of the services rollup, the error rollups
 * once), so a round costs a read per distinct window rather than per monitor (bench/README.md:
 * 100 monitors on a day of stats).
 */
export class MonitorReader {
  private round = -1;
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(private readonly s: ReadingSources) {}

  private once<T>(now: number, key: string, read: () => Promise<T>): Promise<T> {
    if (now !== this.round) {
      this.round = now;
      this.cache.clear();
    }
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) this.cache.set(key, p = read());
    return p;
  }

  async read(m: Monitor, now: number): Promise<Reading> {
    if (m.metric === 'new_error_group' || m.metric === 'regressed_error_group' || m.metric === 'error_group_count') return this.readErrors(m, now, BigInt(now - m.windowMs) * MS, BigInt(now) * MS);
    const current = await this.readWindow(m, now, now);
    if (m.compareToMs === undefined) return current;
    // The change against the same window a day or a week before, in %: nothing then, nothing to compare.
    const before = await this.readWindow(m, now, now - m.compareToMs);
    if (current.value === undefined || before.value === undefined || before.value === 0) return { value: undefined, requests: current.requests };
    return { value: (100 * (current.value - before.value)) / before.value, requests: current.requests };
  }

  /** The monitor's metric over its window ending at `end` (ms), in the round of `now`. */
  private async readWindow(m: Monitor, now: number, endMs: number): Promise<Reading> {
    const end = BigInt(endMs) * MS;
    const start = BigInt(endMs - m.windowMs) * MS;
    let rows: Pick<StatsRow, 'hits' | 'errors' | 'okSketch' | 'errorSketch'>[];
    if (m.resource === undefined && this.s.serviceStats) {
      const all = await this.once(now, `services:${m.windowMs}:${now - endMs}`, () => this.s.serviceStats!({ start, end }));
      rows = all.filter((r) => r.service === m.service && (!m.env || r.env === m.env) && (!m.version || r.version === m.version) && (!m.operation || r.name === m.operation));
    } else {
      rows = await this.s.stats.query({
        service: m.service, topLevel: true, start, end,
        ...(m.env ? { env: m.env } : {}), ...(m.version ? { version: m.version } : {}), ...(m.resource ? { resource: m.resource } : {}), ...(m.operation ? { name: m.operation } : {}),
      });
    }
    return readingOf(m, rows);
  }

  /** Error groups of the service in the window: how many are new (not seen the week before), or resolved and back. */
  private async readErrors(m: Monitor, now: number, start: bigint, end: bigint): Promise<Reading> {
    const meets = (d: ErrorData) => d.service === m.service && (!m.env || d.env === m.env) && (!m.version || d.version === m.version);
    const recent = (await this.once(now, `errors:${m.windowMs}`, () => this.s.rollups.readRollups('error', { start, end }))).filter((r) => meets(r.data as ErrorData));
    if (m.metric === 'error_group_count') {
      // Its occurrences in the window (rows of any slot within it: counted once each).
      const count = recent.filter((r) => groupId(r.key) === m.group).reduce((n, r) => n + (r.data as ErrorData).count, 0);
      return { value: count, requests: count };
    }
    const seen = new Map<string, number>();
    for (const r of recent) seen.set(groupId(r.key), Math.max(seen.get(groupId(r.key)) ?? 0, (r.data as ErrorData).lastSeen));
    if (m.metric === 'new_error_group') {
      const before = await this.once(now, `errors-before:${m.windowMs}`, () => this.s.rollups.readRollups('error', { start: start - BigInt(NEW_GROUP_LOOKBACK_MS) * MS, end: start }));
      const old = new Set(before.filter((r) => meets(r.data as ErrorData)).map((r) => groupId(r.key)));
      return { value: [...seen.keys()].filter((id) => !old.has(id)).length, requests: seen.size };
    }
    const statuses = new Map((await this.once(now, 'statuses', () => this.s.statuses?.() ?? Promise.resolve([]))).map((x) => [x.group, x]));
    const back = [...seen].filter(([id, last]) => {
      const st = statuses.get(id);
      return st?.status === 'resolved' && last > Number(st.changedAt / MS);
    });
    return { value: back.length, requests: seen.size };
  }
}

/** A monitor's value from the stats rows of its window. */
function readingOf(m: Monitor, rows: readonly Pick<StatsRow, 'hits' | 'errors' | 'okSketch' | 'errorSketch'>[]): Reading {
  let hits = 0;
  let errors = 0;
  const sketch = newSketch();
  const latency = m.metric.startsWith('latency_');
  for (const r of rows) {
    hits += r.hits;
    errors += r.errors;
    if (latency && r.okSketch.count > 0) sketch.merge(r.okSketch);
    if (latency && r.errorSketch.count > 0) sketch.merge(r.errorSketch);
  }
  if (hits === 0) return { value: undefined, requests: 0 };
  const quantile = { latency_p50: 0.5, latency_p75: 0.75, latency_p90: 0.9, latency_p95: 0.95, latency_p99: 0.99, latency_max: 1 } as const;
  if (m.metric === 'apdex') return { value: apdexOf(rows, m.apdexTMs! * 1e6, hits), requests: hits };
  const value = m.metric === 'request_rate' ? hits / (m.windowMs / 1000)
    : m.metric === 'error_rate' ? (100 * errors) / hits
    : m.metric === 'error_count' ? errors
    // Latency thresholds are in ms, as people write them; the sketches hold ns.
    : sketch.count > 0 ? sketch.getValueAtQuantile(quantile[m.metric as keyof typeof quantile]) / 1e6 : undefined;
  return { value, requests: hits };
}

/**
 * Apdex: (satisfied + tolerated / 2) / requests, satisfied within T, tolerated within 4T; a
 * failed request is frustrated whatever its latency (Datadog counts it so). From the sketches'
 * bins, each within 1% of its values: a request within 1% of T or 4T may be counted either side.
 */
function apdexOf(rows: readonly Pick<StatsRow, 'okSketch'>[], tNs: number, requests: number): number {
  let satisfied = 0;
  let tolerated = 0;
  for (const r of rows) {
    const s = r.okSketch;
    if (s.count === 0) continue;
    satisfied += s.zeroCount;
    const store = s.store as unknown as { bins: number[]; offset: number };
    const mapping = s.mapping as unknown as { value(key: number): number };
    store.bins.forEach((n, i) => {
      if (n === 0) return;
      const v = mapping.value(store.offset + i);
      if (v <= tNs) satisfied += n;
      else if (v <= 4 * tNs) tolerated += n;
    });
  }
  return (satisfied + tolerated / 2) / requests;
}

/** One monitor read on its own (tests; a round reads through a MonitorReader). */
export function readMonitor(m: Monitor, now: number, s: ReadingSources): Promise<Reading> {
  return new MonitorReader(s).read(m, now);
}
