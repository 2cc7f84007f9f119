import { html } from 'htm/preact';
import { api, type ErrorGroup } from '../api.js';
import { RangePicker, Status, useData } from '../components/common.js';
import { SortableTable, type Column } from '../components/table.js';
import { ago } from '../format.js';
import { keepRange, rangeOf } from '../router.js';

/* Error tracking: the range's errors grouped by service, type, normalized message and stack top, with traces to open. */

export function ErrorsPage(props: { url: URL }) {
  const range = rangeOf(props.url);
  const { data, error, loading } = useData(() => api.errors(range), [range.start, range.end]);
  const columns: Column<ErrorGroup>[] = [
    { key: 'count', label: 'Count', value: (g) => g.count, numeric: true },
    { key: 'service', label: 'Service', value: (g) => g.service },
    { key: 'type', label: 'Error', value: (g) => g.errorType, render: (g) => html`<b>${g.errorType || 'error'}</b>${g.message ? html`: ${g.message}` : html` <span class="muted">(no message)</span>`}` },
    { key: 'resource', label: 'Resource', value: (g) => g.resource },
    { key: 'firstSeen', label: 'First seen', value: (g) => g.firstSeen, render: (g) => ago(String(BigInt(g.firstSeen) * 1_000_000n)) },
    { key: 'lastSeen', label: 'Last seen', value: (g) => g.lastSeen, render: (g) => ago(String(BigInt(g.lastSeen) * 1_000_000n)) },
    { key: 'traces', label: 'Traces', value: (g) => g.sampleTraceIds.length, render: (g) => html`${g.sampleTraceIds.map((id, i) => html`<a href=${`/traces/${id}${keepRange(props.url)}`}>#${i + 1}</a> `)}` },
  ];
  return html`<main>
    <header class="page"><h1>Errors</h1><${RangePicker} url=${props.url} label=${range.label} /></header>
    <${Status} loading=${loading} error=${error}>
      ${data ? html`
        <p class="muted">Grouped by service, error type, message (numbers, ids and quoted values as ?) and the top of the stack; every error span of the range counted.</p>
        ${data.groups.length === 0 ? html`<section class="empty"><h2>No errors</h2><p>No error spans in this range.</p></section>`
          : html`<${SortableTable} testId="errors-table" columns=${columns} rows=${data.groups} initialSort="count" rowKey=${(g: ErrorGroup) => g.id} />`}` : null}
    </${Status}>
  </main>`;
}
