import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ago } from '../format.js';
import { describeClient, summarize } from '../tracer-settings.js';
import { useData } from './common.js';

/*
 * A service's tracer settings, served to its running tracers through remote configuration: the
 * sample rate and log injection per env (or every env), and each tracer polling with whether it
 * applied them. Read again every 2 s while shown, so "applied" appears as the tracers report it.
 */

export function TracerSettings(props: { service: string; envs: string[] }) {
  const [tick, setTick] = useState(0);
  const [failed, setFailed] = useState<string | undefined>(undefined);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 2000);
    return () => clearInterval(t);
  }, []);
  const { data } = useData(() => api.remoteConfig(props.service), [props.service, tick]);
  if (!data || (!data.editable && data.clients.length === 0)) return null;
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const env = String(f.get('env') ?? '*');
    const rate = String(f.get('rate') ?? '').trim();
    const logs = String(f.get('logs') ?? '');
    // Rules set through the API stay as they are.
    const had = data.settings.find((s) => s.env === env);
    const body = {
      service: props.service, env,
      ...(rate !== '' ? { sampleRate: Number(rate) / 100 } : {}),
      ...(logs !== '' ? { logInjection: logs === 'on' } : {}),
      ...(had?.samplingRules ? { samplingRules: had.samplingRules } : {}),
    };
    setFailed(undefined);
    api.saveTracerSettings(body).then(() => setTick((n) => n + 1), (err: Error) => setFailed(err.message));
  };
  const remove = (id: string) => {
    setFailed(undefined);
    api.removeTracerSettings(id).then(() => setTick((n) => n + 1), (err: Error) => setFailed(err.message));
  };
  return html`<section data-testid="tracer-settings">
    <h2>Tracer settings <span class="muted">(sent to the running tracers through remote configuration; applied at their next poll, without a restart)</span></h2>
    ${data.settings.length === 0 ? html`<p class="muted">None set: the tracers use their own settings and the agent's sampling rates.</p>` : html`<table class="grid" data-testid="tracer-settings-table">
      <thead><tr><th>Env</th><th>Settings</th><th>Version</th><th></th></tr></thead>
      <tbody>${data.settings.map((s) => html`<tr data-testid="tracer-setting-row"><td>${s.env === '*' ? 'every env' : s.env}</td><td>${summarize(s)}</td><td>v${s.version}</td>
        <td>${data.editable ? html`<button type="button" onClick=${() => remove(s.id)}>Remove</button>` : null}</td></tr>`)}</tbody></table>`}
    ${data.editable ? html`<form class="monitor-form" data-testid="tracer-settings-form" onSubmit=${submit}><div class="form-row">
      <label>env <select name="env"><option value="*">every env</option>${props.envs.filter((e) => e !== '').map((e) => html`<option value=${e}>${e}</option>`)}</select></label>
      <label>sample rate <input name="rate" type="number" min="0" max="100" step="any" placeholder="its own" size="8" /> %</label>
      <label>log injection <select name="logs"><option value="">the tracer's own</option><option value="on">on</option><option value="off">off</option></select></label>
      <button type="submit">Apply</button></div>
      ${failed ? html`<p class="error" role="alert" data-testid="tracer-settings-error">${failed}</p>` : null}</form>` : null}
    <h3>Tracers polling ${data.served ? 'this agent' : html`<span class="muted">(this process answers no tracer: each agent lists those polling it)</span>`}</h3>
    ${data.clients.length === 0 ? html`<p class="muted">None in the last 10 minutes.</p>` : html`<table class="grid" data-testid="tracer-clients-table">
      <thead><tr><th>Runtime</th><th>Env</th><th>Version</th><th>Tracer</th><th>Settings</th><th>Last poll</th></tr></thead>
      <tbody>${data.clients.map((c) => {
        const word = describeClient(c, data.settings);
        return html`<tr data-testid="tracer-client-row"><td><code>${c.runtimeId.slice(0, 8)}</code></td><td>${c.env || '—'}</td><td>${c.appVersion || '—'}</td><td>${c.language} ${c.tracerVersion}</td>
          <td class=${word.kind === 'error' || word.kind === 'unsupported' ? 'error' : ''} data-testid="tracer-client-state">${word.text}</td><td>${ago(String(BigInt(c.lastSeen) * 1_000_000n))}</td></tr>`;
      })}</tbody></table>`}
  </section>`;
}
