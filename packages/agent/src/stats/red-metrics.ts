import type { DDSketch } from '@datadog/sketches-js';
import type { StatsRow } from '../store/index.js';

/*
 * RED metrics out, for the stacks people already alert with (Prometheus, Grafana, Alertmanager,
 * Amazon Managed Prometheus): every stats bucket this agent counts (before sampling; the tracers'
 * own /v0.6/stats too) summed since the process started, as counters and a latency histogram per
 * service, env, resource and status class, in OpenMetrics text. As the OpenTelemetry Collector's
 * spanmetrics connector: the requests are the service entry spans, the label set is bounded
 * (past MAX_SERIES, a new resource is counted under `other`), each agent counts what it received
 * (Prometheus sums them).
 */

/** The spanmetrics connector's default buckets, seconds. */
export const BUCKETS_S = [0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15] as const;
/** Label sets at most; a resource past it is `other` (its service, env and status class kept). */
export const MAX_SERIES = 2000;
export const OTHER = 'other';

interface Series {
  labels: string;
  requests: number;
  errors: number;
  sumS: number;
  /** Per bucket, not cumulative; the last is above every bound. */
  buckets: number[];
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const statusClass = (code: number) => (code >= 100 && code < 600 ? `${Math.floor(code / 100)}xx` : 'none');

/**
 * A sketch's counts by bucket: each bin counted where its value (within the sketch's 1% of every
 * value in it) falls, so a latency within 1% of a bound may be on its other side.
 */
function addSketch(into: number[], s: DDSketch): void {
  if (s.count === 0) return;
  into[0]! += s.zeroCount;
  const store = s.store as unknown as { bins: number[]; offset: number };
  const mapping = s.mapping as unknown as { value(key: number): number };
  store.bins.forEach((n, i) => {
    if (n === 0) return;
    const seconds = mapping.value(store.offset + i) / 1e9;
    let b = 0;
    while (b < BUCKETS_S.length && seconds > BUCKETS_S[b]!) b++;
    into[b]! += n;
  });
}

export class RedMetrics {
  private readonly series = new Map<string, Series>();

  /** Stats rows as they are written: the groups of service entry spans only (a service's requests). */
  add(rows: readonly StatsRow[]): void {
    addRows(this.series, rows);
  }

  /**
   * OpenMetrics text (ends with `# EOF`), with the buckets still open (`pending`) counted too: a
   * scrape sees what came in up to now, and a bucket's counts only grow until it is written, when
   * they move into the totals, so the counters never go back.
   */
  render(pending: readonly StatsRow[] = []): string {
    const series = new Map([...this.series].map(([k, s]) => [k, { ...s, buckets: [...s.buckets] }]));
    addRows(series, pending);
    return renderSeries(series);
  }
}

function addRows(series: Map<string, Series>, rows: readonly StatsRow[]): void {
  for (const r of rows) {
    if (!(r.topLevelHits > 0)) continue;
    const cls = statusClass(r.httpStatusCode);
    let labels = `service="${escape(r.service)}",env="${escape(r.env)}",resource="${escape(r.resource)}",status_class="${cls}"`;
    let s = series.get(labels);
    if (s === undefined && series.size >= MAX_SERIES) {
      labels = `service="${escape(r.service)}",env="${escape(r.env)}",resource="${OTHER}",status_class="${cls}"`;
      s = series.get(labels);
    }
    if (s === undefined) {
      s = { labels, requests: 0, errors: 0, sumS: 0, buckets: new Array<number>(BUCKETS_S.length + 1).fill(0) };
      series.set(labels, s);
    }
    s.requests += r.hits;
    s.errors += r.errors;
    s.sumS += r.totalDuration / 1e9;
    addSketch(s.buckets, r.okSketch);
    addSketch(s.buckets, r.errorSketch);
  }
}

function renderSeries(series: Map<string, Series>): string {
  const all = [...series.values()].sort((a, b) => (a.labels < b.labels ? -1 : 1));
  const out: string[] = [
    '# TYPE ecs_trace_requests counter', '# HELP ecs_trace_requests Requests: service entry spans, counted before sampling.',
    ...all.map((s) => `ecs_trace_requests_total{${s.labels}} ${s.requests}`),
    '# TYPE ecs_trace_errors counter', '# HELP ecs_trace_errors Requests that failed.',
    ...all.map((s) => `ecs_trace_errors_total{${s.labels}} ${s.errors}`),
    '# TYPE ecs_trace_request_duration_seconds histogram', '# HELP ecs_trace_request_duration_seconds Request latency (bucketed from the stats sketches, to their 1%).',
    '# UNIT ecs_trace_request_duration_seconds seconds',
  ];
  for (const s of all) {
    let cumulative = 0;
    BUCKETS_S.forEach((le, i) => {
      cumulative += s.buckets[i]!;
      out.push(`ecs_trace_request_duration_seconds_bucket{${s.labels},le="${le}"} ${cumulative}`);
    });
    cumulative += s.buckets[BUCKETS_S.length]!;
    out.push(`ecs_trace_request_duration_seconds_bucket{${s.labels},le="+Inf"} ${cumulative}`);
    out.push(`ecs_trace_request_duration_seconds_sum{${s.labels}} ${s.sumS}`);
    out.push(`ecs_trace_request_duration_seconds_count{${s.labels}} ${cumulative}`);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}
