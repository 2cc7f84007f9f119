import { html } from 'htm/preact';
import { api, type Monitor, type StatsGroup, type StatsPoint } from '../api.js';
import { TimeChart } from '../components/chart.js';
import { EnvPicker, RangePicker, Stat, Status, useData } from '../components/common.js';
import { SortableTable, type Column } from '../components/table.js';
import { activeSeconds, ago, clock, duration, percent, rate } from '../format.js';
import { keepRange, navigate, rangeOf, withParams } from '../router.js';
import { conditionOf, MonitorsTable } from '../components/monitors.js';
import { judgeNewest, newErrorGroups } from '../deployments.js';
import { PercentileChart } from '../components/percentile-chart.js';
import { COMPARISONS, describeChange, earlier, type Comparison } from '../period-compare.js';
import { TracerSettings } from '../components/tracer-settings.js';
import { TraceList } from './traces.js';

/*
 * A service (and, with a resource, one of its endpoints): requests and errors over time, latency
 * percentiles, error rate, the latency distribution, and the resources table with impact.
 */

function charts(points: StatsPoint[], step: number, onRange: (start: number, end: number) => void) {
  const times = points.map((p) => Number(BigInt(p.time) / 1_000_000_000n));
  const perSec = (v: number) => v / step;
  return html`<div class="charts">
    <${TimeChart} onRange=${onRange} testId="chart-requests" title="Requests and errors (per second)" times=${times} format=${(v: number) => rate(v)}
      series=${[{ label: 'requests', values: points.map((p) => perSec(p.hits)), colour: '#7b61c9', bars: true }, { label: 'errors', values: points.map((p) => perSec(p.errors)), colour: '#d9534f', bars: true }]} />
    <${TimeChart} onRange=${onRange} testId="chart-latency" title="Latency" times=${times} format=${(v: number) => duration(v)}
      series=${[['p50', '#5cb85c'], ['p75', '#5bc0de'], ['p95', '#f0ad4e'], ['p99', '#d9534f']].map(([k, c]) => ({ label: k!, values: points.map((p) => (p as unknown as Record<string, number | null>)[k!] ?? null), colour: c! }))} />
    <${TimeChart} onRange=${onRange} testId="chart-error-rate" title="Error rate" times=${times} format=${(v: number) => `${v.toFixed(1)}%`}
      series=${[{ label: 'errors %', values: points.map((p) => (p.hits > 0 ? (100 * p.errors) / p.hits : null)), colour: '#d9534f' }]} />
  </div>`;
}

function Distribution(props: { total: StatsGroup | undefined }) {
  const t = props.total;
  if (!t) return null;
  const bars: [string, number | null][] = [['p50', t.p50], ['p75', t.p75], ['p95', t.p95], ['p99', t.p99], ['max', t.max]];
  const max = Math.max(...bars.map(([, v]) => v ?? 0), 1);
  return html`<section class="distribution" data-testid="latency-distribution"><h3>Latency distribution</h3>
    ${bars.map(([k, v]) => html`<div class="dist-row"><span>${k}</span><div class="bar" style=${`width:${((v ?? 0) / max) * 100}%`}></div><span>${duration(v)}</span></div>`)}
  </section>`;
}

/** The service's operations for the picker: its primary one first, then by entry spans. */
function primaryFirst(groups: StatsGroup[], primary: string | undefined): string[] {
  const rest = [...groups].sort((a, b) => b.hits - a.hits || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((g) => g.key).filter((k) => k !== primary);
  return primary ? [primary, ...rest] : rest;
}

/**
 * A monitor's metric over the page's range, step by step, with its thresholds drawn: where it
 * stood against them (the monitor itself reads its own window, which the title says).
 */
function monitorChart(m: Monitor, points: StatsPoint[], step: number) {
  const value = (p: StatsPoint): number | null => {
    switch (m.metric) {
      case 'request_rate': return p.hits / step;
      case 'error_rate': return p.hits > 0 ? (100 * p.errors) / p.hits : null;
      case 'error_count': return p.errors;
      case 'latency_p50': return p.p50 === null ? null : p.p50 / 1e6;
      case 'latency_p75': return p.p75 === null ? null : p.p75 / 1e6;
      case 'latency_p95': return p.p95 === null ? null : p.p95 / 1e6;
      case 'latency_p99': return p.p99 === null ? null : p.p99 / 1e6;
      case 'latency_max': return p.max === null ? null : p.max / 1e6;
      default: return null;
    }
  };
  const times = points.map((p) => Number(BigInt(p.time) / 1_000_000_000n));
  const flat = (v: number) => points.map(() => v);
  const unit = m.metric === 'error_rate' ? '%' : m.metric.startsWith('latency') ? ' ms' : m.metric === 'request_rate' ? ' req/s' : '';
  return html`<${TimeChart} testId="monitor-chart" title=${`${m.name}: ${conditionOf(m)} (here per ${step >= 3600 ? `${step / 3600} h` : `${step / 60} min`} step)`} times=${times}
    format=${(v: number) => `${Math.round(v * 100) / 100}${unit}`}
    series=${[
      { label: m.metric.replace(/_/g, ' '), values: points.map(value), colour: '#7b61c9' },
      { label: `critical ${m.critical}${unit}`, values: flat(m.critical), colour: '#d9534f' },
      ...(m.warning !== null ? [{ label: `warning ${m.warning}${unit}`, values: flat(m.warning), colour: '#f0ad4e' }] : []),
    ]} />`;
}

/** The service's tracer instances, as their telemetry describes them (those reporting to this agent). */
function ServiceInstances(props: { service: string; env: string | undefined }) {
  const { data } = useData(() => api.instances(props.service, props.env), [props.service, props.env]);
  if (!data || data.instances.length === 0) return null;
  return html`<h2>Instances <span class="muted">(the tracers reporting to this agent, as their telemetry says)</span></h2>
    <table class="grid" data-testid="instances-table"><thead><tr><th>Host</th><th>Env</th><th>Version</th><th>Runtime</th><th>Tracer</th><th>Integrations</th><th>Last heard</th><th>Configuration</th></tr></thead>
    <tbody>${data.instances.map((i) => html`<tr data-testid="instance-row">
      <td>${i.hostname || '—'}</td><td>${i.env || '—'}</td><td>${i.version || '—'}</td>
      <td>${i.language} ${i.languageVersion}${i.runtimeName ? ` (${i.runtimeName} ${i.runtimeVersion})` : ''}</td>
      <td>${i.tracerVersion}</td>
      <td>${i.integrations.filter((x) => x.enabled).map((x) => x.name).join(', ') || html`<span class="muted">none reported</span>`}</td>
      <td>${ago(String(BigInt(i.lastSeen) * 1_000_000n))}${i.closed ? html` <span class="badge">closed</span>` : null}</td>
      <td><details><summary class="muted">${i.configuration.filter((c) => c.origin !== 'default').length} set, ${i.configuration.length} reported${i.truncated ? ' (more not kept)' : ''}</summary>
        <ul class="links">${i.configuration.filter((c) => c.origin !== 'default').map((c) => html`<li><code>${c.name}</code> = ${c.value} <span class="muted">(${c.origin})</span></li>`)}</ul></details></td>
    </tr>`)}</tbody></table>`;
}

/** The service's monitors and their states, when it has any, each metric charted with its thresholds. */
function ServiceMonitors(props: { service: string; points: StatsPoint[] | undefined; step: number | undefined }) {
  const { data } = useData(() => api.monitors(props.service), [props.service]);
  if (!data || data.monitors.length === 0) return null;
  // Charted where the page's series hold the metric itself (not Apdex, p90, a change, or error-group events).
  const charted = data.monitors.filter((m) => !m.metric.endsWith('error_group') && m.metric !== 'apdex' && m.metric !== 'latency_p90' && m.compareToMs === null);
  return html`<h2>Monitors</h2><${MonitorsTable} monitors=${data.monitors} showService=${false} />
    ${props.points && props.step && charted.length > 0 ? html`<div class="charts">${charted.map((m) => monitorChart(m, props.points!, props.step!))}</div>` : null}`;
}

export function ServicePage(props: { url: URL; service: string; resource?: string }) {
  const range = rangeOf(props.url);
  const env = props.url.searchParams.get('env') ?? undefined;
  const asked = props.url.searchParams.get('operation') ?? undefined;
  const version = props.url.searchParams.get('version') ?? undefined;
  const asCompared = props.url.searchParams.get('compare');
  const compare = asCompared !== null && asCompared in COMPARISONS ? (asCompared as Comparison) : undefined;
  const { data, error, loading } = useData(async () => {
    const scope = { service: props.service, topLevel: true, ...(env ? { env } : {}), ...(version ? { version } : {}) };
    const [operations, envs, services] = await Promise.all([api.statsGroups(range, 'name', scope), api.statsGroups(range, 'env', { service: props.service, topLevel: true }), api.services(range)]);
    // The service's requests are its primary operation's, as the services list chose it (in the
    // env picked, else its busiest env); its client calls and connections are not requests.
    const listed = services.filter((x) => x.service === props.service && (!env || x.env === env)).sort((a, b) => b.hits - a.hits)[0];
    const names = primaryFirst(operations, listed?.operation);
    // A resource's page is the resource's, whatever operation it is of.
    const operation = props.resource ? undefined : asked ?? names[0];
    const filter = { ...scope, ...(operation ? { name: operation } : {}), ...(props.resource ? { resource: props.resource } : {}) };
    // Versions side by side: every version of the operation, whichever one is picked.
    const allVersions: Record<string, string | boolean | undefined> = { ...filter, version: undefined };
    const [series, resources, total, versions, before, errors] = await Promise.all([
      api.statsSeries(range, filter),
      api.statsGroups(range, 'resource', filter),
      api.statsGroups(range, 'service', filter),
      api.statsGroups(range, 'version', allVersions),
      compare ? api.statsGroups(earlier(range, compare), 'service', filter) : Promise.resolve(undefined),
      // Error groups per version, for those new in each (deployment tracking).
      props.resource ? Promise.resolve(undefined) : api.errors(range, { service: props.service, ...(env ? { env } : {}) }).catch(() => undefined),
    ]);
    return { series, resources, total: total[0], envs: envs.map((e) => e.key), operation, operations: names, versions, firstSeen: listed?.firstSeen, before: before?.[0], compared: compare !== undefined, errorGroups: errors?.groups };
  }, [range.start, range.end, props.service, props.resource, env, asked, version, compare]);
  // Rates over the time the service was seen in the range, not the whole range.
  const seconds = activeSeconds(range, data?.firstSeen);
  const since = data?.firstSeen && Number(BigInt(data.firstSeen) / 1_000_000n) > range.start ? clock(Number(BigInt(data.firstSeen) / 1_000_000n), 'minutes') : undefined;
  const totalTime = (data?.resources ?? []).reduce((a, r) => a + r.totalDuration, 0);
  const base = `/services/${encodeURIComponent(props.service)}`;
  const columns: Column<StatsGroup>[] = [
    { key: 'resource', label: 'Resource', value: (r) => r.key, render: (r) => html`<a href=${`${base}/resources/${encodeURIComponent(r.key)}${keepRange(props.url)}`}>${r.key}</a>` },
    { key: 'rps', label: 'Req/s', value: (r) => r.hits, render: (r) => rate(r.hits / seconds), numeric: true },
    { key: 'total', label: 'Total time', value: (r) => r.totalDuration, render: (r) => duration(r.totalDuration), numeric: true },
    { key: 'avg', label: 'Avg', value: (r) => r.avgDuration, render: (r) => duration(r.avgDuration), numeric: true },
    { key: 'p95', label: 'p95', value: (r) => r.p95 ?? -1, render: (r) => duration(r.p95), numeric: true },
    { key: 'p99', label: 'p99', value: (r) => r.p99 ?? -1, render: (r) => duration(r.p99), numeric: true },
    { key: 'errors', label: 'Errors', value: (r) => r.errors, numeric: true },
    { key: 'errorRate', label: 'Error %', value: (r) => r.errors / Math.max(1, r.hits), render: (r) => percent(r.errors, r.hits), numeric: true },
    { key: 'impact', label: 'Impact', value: (r) => r.totalDuration, render: (r) => html`<span class="impact"><span style=${`width:${totalTime ? (r.totalDuration / totalTime) * 100 : 0}%`}></span></span>`, numeric: true },
  ];
  const deployment = data ? judgeNewest(data.versions) : undefined;
  const fresh = data?.errorGroups ? newErrorGroups(data.errorGroups, data.versions) : undefined;
  const errorsOf = (v: string) => {
    const q = new URLSearchParams(keepRange(props.url).slice(1));
    q.set('service', props.service);
    q.set('version', v);
    return `/errors?${q.toString()}`;
  };
  const versionColumns: Column<StatsGroup>[] = [
    { key: 'version', label: 'Version', value: (r) => r.key, render: (r) => html`${r.key || '(none)'}${deployment?.faulty && deployment.version === r.key
      ? html` <span class="badge err" data-testid="faulty-deployment" title=${`Against ${deployment.previous} over this range: ${deployment.reasons.join('; ')}`}>faulty deployment</span>` : null}` },
    { key: 'requests', label: 'Requests', value: (r) => r.hits, render: (r) => Math.round(r.hits).toLocaleString('en-US'), numeric: true },
    { key: 'errorRate', label: 'Error %', value: (r) => r.errors / Math.max(1, r.hits), render: (r) => percent(r.errors, r.hits), numeric: true },
    { key: 'p50', label: 'p50', value: (r) => r.p50 ?? -1, render: (r) => duration(r.p50), numeric: true },
    { key: 'p95', label: 'p95', value: (r) => r.p95 ?? -1, render: (r) => duration(r.p95), numeric: true },
    { key: 'p99', label: 'p99', value: (r) => r.p99 ?? -1, render: (r) => duration(r.p99), numeric: true },
    { key: 'newErrors', label: 'New error groups', value: (r) => fresh?.get(r.key)?.length ?? -1, numeric: true,
      render: (r) => {
        const gs = fresh?.get(r.key);
        if (gs === undefined) return html`<span class="muted" title="The range's first version, or one deployed with the one before it: what is new cannot be told">—</span>`;
        return gs.length === 0 ? '0' : html`<a data-testid="new-error-groups" href=${errorsOf(r.key)} title=${gs.map((g) => `${g.errorType}: ${g.message}`).join('\n')}>${gs.length}</a>`;
      } },
    { key: 'deployed', label: 'First seen in the range', value: (r) => Number(BigInt(r.firstSeen) / 1_000_000n), render: (r) => clock(Number(BigInt(r.firstSeen) / 1_000_000n), 'date') },
  ];
  const t = data?.total;
  return html`<main>
    <header class="page">
      <h1><a href=${`/${keepRange(props.url)}`}>Services</a> / ${props.resource ? html`<a href=${`${base}${keepRange(props.url)}`}>${props.service}</a> / <span data-testid="resource-name">${props.resource}</span>` : html`<span data-testid="service-name">${props.service}</span>`}</h1>
      ${data && data.operation && data.operations.length > 1 ? html`<label class="env-picker">operation <select data-testid="operation-picker" value=${data.operation ?? ''}
        onChange=${(e: Event) => navigate(withParams(props.url, { operation: (e.target as HTMLSelectElement).value }))}>
        ${data.operations.map((o) => html`<option value=${o}>${o}</option>`)}</select></label>` : null}
      <${EnvPicker} url=${props.url} envs=${data?.envs ?? []} />
      ${data && (data.versions.length > 1 || version) ? html`<label class="env-picker">version <select data-testid="version-picker" value=${version ?? ''}
        onChange=${(e: Event) => navigate(withParams(props.url, { version: (e.target as HTMLSelectElement).value || undefined }))}>
        <option value="">all versions</option>${data.versions.map((v) => html`<option value=${v.key}>${v.key || '(none)'}</option>`)}</select></label>` : null}
      <label class="env-picker">against <select data-testid="compare-picker" onChange=${(e: Event) => navigate(withParams(props.url, { compare: (e.target as HTMLSelectElement).value || undefined }))}>
        <option value="" selected=${!compare}>nothing</option>${(Object.keys(COMPARISONS) as Comparison[]).map((c) => html`<option value=${c} selected=${c === compare}>${COMPARISONS[c]}</option>`)}</select></label>
      <${RangePicker} url=${props.url} label=${range.label} />
    </header>
    <${Status} loading=${loading} error=${error}>
      <div class="stats-row">
        <${Stat} testId="stat-requests" label="Requests" value=${t ? Math.round(t.hits).toLocaleString('en-US') : '0'} />
        <${Stat} testId="stat-rps" label=${since ? `Req/s since ${since}` : 'Req/s'} value=${rate((t?.hits ?? 0) / seconds)} />
        <${Stat} testId="stat-errors" label="Errors" value=${t ? Math.round(t.errors).toLocaleString('en-US') : '0'} warn=${(t?.errors ?? 0) > 0} />
        <${Stat} testId="stat-error-rate" label="Error rate" value=${percent(t?.errors ?? 0, t?.hits ?? 0)} warn=${(t?.errors ?? 0) > 0} />
        <${Stat} testId="stat-p50" label="p50" value=${duration(t?.p50)} />
        <${Stat} testId="stat-p99" label="p99" value=${duration(t?.p99)} />
      </div>
      ${data?.compared && compare ? html`<p class="muted" data-testid="comparison">Against ${COMPARISONS[compare]}: ${describeChange(data.total, data.before)}</p>` : null}
      ${data ? charts(data.series.points, data.series.step, (start, end) => navigate(withParams(props.url, { range: undefined, start: String(start), end: String(end) }))) : null}
      <${Distribution} total=${t} />
      ${props.resource ? null : html`<${ServiceMonitors} service=${props.service} points=${data?.series.points} step=${data?.series.step} />`}
      ${data && data.versions.length > 1 ? html`<h2>Versions</h2><${SortableTable} testId="versions-table" columns=${versionColumns} rows=${data.versions} initialSort="requests" rowKey=${(r: StatsGroup) => r.key}
        onRow=${(r: StatsGroup) => navigate(withParams(props.url, { version: r.key }))} />
        <${PercentileChart} versions=${data.versions} testId="version-latency" />` : null}
      ${props.resource ? null : html`<h2>Resources</h2><${SortableTable} testId="resources-table" columns=${columns} rows=${data?.resources ?? []} initialSort="total" rowKey=${(r: StatsGroup) => r.key}
        onRow=${(r: StatsGroup) => navigate(`${base}/resources/${encodeURIComponent(r.key)}${keepRange(props.url)}`)} />`}
      ${props.resource ? null : html`<${ServiceInstances} service=${props.service} env=${env} />`}
      ${props.resource ? null : html`<${TracerSettings} service=${props.service} envs=${data?.envs ?? []} />`}
      <h2>Traces</h2>
      <${TraceList} url=${props.url} params=${{ service: props.service, ...(props.resource ? { resource: props.resource, matched: true } : {}), ...(env ? { env } : {}), start: range.start, end: range.end, limit: 50 }} />
    </${Status}>
  </main>`;
}
