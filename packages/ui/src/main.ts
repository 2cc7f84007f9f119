import { html } from 'htm/preact';
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ComparePage } from './pages/compare.js';
import { ErrorsPage } from './pages/errors.js';
import { ErrorGroupPage } from './pages/error-group.js';
import { ServiceMapPage } from './pages/service-map.js';
import { LivePage } from './pages/live.js';
import { MonitorsPage } from './pages/monitors.js';
import { DependenciesPage } from './pages/dependencies.js';
import { ServicePage } from './pages/service.js';
import { ServicesPage } from './pages/services.js';
import { TracePage } from './pages/trace.js';
import { TracesPage } from './pages/traces.js';
import { useEffect, useState } from 'preact/hooks';
import { signIn } from './api.js';
import { keepRange, navigate, onLinkClick, useLocation } from './router.js';

/** The web UI: one page per path, the time range and filters in the query string. */

function Page(props: { url: URL }) {
  const parts = props.url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'services' && parts[1] !== undefined) {
    return html`<${ServicePage} url=${props.url} service=${parts[1]} resource=${parts[2] === 'resources' ? parts[3] : undefined} />`;
  }
  if (parts[0] === 'traces' && parts[1] !== undefined) return html`<${TracePage} url=${props.url} traceId=${parts[1]} />`;
  if (parts[0] === 'traces') return html`<${TracesPage} url=${props.url} />`;
  if (parts[0] === 'live') return html`<${LivePage} />`;
  if (parts[0] === 'errors' && parts[1] !== undefined) return html`<${ErrorGroupPage} url=${props.url} id=${parts[1]} />`;
  if (parts[0] === 'errors') return html`<${ErrorsPage} url=${props.url} />`;
  if (parts[0] === 'map') return html`<${ServiceMapPage} url=${props.url} />`;
  if (parts[0] === 'monitors' && parts.length === 1) return html`<${MonitorsPage} />`;
  if (parts[0] === 'dependencies' && parts.length === 1) return html`<${DependenciesPage} url=${props.url} />`;
  if (parts[0] === 'compare' && parts[1] !== undefined && parts[2] !== undefined) return html`<${ComparePage} a=${parts[1]} b=${parts[2]} />`;
  if (parts.length === 0 || (parts[0] === 'services' && parts.length === 1)) return html`<${ServicesPage} url=${props.url} />`;
  return html`<${NotFound} path=${props.url.pathname} />`;
}

/** A path that is no page: said so, with the way back, rather than another page in its place. */
function NotFound(props: { path: string }) {
  return html`<section class="empty" data-testid="not-found">
    <h2>No such page</h2>
    <p><code>${props.path}</code> is not a page of ecs-trace. Go to the <a href="/">services</a>, the <a href="/traces">traces</a> or the <a href="/live">live view</a>.</p>
  </section>`;
}

/** The agent's token, asked for when the API answers 401; the agent keeps it in a cookie. */
function SignIn(props: { done: () => void }) {
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const token = ((e.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement).value;
    const refused = await signIn(token);
    if (refused === undefined) props.done();
    else setError(refused);
  };
  return html`<main><section class="empty" data-testid="sign-in">
    <h2>Sign in</h2>
    <p>This agent asks for its API token (<code>ECS_TRACE_API_TOKEN</code>).</p>
    <form onSubmit=${submit}>
      <input type="password" name="token" autocomplete="current-password" aria-label="API token" required />
      <button type="submit">Sign in</button>
    </form>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
  </section></main>`;
}

function App() {
  const url = useLocation();
  const [signingIn, setSigningIn] = useState(false);
  useEffect(() => {
    const show = () => setSigningIn(true);
    addEventListener('ecs-trace:signin', show);
    return () => removeEventListener('ecs-trace:signin', show);
  }, []);
  const section = url.pathname.split('/')[1] || 'services';
  const range = keepRange(url);
  return html`<div class="app" onClick=${onLinkClick}>
    <nav class="top">
      <a class="brand" href=${`/${range}`}>ecs-trace</a>
      <a class=${section === 'services' ? 'on' : ''} href=${`/${range}`}>Services</a>
      <a class=${section === 'traces' ? 'on' : ''} href=${`/traces${range}`}>Traces</a>
      <a class=${section === 'map' ? 'on' : ''} href=${`/map${range}`}>Service map</a>
      <a class=${section === 'errors' ? 'on' : ''} href=${`/errors${range}`}>Errors</a>
      <a class=${section === 'monitors' ? 'on' : ''} href=${`/monitors${range}`}>Monitors</a>
      <a class=${section === 'dependencies' ? 'on' : ''} href="/dependencies">Dependencies</a>
      <a class=${section === 'live' ? 'on' : ''} href="/live">Live</a>
    </nav>
    ${signingIn ? html`<${SignIn} done=${() => { setSigningIn(false); navigate(url.pathname + url.search, true); }} />` : html`<${Page} url=${url} />`}
  </div>`;
}

render(html`<${App} />`, document.getElementById('app')!);
