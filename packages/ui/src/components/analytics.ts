import { html } from 'htm/preact';
import { api, type Analytics, type Range } from '../api.js';
import { duration, percent, time } from '../format.js';
import { Status, useData } from './common.js';
import { SortableTable, type Column } from './table.js';

/*
 * Span analytics under the search: the requests (service entry and error spans) the query selects,
 * grouped by a field or tag, as a top list with counts, error rates and percentiles. Says what it
 * covered when the range was more than one answer's time could read.
 */

type Group = Analytics['groups'][number];

export function AnalyticsPanel(props: { q: string; minMs?: string; maxMs?: string; groupBy: string; range: Range; onAdd: (term: string) => void }) {
  const { data, error, loading } = useData(() => api.analytics({ q: props.q, groupBy: props.groupBy, minDurationMs: props.minMs || undefined, maxDurationMs: props.maxMs || undefined, start: props.range.start, end: props.range.end }), [props.q, props.groupBy, props.minMs, props.maxMs, props.range.start, props.range.end]);
  const columns: Column<Group>[] = [
    { key: 'key', label: props.groupBy, value: (g) => g.key, render: (g) => html`<button class="link" onClick=${() => props.onAdd(`${props.groupBy}:${/\s/.test(g.key) ? `"${g.key}"` : g.key}`)}>${g.key || '(none)'}</button>` },
    { key: 'count', label: 'Requests', value: (g) => g.count, numeric: true, render: (g) => g.count.toLocaleString('en-US') },
    { key: 'errors', label: 'Error rate', value: (g) => g.errors / Math.max(1, g.count), numeric: true, render: (g) => percent(g.errors, g.count) },
    { key: 'p50', label: 'p50', value: (g) => g.p50 ?? 0, numeric: true, render: (g) => duration(g.p50) },
    { key: 'p95', label: 'p95', value: (g) => g.p95 ?? 0, numeric: true, render: (g) => duration(g.p95) },
    { key: 'p99', label: 'p99', value: (g) => g.p99 ?? 0, numeric: true, render: (g) => duration(g.p99) },
  ];
  return html`<section class="chart analytics" data-testid="analytics">
    <h3>Requests by ${props.groupBy}</h3>
    <${Status} loading=${loading} error=${error}>
      ${data ? html`<p class="muted" data-testid="analytics-coverage">${data.spans.toLocaleString('en-US')} requests in ${data.traces.toLocaleString('en-US')} traces${data.complete ? ': the whole range' : `: from ${time(data.searchedFrom, true)} to the range's end (the rest of the range was not read in time; narrow the range or the query for all of it)`}${data.otherGroups > 0 ? `; ${data.otherGroups} smaller groups not listed` : ''}</p>
        <${SortableTable} testId="analytics-table" columns=${columns} rows=${data.groups} initialSort="count" rowKey=${(g: Group) => g.key} />` : null}
    </${Status}>
  </section>`;
}
