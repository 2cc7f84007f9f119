import { html } from 'htm/preact';
import { api } from '../api.js';
import { Status, useData } from '../components/common.js';
import { MonitorsTable } from '../components/monitors.js';
import { useState } from 'preact/hooks';

/* Every monitor and its state: the alerting first. They come from the monitors file, where they are changed. */

const ORDER = ['ALERT', 'WARN', 'NO DATA', 'OK'];

export function MonitorsPage() {
  const [changed, setChanged] = useState(0);
  const { data, error, loading } = useData(() => api.monitors(), [changed]);
  const monitors = [...(data?.monitors ?? [])].sort((a, b) => ORDER.indexOf(a.state ?? 'OK') - ORDER.indexOf(b.state ?? 'OK') || a.name.localeCompare(b.name));
  return html`<main>
    <header class="page"><h1>Monitors</h1></header>
    <${Status} loading=${loading} error=${error}>
      ${data && !data.configured ? html`<section class="empty" data-testid="monitors-none"><h2>No monitors</h2>
        <p>Monitors watch the services' request rate, error rate and latency, and new error groups, and tell a webhook, Slack or PagerDuty. Write them in a file and start the agent with <code>--monitors-file FILE</code> (<code>ECS_TRACE_MONITORS_FILE</code>): see the README, "Monitors and alerts".</p></section>` : null}
      ${data?.configured ? html`<p class="muted">From <code>${data.file}</code>, evaluated every round from the stats and error groups (counted before sampling); change them there.</p>
        <${MonitorsTable} monitors=${monitors} showService=${true} changed=${() => setChanged((n) => n + 1)} />` : null}
    </${Status}>
  </main>`;
}
