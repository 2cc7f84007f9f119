import { describe, expect, it } from 'vitest';
import { parseMonitors } from './definition.js';

/* A monitors file as people write it: what it means, and a clear error naming the field for what it cannot mean. */

const FILE = `
ui_url: https://tracing.example.com
channels:
  - { name: ops, kind: slack, url: "https://hooks.slack.com/services/T/B/x" }
  - { name: pager, kind: pagerduty, routing_key: R0UT1NG }
  - name: hook
    kind: webhook
    url: http://127.0.0.1:9/hook
    secret: s3cret
    headers: { X-Team: payments }
monitors:
  - id: checkout-errors
    name: Checkout error rate
    service: checkout
    env: prod
    metric: error_rate
    window: 5m
    warning: 2
    critical: 5
    recovery: 1
    min_requests: 20
    notify: [ops, pager]
    renotify: 1h
  - { id: checkout-p95, service: checkout, metric: latency_p95, critical: 800, notify: [hook] }
  - { id: checkout-new-errors, service: checkout, metric: new_error_group, window: 1h, notify: [ops] }
`;

describe('a monitors file', () => {
  it('reads YAML (and JSON, a part of it) with its defaults', () => {
    const f = parseMonitors(FILE);
    expect(f.uiUrl).toBe('https://tracing.example.com');
    expect(f.channels.map((c) => [c.name, c.kind])).toEqual([['ops', 'slack'], ['pager', 'pagerduty'], ['hook', 'webhook']]);
    expect(f.channels[2]).toMatchObject({ secret: 's3cret', headers: { 'X-Team': 'payments' } });
    expect(f.monitors[0]).toMatchObject({ id: 'checkout-errors', name: 'Checkout error rate', env: 'prod', windowMs: 300_000, comparison: 'above', warning: 2, critical: 5, recovery: 1, minRequests: 20, noData: 'no_data', notify: ['ops', 'pager'], renotifyMs: 3_600_000 });
    expect(f.monitors[1]).toMatchObject({ name: 'checkout-p95', windowMs: 300_000, renotifyMs: 0, minRequests: 0 });
    // An error-tracking monitor fires on any new group and has nothing to say without errors.
    expect(f.monitors[2]).toMatchObject({ metric: 'new_error_group', critical: 0, noData: 'ok', windowMs: 3_600_000 });
    expect(parseMonitors(JSON.stringify({ monitors: [{ id: 'a', service: 's', metric: 'request_rate', comparison: 'below', critical: 1 }] })).monitors[0]).toMatchObject({ comparison: 'below', critical: 1 });
    expect(parseMonitors('')).toEqual({ monitors: [], channels: [] });
  });

  it.each([
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 5, threshold: 3 }]', /^monitors\[0\]\.threshold: is not a field \(id, name, service/],
    ['monitors: [{ id: a, service: s, metric: errors, critical: 5 }]', /^monitors\[0\]\.metric: "errors" is not one of: request_rate, error_rate/],
    ['monitors: [{ id: a, service: s, metric: error_rate }]', /^monitors\[0\]\.critical: is required/],
    ['monitors: [{ id: a, metric: error_rate, critical: 1 }]', /^monitors\[0\]\.service: is required/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 5, window: 30s }]', /^monitors\[0\]\.window: 30s is outside 1m to 24h/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 5, window: soon }]', /^monitors\[0\]\.window: "soon" is not a duration/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 5, warning: 8 }]', /^monitors\[0\]\.warning: 8 must come before critical \(5\)/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 5, recovery: 6 }]', /^monitors\[0\]\.recovery: 6 must be on the good side of critical \(5\)/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 500 }]', /^monitors\[0\]\.critical: an error rate is a percentage/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: "5" }]', /^monitors\[0\]\.critical: "5" is not a number/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 5, notify: [nobody] }]', /^monitors\[0\]\.notify\[0\]: "nobody" is not a channel of this file \(none\)/],
    ['monitors: [{ id: A B, service: s, metric: error_rate, critical: 5 }]', /^monitors\[0\]\.id: "A B": lower-case letters/],
    ['monitors: [{ id: a, service: s, metric: error_rate, critical: 5 }, { id: a, service: t, metric: error_rate, critical: 5 }]', /^monitors\[1\]\.id: "a" is used twice/],
    ['channels: [{ name: c, kind: fax, url: "http://x" }]', /^channels\[0\]\.kind: "fax" is not one of: webhook, slack, pagerduty, sns, email/],
    ['channels: [{ name: c, kind: webhook, url: "ftp://x" }]', /^channels\[0\]\.url: expected an http\(s\) URL/],
    ['channels: [{ name: c, kind: pagerduty }]', /^channels\[0\]\.routing_key: is required/],
    ['alerts: []', /^the monitors file\.alerts: is not a field \(monitors, channels, ui_url\)/],
    ['monitors: [', /^the monitors file: is not YAML or JSON/],
  ])('%s', (text, message) => {
    expect(() => parseMonitors(text)).toThrow(message);
  });
});

describe('secrets in a monitors file', () => {
  it('are taken from the environment by ${NAME}, so the file holds none; one not set names its field', () => {
    const text = 'channels: [{ name: team, kind: slack, url: "${SLACK_URL}" }, { name: pd, kind: pagerduty, routing_key: "${PD_KEY}" }]';
    const f = parseMonitors(text, 'monitors.yaml', { SLACK_URL: 'https://hooks.slack.com/services/T/B/secret', PD_KEY: 'R0UT1NG' });
    expect(f.channels.map((c) => c.url ?? c.routingKey)).toEqual(['https://hooks.slack.com/services/T/B/secret', 'R0UT1NG']);
    expect(() => parseMonitors(text, 'monitors.yaml', { SLACK_URL: 'https://x' })).toThrow(/^channels\[1\]\.routing_key: \$\{PD_KEY\} is not set in the environment$/);
  });
});
