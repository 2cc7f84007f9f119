import { describe, expect, it } from 'vitest';
import { parseMonitors } from './definition.js';
import { nextState, notifies, type MonitorState } from './evaluate.js';

const monitor = (extra: string) => parseMonitors(`monitors: [{ id: m, service: s, metric: error_rate, ${extra} }]`).monitors[0]!;

/** The states a monitor goes through over a series of readings. */
function walk(extra: string, values: (number | undefined)[], requests = 100): MonitorState[] {
  const m = monitor(extra);
  let s: MonitorState = 'OK';
  return values.map((value) => (s = nextState(m, { value, requests }, s)));
}

describe('monitor states', () => {
  it('warns, alerts and recovers at its thresholds', () => {
    expect(walk('warning: 2, critical: 5', [1, 3, 6, 4, 1])).toEqual(['OK', 'WARN', 'ALERT', 'WARN', 'OK']);
  });

  it('stays alerting until the value is past its recovery threshold (no flapping at the threshold)', () => {
    expect(walk('critical: 5, recovery: 2', [6, 4.9, 5.1, 3, 1.9, 3])).toEqual(['ALERT', 'ALERT', 'ALERT', 'ALERT', 'OK', 'OK']);
    expect(walk('warning: 3, critical: 5, recovery: 1', [4, 2, 0.5])).toEqual(['WARN', 'WARN', 'OK']);
  });

  it('below: a request rate that falls', () => {
    const m = parseMonitors('monitors: [{ id: m, service: s, metric: request_rate, comparison: below, warning: 10, critical: 1 }]').monitors[0]!;
    expect([20, 5, 0.5].map((value) => nextState(m, { value, requests: 100 }, 'OK'))).toEqual(['OK', 'WARN', 'ALERT']);
  });

  it('has no data without requests, or with fewer than its minimum: as its no_data says', () => {
    expect(walk('critical: 5, min_requests: 20', [50], 10)).toEqual(['NO DATA']);
    expect(walk('critical: 5', [undefined])).toEqual(['NO DATA']);
    expect(walk('critical: 5, no_data: ok', [undefined])).toEqual(['OK']);
    expect(walk('critical: 5, no_data: alert', [undefined])).toEqual(['ALERT']);
  });
});

describe('which changes are told', () => {
  const m = monitor('critical: 5');
  const told = (extra: string, from: MonitorState | undefined, to: MonitorState) => notifies(monitor(extra), from, to);
  it('alerts, warnings and their recoveries; NO DATA only when asked; a first state only when it is bad', () => {
    expect(notifies(m, 'OK', 'ALERT')).toBe(true);
    expect(notifies(m, 'ALERT', 'OK')).toBe(true);
    expect(notifies(m, 'NO DATA', 'ALERT')).toBe(true);
    expect(notifies(m, undefined, 'ALERT')).toBe(true);
    expect(notifies(m, undefined, 'OK')).toBe(false);
    expect(notifies(m, undefined, 'NO DATA')).toBe(false);
    expect(notifies(m, 'OK', 'NO DATA')).toBe(false);
    expect(notifies(m, 'NO DATA', 'OK')).toBe(false);
    expect(told('critical: 5, no_data: notify', 'OK', 'NO DATA')).toBe(true);
    expect(told('critical: 5, no_data: notify', 'NO DATA', 'OK')).toBe(true);
  });
});
