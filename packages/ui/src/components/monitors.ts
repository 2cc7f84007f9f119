import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, type Monitor } from '../api.js';
import { clock } from '../format.js';

/*
 * Monitors and their states, as the monitors page lists them all and a service page its own:
 * what each watches and at which thresholds, its value now, since when it is in its state, its
 * transitions (and whether each channel took the notification), and a test send.
 */

const UNIT: Record<string, string> = {
  request_rate: ' req/s', error_rate: '%', error_count: '', latency_p50: ' ms', latency_p75: ' ms', latency_p90: ' ms', latency_p95: ' ms', latency_p99: ' ms', latency_max: ' ms',
  new_error_group: ' new groups', regressed_error_group: ' groups back', error_group_count: ' occurrences', apdex: '',
};
const shown = (m: Monitor, v: number | null) => (v === null ? '—' : `${Math.round(v * 100) / 100}${m.compareToMs !== null ? '%' : UNIT[m.metric] ?? ''}`);
const windowText = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`);
const badge = (s: string | null) => html`<span class=${`badge ${s === 'ALERT' ? 'err' : s === 'WARN' ? 'warn' : s === 'OK' ? 'ok' : ''}`} data-testid="monitor-state">${s ?? 'not yet evaluated'}</span>`;

/** `error rate > 5% (warn > 2%) over 5m`. */
export function conditionOf(m: Monitor): string {
  const op = m.comparison === 'above' ? '>' : '<';
  const what = `${m.metric.replace(/_/g, ' ')}${m.apdexTMs !== null ? ` (T ${m.apdexTMs} ms)` : ''}${m.compareToMs !== null ? ` change against ${m.compareToMs === 86_400_000 ? 'a day' : 'a week'} before` : ''}`;
  return `${what} ${op} ${shown(m, m.critical)}${m.warning !== null ? ` (warn ${op} ${shown(m, m.warning)})` : ''} over ${windowText(m.windowMs)}`;
}

function TestButton(props: { id: string }) {
  const [result, setResult] = useState<string | undefined>(undefined);
  const run = () => {
    setResult('sending…');
    api.testMonitor(props.id).then(
      (r) => setResult(r.results.length === 0 ? 'no channel to notify' : r.results.map((x) => `${x.channel}: ${x.ok ? 'sent' : `failed (${x.error})`}`).join(', ')),
      (err: Error) => setResult(err.message),
    );
  };
  return html`<button type="button" data-testid="monitor-test" onClick=${run}>Test</button>${result ? html` <span class="muted" data-testid="monitor-test-result">${result}</span>` : null}`;
}

const MUTES: [string, number][] = [['1 h', 3_600_000], ['4 h', 14_400_000], ['1 day', 86_400_000], ['1 week', 7 * 86_400_000]];

/** Mute for a time, or unmute: for every replica; the table reloads to show it. */
function MuteControl(props: { m: Monitor; changed: () => void }) {
  const [failed, setFailed] = useState<string | undefined>(undefined);
  const set = (until: number | null) => { setFailed(undefined); api.muteMonitor(props.m.id, until).then(props.changed, (err: Error) => setFailed(err.message)); };
  const muted = props.m.mutedUntil !== undefined;
  return html`${muted ? html`<span class="badge warn" data-testid="monitor-muted">muted until ${clock(props.m.mutedUntil!, 'date').slice(0, 16)}</span> <button type="button" data-testid="monitor-unmute" onClick=${() => set(null)}>Unmute</button>`
    : html`<select data-testid="monitor-mute" aria-label="Mute" value="" onChange=${(e: Event) => { const v = Number((e.target as HTMLSelectElement).value); if (v > 0) set(Date.now() + v); }}>
      <option value="">Mute…</option>${MUTES.map(([label, ms]) => html`<option value=${ms}>for ${label}</option>`)}</select>`}${failed ? html` <span class="error">${failed}</span>` : null}`;
}

export function MonitorsTable(props: { monitors: Monitor[]; showService: boolean; changed?: () => void; edit?: (m: Monitor) => void }) {
  return html`<table class="grid" data-testid="monitors-table">
    <thead><tr><th>State</th><th>Monitor</th>${props.showService ? html`<th>Service</th>` : null}<th>Alerts when</th><th class="num">Now</th><th>Since</th><th>Notifies</th><th></th></tr></thead>
    <tbody>${props.monitors.map((m) => html`<tr data-testid="monitor-row" data-monitor=${m.id}>
      <td>${badge(m.state)}${m.elsewhere ? html` <span class="muted" title="With a shared store one process evaluates the monitors">evaluated by another replica</span>` : null}${m.problem ? html` <span class="error" title=${m.problem}>cannot read</span>` : null}</td>
      <td><b>${m.name}</b>${m.history.length > 0 ? html`<details><summary class="muted">${m.history.length} transition${m.history.length === 1 ? '' : 's'}</summary><ul class="links" data-testid="monitor-history">
        ${m.history.map((h) => html`<li>${clock(h.at, 'date')}: ${h.from ?? 'start'} → ${h.to} at ${shown(m, h.value)}${h.notified ? ` · ${h.sent.length === 0 ? 'sending' : h.sent.map((s) => `${s.channel} ${s.ok ? 'took it' : `did not (${s.error ?? ''})`}`).join(', ')}` : h.muted ? ' · muted' : ' · not told'}</li>`)}
      </ul></details>` : null}</td>
      ${props.showService ? html`<td><a href=${`/services/${encodeURIComponent(m.service)}${m.env ? `?env=${encodeURIComponent(m.env)}` : ''}`}>${m.service}</a>${m.env ? html` <span class="muted">${m.env}</span>` : null}</td>` : null}
      <td>${conditionOf(m)}${m.minRequests > 0 ? html` <span class="muted">(at least ${m.minRequests} requests)</span>` : null}</td>
      <td class="num" data-testid="monitor-value">${shown(m, m.value)}</td>
      <td>${m.state ? clock(m.since, 'date') : '—'}</td>
      <td>${m.notify.join(', ') || html`<span class="muted">nobody</span>`}</td>
      <td>${m.notify.length > 0 ? html`<${TestButton} id=${m.id} /> <${MuteControl} m=${m} changed=${props.changed ?? (() => undefined)} />` : null}
        ${m.source === 'ui' && props.edit ? html` <button type="button" data-testid="monitor-edit" onClick=${() => props.edit!(m)}>Edit</button>` : null}
        ${m.source === 'ui' ? html` <button type="button" data-testid="monitor-delete" onClick=${() => { api.deleteMonitor(m.id).then(props.changed ?? (() => undefined), () => undefined); }}>Delete</button>` : null}</td>
    </tr>`)}</tbody>
  </table>`;
}
