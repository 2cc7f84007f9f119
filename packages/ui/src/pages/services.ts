import { html } from 'htm/preact';
import { api, type ServiceSummary } from '../api.js';
import { EnvPicker, RangePicker, Status, useData } from '../components/common.js';
import { SortableTable, type Column } from '../components/table.js';
import { activeSeconds, ago, duration, percent, rate } from '../format.js';
import { keepRange, navigate, rangeOf, withParams } from '../router.js';

/**
 * Every service with its RED metrics over the range: requests (entry spans of its primary
 * operation, counted before sampling), errors, latency.
 */

interface Row extends ServiceSummary { perSecond: number }

export function ServicesPage(props: { url: URL }) {
  const range = rangeOf(props.url);
  const { data, error, loading } = useData(() => api.services(range), [range.start, range.end]);
  const env = props.url.searchParams.get('env') ?? '';
  // A row per service and env: each opens its service in that env.
  const rows: Row[] = (data ?? []).filter((s) => !env || s.env === env).map((s) => ({ ...s, perSecond: s.hits / activeSeconds(range, s.firstSeen) }));
  const link = (r: Row) => `/services/${encodeURIComponent(r.service)}${keepRange(new URL(withParams(props.url, { env: r.env }), props.url))}`;
  const columns: Column<Row>[] = [
    { key: 'service', label: 'Service', value: (r) => r.service, render: (r) => html`<a href=${link(r)}>${r.service}</a>` },
    { key: 'type', label: 'Type', value: (r) => r.type },
    { key: 'env', label: 'Env', value: (r) => r.env },
    { key: 'rps', label: 'Req/s', value: (r) => r.perSecond, render: (r) => rate(r.perSecond), numeric: true },
    { key: 'errors', label: 'Error %', value: (r) => r.errors / Math.max(1, r.hits), render: (r) => percent(r.errors, r.hits), numeric: true },
    { key: 'p50', label: 'p50', value: (r) => r.p50 ?? -1, render: (r) => duration(r.p50), numeric: true },
    { key: 'p95', label: 'p95', value: (r) => r.p95 ?? -1, render: (r) => duration(r.p95), numeric: true },
    { key: 'p99', label: 'p99', value: (r) => r.p99 ?? -1, render: (r) => duration(r.p99), numeric: true },
    { key: 'lastSeen', label: 'Last seen', value: (r) => r.lastSeen, render: (r) => ago(r.lastSeen) },
    { key: 'version', label: 'Version', value: (r) => r.versions.join(', ') },
  ];
  return html`<main>
    <header class="page"><h1>Services</h1><${EnvPicker} url=${props.url} envs=${(data ?? []).map((s) => s.env)} /><${RangePicker} url=${props.url} label=${range.label} /></header>
    <${Status} loading=${loading} error=${error}>
      ${rows.length === 0 ? html`<${EmptyState} />` : html`<${SortableTable} testId="services-table" columns=${columns} rows=${rows} initialSort="rps" rowKey=${(r: Row) => `${r.service}/${r.env}`} onRow=${(r: Row) => navigate(link(r))} />`}
    </${Status}>
  </main>`;
}

function EmptyState() {
  return html`<section class="empty" data-testid="empty-state">
    <h2>No traces yet</h2>
    <p>Point an application's Datadog tracer at this agent; its services appear here within seconds.</p>
    <ol>
      <li>On one machine: <code>DD_AGENT_HOST=127.0.0.1 node --require dd-trace/init app.js</code></li>
      <li>On ECS, let the app find the host's IP itself: start it with <code>ecs-trace run -- node app.js</code></li>
      <li>Or write the task definitions: <code>ecs-trace taskdef agent</code> for this agent (host port 8126/tcp) and
        <code>ecs-trace taskdef app app.json --image-entrypoint '["docker-entrypoint.sh"]'</code> for each app (the entry point of the official Node image; <code>none</code> for an image without one).</li>
    </ol>
    <p>Watch traces arrive on the <a href="/live">Live</a> page.</p>
  </section>`;
}
