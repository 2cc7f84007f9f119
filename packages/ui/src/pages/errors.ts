import { html } from 'htm/preact';
import { api, type ErrorGroup } from '../api.js';
import { EnvPicker, RangePicker, Status, useData } from '../components/common.js';
import { SortableTable, type Column } from '../components/table.js';
import { ago } from '../format.js';
import { keepRange, rangeOf } from '../router.js';

/* Error tracking: the range's errors grouped by service, type, normalized message and stack top, with counts over time and traces to open. */

/** Bars of the group's counts over the range, tallest = its busiest step. */
function Sparkline(props: { series: NonNullable<ErrorGroup['series']> }) {
  const { counts, step } = props.series;
  const max = Math.max(1, ...counts);
  const w = 120;
  const bar = w / Math.max(1, counts.length);
  const total = counts.reduce((a, b) => a + b, 0);
  return html`<svg class="sparkline" data-testid="error-sparkline" data-total=${total} width=${w} height="20" viewBox=${`0 0 ${w} 20`}>
    <title>${total} over the range, in steps of ${step >= 3_600_000 ? `${step / 3_600_000} h` : `${step / 60_000} min`}</title>
    ${counts.map((c, i) => (c > 0 ? html`<rect x=${i * bar} y=${20 - Math.max(2, (c / max) * 20)} width=${Math.max(1, bar - 1)} height=${Math.max(2, (c / max) * 20)} fill="#d9534f" />` : null))}
  </svg>`;
}

export function ErrorsPage(props: { url: URL }) {
  const range = rangeOf(props.url);
  const env = props.url.searchParams.get('env') ?? undefined;
  const { data, error, loading } = useData(async () => {
    const [errors, services] = await Promise.all([api.errors(range, env), api.services(range)]);
    return { groups: errors.groups, envs: services.map((s) => s.env) };
  }, [range.start, range.end, env]);
  const columns: Column<ErrorGroup>[] = [
    { key: 'count', label: 'Count', value: (g) => g.count, numeric: true },
    { key: 'service', label: 'Service', value: (g) => g.service },
    { key: 'type', label: 'Error', value: (g) => g.errorType, render: (g) => html`<b>${g.errorType || 'error'}</b>${g.message ? html`: ${g.message}` : html` <span class="muted">(no message)</span>`}` },
    { key: 'resource', label: 'Resource', value: (g) => g.resource },
    { key: 'firstSeen', label: 'First seen', value: (g) => g.firstSeen, render: (g) => ago(String(BigInt(g.firstSeen) * 1_000_000n)) },
    { key: 'lastSeen', label: 'Last seen', value: (g) => g.lastSeen, render: (g) => ago(String(BigInt(g.lastSeen) * 1_000_000n)) },
    { key: 'series', label: 'Over time', value: (g) => g.lastSeen, render: (g) => (g.series ? html`<${Sparkline} series=${g.series} />` : null) },
    { key: 'traces', label: 'Traces', value: (g) => g.sampleTraceIds.length, render: (g) => html`${g.sampleTraceIds.map((id, i) => html`<a href=${`/traces/${id}${keepRange(props.url)}`}>#${i + 1}</a> `)}` },
  ];
  return html`<main>
    <header class="page"><h1>Errors</h1><${EnvPicker} url=${props.url} envs=${data?.envs ?? []} /><${RangePicker} url=${props.url} label=${range.label} /></header>
    <${Status} loading=${loading} error=${error}>
      ${data ? html`
        <p class="muted">Grouped by service, error type, message (numbers, ids and quoted values as ?) and the top of the stack; every error span of the range counted.</p>
        ${data.groups.length === 0 ? html`<section class="empty"><h2>No errors</h2><p>No error spans in this range.</p></section>`
          : html`<${SortableTable} testId="errors-table" columns=${columns} rows=${data.groups} initialSort="count" rowKey=${(g: ErrorGroup) => g.id} />`}` : null}
    </${Status}>
  </main>`;
}
