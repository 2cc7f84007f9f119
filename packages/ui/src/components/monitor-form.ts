import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, type Monitor } from '../api.js';

/*
 * A monitor made in the UI: the fields of the monitors file's shape, sent as they are; the agent
 * checks them as it checks the file and its message names the field that is wrong.
 */

const METRICS: [string, string][] = [
  ['error_rate', 'error rate (%)'], ['request_rate', 'request rate (req/s)'], ['error_count', 'error count'],
  ['latency_p50', 'latency p50 (ms)'], ['latency_p75', 'latency p75 (ms)'], ['latency_p90', 'latency p90 (ms)'], ['latency_p95', 'latency p95 (ms)'], ['latency_p99', 'latency p99 (ms)'], ['latency_max', 'latency max (ms)'],
  ['apdex', 'Apdex (0 to 1)'], ['new_error_group', 'a new error group'], ['regressed_error_group', 'a resolved error group back'], ['error_group_count', 'an error group\'s occurrences'],
];
const WINDOWS = ['1m', '5m', '15m', '1h', '4h', '1d'];

const windowOf = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`);

/** A new monitor, or (`editing`) one made here before, its fields filled in. */
export function MonitorForm(props: { channels: string[]; services: string[]; done: () => void; editing?: Monitor | undefined; cancel?: () => void }) {
  const m = props.editing;
  const [failed, setFailed] = useState<string | undefined>(undefined);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const text = (k: string) => String(f.get(k) ?? '').trim();
    const num = (k: string) => (text(k) === '' ? undefined : Number(text(k)));
    const metric = text('metric');
    const events = metric.endsWith('error_group');
    const body: Record<string, unknown> = {
      id: text('id'), name: text('name') || text('id'), service: text('service'), metric, window: text('window'), comparison: text('comparison'),
      ...(text('env') ? { env: text('env') } : {}),
      ...(num('warning') !== undefined && !events ? { warning: num('warning') } : {}),
      ...(num('critical') !== undefined ? { critical: num('critical') } : {}),
      ...(num('min_requests') !== undefined && !events ? { min_requests: num('min_requests') } : {}),
      ...(metric === 'apdex' && num('apdex_t') !== undefined ? { apdex_t: num('apdex_t') } : {}),
      ...(text('compare_to') ? { compare_to: text('compare_to') } : {}),
      ...(metric === 'error_group_count' ? { group: text('group') } : {}),
      notify: props.channels.filter((c) => f.get(`notify-${c}`) === 'on'),
    };
    setFailed(undefined);
    api.saveMonitor(body, m?.id).then(() => { (e.target as HTMLFormElement).reset(); props.done(); }, (err: Error) => setFailed(err.message));
  };
  const value = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  return html`<form class="monitor-form" data-testid="monitor-form" key=${m?.id ?? 'new'} onSubmit=${submit}>
    <h2>${m ? `Change ${m.id}` : 'New monitor'}</h2>
    <div class="form-row">
      <label>id <input name="id" required pattern="[a-z0-9][a-z0-9._\\-]{0,63}" placeholder="checkout-errors" defaultValue=${m?.id ?? ''} readOnly=${m !== undefined} /></label>
      <label>name <input name="name" placeholder="Checkout error rate" defaultValue=${m?.name ?? ''} /></label>
      <label>service <input name="service" required list="monitor-services" defaultValue=${m?.service ?? ''} /></label>
      <datalist id="monitor-services">${props.services.map((s) => html`<option value=${s} />`)}</datalist>
      <label>env <input name="env" placeholder="all" defaultValue=${m?.env ?? ''} /></label>
    </div>
    <div class="form-row">
      <label>when <select name="metric">${METRICS.map(([v, l]) => html`<option value=${v} selected=${v === (m?.metric ?? 'error_rate')}>${l}</option>`)}</select></label>
      <label>over <select name="window">${WINDOWS.map((w) => html`<option value=${w} selected=${w === (m ? windowOf(m.windowMs) : '5m')}>${w}</option>`)}</select></label>
      <label>as <select name="compare_to">${[['', 'its value'], ['1d', 'its change (%) against a day before'], ['1w', 'its change (%) against a week before']].map(([v, l]) => html`<option value=${v} selected=${v === (m?.compareToMs ? (m.compareToMs === 86_400_000 ? '1d' : '1w') : '')}>${l}</option>`)}</select></label>
      <label>goes <select name="comparison"><option value="above">above</option><option value="below" selected=${m?.comparison === 'below'}>below</option></select></label>
      <label>Apdex T (ms) <input name="apdex_t" type="number" min="1" step="any" defaultValue=${value(m?.apdexTMs)} /></label>
      <label>error group <input name="group" placeholder="id, from its page" pattern="[0-9a-f]{16}" /></label>
      <label>warning <input name="warning" type="number" step="any" defaultValue=${value(m?.warning)} /></label>
      <label>critical <input name="critical" type="number" step="any" defaultValue=${value(m?.critical)} /></label>
      <label>with at least <input name="min_requests" type="number" min="0" step="1" defaultValue=${value(m?.minRequests)} /> requests</label>
    </div>
    <div class="form-row">notify ${props.channels.length === 0 ? html`<span class="muted">nobody: channels are named in the monitors file (their secrets stay there)</span>`
      : props.channels.map((c) => html`<label><input type="checkbox" name=${`notify-${c}`} defaultChecked=${m?.notify.includes(c) ?? false} /> ${c}</label>`)}
      <button type="submit">${m ? 'Save' : 'Create'}</button>${m && props.cancel ? html` <button type="button" onClick=${props.cancel}>Cancel</button>` : null}
    </div>
    ${failed ? html`<p class="error" role="alert" data-testid="monitor-form-error">${failed}</p>` : null}
  </form>`;
}
