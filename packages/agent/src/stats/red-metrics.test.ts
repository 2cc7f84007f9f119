import { describe, expect, it } from 'vitest';
import { newSketch, type StatsRow } from '../store/index.js';
import { MAX_SERIES, RedMetrics } from './red-metrics.js';

const row = (resource: string, durationsMs: number[], errors: number, extra: Partial<StatsRow> = {}): StatsRow => {
  const ok = newSketch();
  const err = newSketch();
  durationsMs.forEach((d, i) => (i < errors ? err : ok).accept(d * 1e6));
  return {
    start: 0n, durationNs: 10_000_000_000n, service: 'shop', name: 'web.request', resource, type: 'web', env: 'prod', version: '1', httpStatusCode: errors ? 500 : 200,
    spanKind: 'server', isTraceRoot: true, synthetics: false, peerTags: [], hits: durationsMs.length, topLevelHits: durationsMs.length, errors,
    totalDuration: durationsMs.reduce((a, b) => a + b, 0) * 1e6, okSketch: ok, errorSketch: err, source: 'agent', ...extra,
  };
};

describe('RED metrics', () => {
  it('counts requests, errors and a latency histogram per service, env, resource and status class', () => {
    const red = new RedMetrics();
    red.add([row('GET /cart', [1, 3, 30, 300, 3000], 0), row('GET /cart', [250, 20], 2), row('GET /cart', [5], 0)]);
    // A span that is not a service's request is no request.
    red.add([{ ...row('SELECT ?', [1], 0), topLevelHits: 0 }]);
    const text = red.render();
    expect(text).toContain('ecs_trace_requests_total{service="shop",env="prod",resource="GET /cart",status_class="2xx"} 6\n');
    expect(text).toContain('ecs_trace_errors_total{service="shop",env="prod",resource="GET /cart",status_class="5xx"} 2\n');
    const bucket = (le: string, cls = '2xx') => Number(new RegExp(`ecs_trace_request_duration_seconds_bucket\\{service="shop",env="prod",resource="GET /cart",status_class="${cls}",le="${le.replace('+', '\\+')}"\\} (\\S+)`).exec(text)![1]);
    expect([bucket('0.002'), bucket('0.004'), bucket('0.006'), bucket('0.05'), bucket('0.4'), bucket('5'), bucket('+Inf')]).toEqual([1, 2, 3, 4, 5, 6, 6]);
    expect(text).toContain('ecs_trace_request_duration_seconds_count{service="shop",env="prod",resource="GET /cart",status_class="2xx"} 6\n');
    expect(text).toMatch(/ecs_trace_request_duration_seconds_sum\{service="shop",env="prod",resource="GET \/cart",status_class="2xx"\} 3.339\d*\n/);
    expect(text).not.toContain('SELECT');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('bounds its label sets: past the limit a new resource is counted as other', () => {
    const red = new RedMetrics();
    red.add(Array.from({ length: MAX_SERIES + 5 }, (_, i) => row(`GET /item/${i}`, [1], 0)));
    const text = red.render();
    expect(text.match(/^ecs_trace_requests_total/gm)).toHaveLength(MAX_SERIES + 1);
    expect(text).toContain('ecs_trace_requests_total{service="shop",env="prod",resource="other",status_class="2xx"} 5\n');
    // Names with quotes and backslashes are escaped as the format asks.
    const odd = new RedMetrics();
    odd.add([row('say "hi" \\ now', [1], 0)]);
    expect(odd.render()).toContain('resource="say \\"hi\\" \\\\ now"');
  });
});
