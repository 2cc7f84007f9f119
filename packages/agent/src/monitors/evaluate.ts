import type { Monitor } from './definition.js';

/*
 * A monitor's state from what it read: OK, WARN, ALERT or NO DATA. An alert (or warning) ends
 * only when the value is back past its recovery threshold, when one is set, so a value hovering
 * at the threshold does not flap.
 */

export const STATES = ['OK', 'WARN', 'ALERT', 'NO DATA'] as const;
export type MonitorState = (typeof STATES)[number];

/** What a monitor read over its window: the value (undefined: nothing to compute it from) and the requests it rests on. */
export interface Reading {
  value: number | undefined;
  requests: number;
}

export function nextState(m: Monitor, r: Reading, prev: MonitorState): MonitorState {
  if (r.value === undefined || r.requests < m.minRequests) return m.noData === 'ok' ? 'OK' : m.noData === 'alert' ? 'ALERT' : 'NO DATA';
  const v = r.value;
  const beyond = (t: number) => (m.comparison === 'above' ? v > t : v < t);
  const state: MonitorState = beyond(m.critical) ? 'ALERT' : m.warning !== undefined && beyond(m.warning) ? 'WARN' : 'OK';
  if (m.recovery !== undefined && (prev === 'ALERT' || prev === 'WARN') && state !== 'ALERT' && beyond(m.recovery)) {
    // Not yet recovered: it stays as it was (a WARN that rose to ALERT is ALERT above).
    return prev === 'ALERT' ? 'ALERT' : state === 'OK' ? 'WARN' : state;
  }
  return state;
}

/**
 * Whether a change of state is told: an alert, a warning and their recovery are; NO DATA (and
 * the way back from it) only when the monitor asks (no_data: notify); a monitor's first state
 * (`from` undefined, at start) only when it is an alert or a warning.
 */
export function notifies(m: Monitor, from: MonitorState | undefined, to: MonitorState): boolean {
  if (to === 'ALERT' || to === 'WARN') return true;
  if (from === undefined) return false;
  if (to === 'NO DATA' || from === 'NO DATA') return m.noData === 'notify';
  return true;
}

/** The threshold a state is about, for messages. */
export function thresholdOf(m: Monitor, s: MonitorState): number | undefined {
  return s === 'ALERT' ? m.critical : s === 'WARN' ? m.warning : m.recovery ?? m.warning ?? m.critical;
}
