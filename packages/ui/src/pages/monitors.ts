import { html } from 'htm/preact';
import { api, type Monitor } from '../api.js';
import { Status, useData } from '../components/common.js';
import { MonitorForm } from '../components/monitor-form.js';
import { MonitorsTable } from '../components/monitors.js';
import { useEffect, useState } from 'preact/hooks';

/* Every monitor and its state: the alerting first. They come from the monitors file, where they are changed. */

const ORDER = ['ALERT', 'WARN', 'NO DATA', 'OK'];

export function MonitorsPage() {
  const [changed, setChanged] = useState(0);
  const [editing, setEditing] = useState<Monitor | undefined>(undefined);
  const { data, error, loading } = useData(async () => {
    const [monitors, services] = await Promise.all([api.monitors(), api.services({ start: Date.now() - 86_400_000, end: Date.now() }).catch(() => [])]);
    return { ...monitors, services: [...new Set(services.map((s) => s.service))].sort() };
  }, [changed]);
  // States change by themselves: read again every 5 s, in place (the form and open histories stay as they are).
  useEffect(() => {
    const t = setInterval(() => setChanged((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);
  const monitors = [...(data?.monitors ?? [])].sort((a, b) => ORDER.indexOf(a.state ?? 'OK') - ORDER.indexOf(b.state ?? 'OK') || a.name.localeCompare(b.name));
  return html`<main>
    <header class="page"><h1>Monitors</h1></header>
    <${Status} loading=${loading && !data} error=${error}>
      ${data && data.monitors.length === 0 ? html`<section class="empty" data-testid="monitors-none"><h2>No monitors</h2>
        <p>Monitors watch the services' request rate, error rate and latency, and new error groups, and tell a webhook, Slack, PagerDuty or an SNS topic. Make one below, or write them in a file and start the agent with <code>--monitors-file FILE</code> (<code>ECS_TRACE_MONITORS_FILE</code>), where the channels are named: see the README, "Monitors and alerts".</p></section>` : null}
      ${data && data.monitors.length > 0 ? html`<p class="muted">${data.file ? html`From <code>${data.file}</code> (change those there) and made here; ` : 'Made here; '}evaluated every round from the stats and error groups (counted before sampling).</p>
        <${MonitorsTable} monitors=${monitors} showService=${true} changed=${() => setChanged((n) => n + 1)} edit=${(m: Monitor) => setEditing(m)} />` : null}
      ${data?.editable ? html`<${MonitorForm} channels=${data.channels} services=${data.services} editing=${editing} cancel=${() => setEditing(undefined)}
        done=${() => { setEditing(undefined); setChanged((n) => n + 1); }} />` : null}
    </${Status}>
  </main>`;
}
