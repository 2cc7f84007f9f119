import { html } from 'htm/preact';
import { api } from '../api.js';
import { Status, useData } from '../components/common.js';
import { navigate, withParams } from '../router.js';

/*
 * The dependency inventory: the libraries the services' tracers report loading (their
 * telemetry), each version with the services and envs running it. "Which services still run
 * lodash 4.17.20?" is `?name=lodash&version=4.17.20`.
 */

export function DependenciesPage(props: { url: URL }) {
  const name = props.url.searchParams.get('name') ?? '';
  const version = props.url.searchParams.get('version') ?? '';
  const { data, error, loading } = useData(() => api.dependencies(name, version), [name, version]);
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    navigate(withParams(props.url, { name: String(f.get('name') ?? '').trim() || undefined, version: String(f.get('version') ?? '').trim() || undefined }));
  };
  return html`<main>
    <header class="page"><h1>Dependencies</h1>
      <form class="monitor-form" data-testid="dependencies-form" onSubmit=${submit}><div class="form-row">
        <label>library <input name="name" defaultValue=${name} placeholder="lodash" /></label>
        <label>version <input name="version" defaultValue=${version} placeholder="4.17" size="10" /></label>
        <button type="submit">Find</button></div></form>
    </header>
    <${Status} loading=${loading && !data} error=${error}>
      ${data && !data.kept ? html`<p class="muted">This process takes no traces (<code>ecs-trace ui</code>): each agent knows the tracers reporting to it.</p>` : null}
      ${data && data.dependencies.length === 0 ? html`<p class="muted" data-testid="dependencies-none">No ${name || version ? 'match among the' : ''} libraries the tracers reporting here have loaded.</p>` : null}
      ${data && data.dependencies.length > 0 ? html`<p class="muted" data-testid="dependencies-count">${data.total > data.dependencies.length ? `The first ${data.dependencies.length} of ${data.total} library versions: narrow the search for the rest.` : `${data.total} library version${data.total > 1 ? 's' : ''}`}, as the tracers reporting to this agent list them.</p>
        <table class="grid" data-testid="dependencies-table"><thead><tr><th>Library</th><th>Version</th><th>Instances</th><th>Services</th></tr></thead>
        <tbody>${data.dependencies.map((d) => html`<tr data-testid="dependency-row"><td>${d.name}</td><td>${d.version || '—'}</td><td>${d.instances}</td>
          <td>${d.services.map((s, i) => html`${i > 0 ? ', ' : ''}<a href=${`/services/${encodeURIComponent(s.service)}${s.env ? `?env=${encodeURIComponent(s.env)}` : ''}`}>${s.service}</a>${s.env ? html` <span class="muted">${s.env}</span>` : null} (${s.instances})`)}</td></tr>`)}</tbody></table>` : null}
    </${Status}>
  </main>`;
}
