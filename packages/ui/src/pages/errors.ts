import { html } from 'htm/preact';
import { api, ERROR_STATUSES, type ErrorGroup } from '../api.js';
import { EnvPicker, RangePicker, Status, useData } from '../components/common.js';
import { SortableTable, type Column } from '../components/table.js';
import { ago } from '../format.js';
import { keepRange, navigate, rangeOf, withParams } from '../router.js';
import { useState } from 'preact/hooks';

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
  // Open errors by default: what is resolved or ignored is one click away.
  const shown = props.url.searchParams.get('status') ?? 'open';
  const [changed, setChanged] = useState(0);
  const [failed, setFailed] = useState<string | undefined>(undefined);
  const service = props.url.searchParams.get('service') ?? undefined;
  const version = props.url.searchParams.get('version') ?? undefined;
  const { data, error, loading } = useData(async () => {
    const status = shown === 'all' ? undefined : shown;
    // The pickers offer what the range holds beyond the service and version picked.
    const [errors, all, services] = await Promise.all([
      api.errors(range, { env, status, service, version }),
      service !== undefined || version !== undefined ? api.errors(range, { env, status }) : undefined,
      api.services(range),
    ]);
    const offered = all ?? errors;
    return {
      groups: errors.groups, envs: services.map((s) => s.env),
      services: [...new Set(offered.groups.map((g) => g.service))].sort(),
      versions: [...new Set(offered.groups.filter((g) => !service || g.service === service).flatMap((g) => g.versions.map((v) => v.version)).filter((v): v is string => v !== null && v !== ''))].sort(),
    };
  }, [range.start, range.end, env, shown, service, version, changed]);
  const pick = (name: string, options: string[], value: string | undefined, all: string) => html`<select data-testid=${`errors-${name}-filter`} aria-label=${name} value=${value ?? ''}
      onChange=${(e: Event) => navigate(withParams(props.url, { [name]: (e.target as HTMLSelectElement).value || undefined, ...(name === 'service' ? { version: undefined } : {}) }))}>
      <option value="">${all}</option>${[...new Set([...options, ...(value ? [value] : [])])].map((o) => html`<option value=${o}>${o}</option>`)}
    </select>`;
  const setStatus = (g: ErrorGroup, status: string) => {
    setFailed(undefined);
    api.setErrorStatus(g.id, status).then(() => setChanged((n) => n + 1), (err: Error) => setFailed(err.message));
  };
  const columns: Column<ErrorGroup>[] = [
    { key: 'count', label: 'Count', value: (g) => g.count, numeric: true },
    { key: 'service', label: 'Service', value: (g) => g.service },
    { key: 'type', label: 'Error', value: (g) => g.errorType, render: (g) => html`<a href=${`/errors/${g.id}${keepRange(props.url)}`} data-testid="error-group-link"><b>${g.errorType || 'error'}</b>${g.message ? html`: ${g.message}` : html` <span class="muted">(no message)</span>`}</a>` },
    { key: 'resource', label: 'Resource', value: (g) => g.resource },
    { key: 'firstSeen', label: 'First seen', value: (g) => g.firstSeen, render: (g) => ago(String(BigInt(g.firstSeen) * 1_000_000n)) },
    { key: 'lastSeen', label: 'Last seen', value: (g) => g.lastSeen, render: (g) => ago(String(BigInt(g.lastSeen) * 1_000_000n)) },
    { key: 'series', label: 'Over time', value: (g) => g.lastSeen, render: (g) => (g.series ? html`<${Sparkline} series=${g.series} />` : null) },
    { key: 'traces', label: 'Traces', value: (g) => g.sampleTraceIds.length, render: (g) => html`${g.sampleTraceIds.map((id, i) => html`<a href=${`/traces/${id}${keepRange(props.url)}`}>#${i + 1}</a> `)}` },
    { key: 'status', label: 'Status', value: (g) => g.status, render: (g) => html`<select data-testid="error-status" aria-label="Status" value=${g.status} onChange=${(e: Event) => setStatus(g, (e.target as HTMLSelectElement).value)}>
        ${ERROR_STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>${g.regressed ? html` <span class="badge err" title="Resolved, and seen again since">regressed</span>` : null}` },
  ];
  return html`<main>
    <header class="page"><h1>Errors</h1><${EnvPicker} url=${props.url} envs=${data?.envs ?? []} /><${RangePicker} url=${props.url} label=${range.label} /></header>
    <${Status} loading=${loading} error=${error}>
      ${data ? html`
        <p class="muted">Grouped by service, error type and the top frames of the stack (without one, the message, numbers, ids and quoted values as ?); a failing request counted once, where its error was raised.
          Show <select data-testid="errors-status-filter" aria-label="Show" value=${shown} onChange=${(e: Event) => navigate(withParams(props.url, { status: (e.target as HTMLSelectElement).value === 'open' ? undefined : (e.target as HTMLSelectElement).value }))}>
            ${[['open', 'open'], ['resolved', 'resolved'], ['ignored', 'ignored'], ['all', 'all']].map(([v, l]) => html`<option value=${v}>${l}</option>`)}
          </select> in ${pick('service', data.services, service, 'every service')} ${pick('version', data.versions, version, 'every version')}</p>
        ${failed ? html`<p class="error" role="alert">${failed}</p>` : null}
        ${data.groups.length === 0 ? html`<section class="empty"><h2>No ${shown === 'all' ? '' : `${shown} `}errors</h2><p>No ${shown === 'all' ? '' : `${shown} `}error groups in this range.</p></section>`
          : html`<${SortableTable} testId="errors-table" columns=${columns} rows=${data.groups} initialSort="count" rowKey=${(g: ErrorGroup) => g.id} />`}` : null}
    </${Status}>
  </main>`;
}
