import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Facets, type Range, type SearchPage, type StatsGroup, type TraceSummary } from '../api.js';
import { QueryBox } from '../components/query-box.js';
import { AnalyticsPanel } from '../components/analytics.js';
import { statsScopeOf, type StatsScope } from '../query-terms.js';
import { RangePicker, Status, useData } from '../components/common.js';
import { SortableTable, type Column } from '../components/table.js';
import { duration, time } from '../format.js';
import { keepRange, navigate, rangeOf, withParams } from '../router.js';
import { traceIdIn } from '../trace-id.js';
import { bucketTraces } from '../trace-buckets.js';

/*
 * Trace search: a Datadog-style query (service:x env:prod -status:error http.status_code:5*),
 * duration range and time range, with a duration-over-time scatter plot, facets and the list.
 */

export function TraceList(props: { url: URL; params: Record<string, string | number | boolean | undefined>; traces?: TraceSummary[] }) {
  const { data, error, loading } = useData(() => (props.traces ? Promise.resolve(props.traces) : api.traces(props.params)), [JSON.stringify(props.params), props.traces]);
  const traces = data ?? [];
  // Asked with `matched`: each trace shown by the span that met the query (a resource page's
  // requests), not by its root; the link opens the trace at that span.
  const byMatch = props.params['matched'] === true;
  const shownDuration = (t: TraceSummary) => (byMatch && t.matched ? t.matched.duration : t.duration);
  const max = Math.max(1, ...traces.map(shownDuration));
  const link = (t: TraceSummary) => `/traces/${t.traceId}${keepRange(props.url)}${byMatch && t.matched ? `${keepRange(props.url) ? '&' : '?'}span=${t.matched.spanId}` : ''}`;
  const columns: Column<TraceSummary>[] = [
    { key: 'start', label: 'Start', value: (t) => (byMatch && t.matched ? t.matched.start : t.start), render: (t) => time(byMatch && t.matched ? t.matched.start : t.start, true) },
    { key: 'service', label: 'Service', value: (t) => (byMatch && t.matched ? t.matched.service : t.rootService) },
    { key: 'resource', label: byMatch ? 'Resource (the matching span)' : 'Resource', value: (t) => (byMatch && t.matched ? t.matched.resource : t.rootResource),
      render: (t) => html`<a href=${link(t)}>${byMatch && t.matched ? t.matched.resource : t.rootResource}</a>${byMatch && t.matched && t.matched.resource !== t.rootResource ? html` <span class="muted">in ${t.rootService} ${t.rootResource}</span>` : null}${t.incomplete ? html` <span class="badge warn" title="No root span has arrived">incomplete</span>` : null}` },
    { key: 'duration', label: byMatch ? 'Duration (the span)' : 'Duration', value: shownDuration, render: (t) => html`<span class="dur"><span style=${`width:${(shownDuration(t) / max) * 100}%`}></span>${duration(shownDuration(t))}</span>`, numeric: true },
    { key: 'spans', label: 'Spans', value: (t) => t.spanCount, numeric: true },
    { key: 'errors', label: 'Errors', value: (t) => t.errorCount, render: (t) => (t.errorCount ? html`<span class="badge err">${t.errorCount}</span>` : '0'), numeric: true },
    { key: 'services', label: 'Services', value: (t) => t.services.join(', ') },
  ];
  return html`<${Status} loading=${loading} error=${error}>
    ${traces.length === 0 ? html`<p class="muted">No traces match.</p>` : html`<${SortableTable} testId="traces-table" columns=${columns} rows=${traces} initialSort="start" pageSize=${50} rowKey=${(t: TraceSummary) => t.traceId} onRow=${(t: TraceSummary) => navigate(link(t))} />`}
  </${Status}>`;
}

/** Margins of the scatter for its axes, in CSS pixels. */
const AXIS = { left: 64, bottom: 22, top: 8, right: 10 };

function Scatter(props: { traces: TraceSummary[]; start: number; end: number; onPick: (t: TraceSummary) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const points = useRef<{ x: number; y: number; t: TraceSummary }[]>([]);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = devicePixelRatio;
    const w = (c.width = c.clientWidth * dpr);
    const h = (c.height = 180 * dpr);
    const g = c.getContext('2d')!;
    g.clearRect(0, 0, w, h);
    const [left, right, top, bottom] = [AXIS.left * dpr, w - AXIS.right * dpr, AXIS.top * dpr, h - AXIS.bottom * dpr];
    // Durations on a log scale from the decade below the shortest to the decade above the longest.
    const ds = props.traces.map((t) => Math.max(1, t.duration));
    const lo = 10 ** Math.floor(Math.log10(Math.min(...ds, 1e6)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...ds, lo * 10)));
    const yOf = (d: number) => bottom - ((Math.log10(Math.max(1, d)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (bottom - top);
    const xOf = (ms: number) => left + ((ms - props.start) / Math.max(1, props.end - props.start)) * (right - left);
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.fillStyle = '#6b7280';
    g.strokeStyle = '#e5e7eb';
    g.lineWidth = dpr;
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    for (let d = lo; d <= hi; d *= 10) {
      const y = yOf(d);
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillText(duration(d), left - 6 * dpr, y);
    }
    g.textBaseline = 'top';
    for (let i = 0; i <= 4; i++) {
      const ms = props.start + ((props.end - props.start) * i) / 4;
      g.textAlign = i === 0 ? 'left' : i === 4 ? 'right' : 'center';
      g.fillText(time(String(BigInt(Math.round(ms)) * 1_000_000n)).slice(0, 8), xOf(ms), bottom + 6 * dpr);
    }
    points.current = props.traces.map((t) => {
      const x = xOf(Number(BigInt(t.start) / 1_000_000n));
      const y = yOf(t.duration);
      g.fillStyle = t.errorCount > 0 ? '#d9534f' : '#7b61c9';
      g.beginPath();
      g.arc(x, y, 3 * dpr, 0, Math.PI * 2);
      g.fill();
      return { x, y, t };
    });
  }, [props.traces, props.start, props.end]);
  const click = (e: MouseEvent) => {
    const r = canvas.current!.getBoundingClientRect();
    const x = (e.clientX - r.left) * devicePixelRatio;
    const y = (e.clientY - r.top) * devicePixelRatio;
    let best: { d: number; t?: TraceSummary } = { d: 100 * devicePixelRatio };
    for (const p of points.current) {
      const d = Math.hypot(p.x - x, p.y - y);
      if (d < best.d) best = { d, t: p.t };
    }
    if (best.t) props.onPick(best.t);
  };
  return html`<section class="chart"><h3>Duration over time <span class="muted">(the traces listed; duration on a log scale, time of day across; red: errors; click a point)</span></h3>
    <canvas ref=${canvas} class="scatter" data-testid="scatter" onClick=${click}></canvas></section>`;
}

function FacetList(props: { label: string; field: string; values: [string, number][]; onAdd: (term: string) => void }) {
  const top = [...props.values].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return html`<div class="facet" data-testid=${`facet-${props.field}`}><h4>${props.label}</h4>${top.map(([v, n]) => html`<button class="facet-value" onClick=${() => props.onAdd(`${props.field}:${/\s/.test(v) ? `"${v}"` : v}`)}><span>${v || '(none)'}</span><span class="muted">${n.toLocaleString('en-US')}</span></button>`)}</div>`;
}

/** Facets of any query, over the requests it selects in the whole range (or as far as an answer's time reads, said). */
function QueryFacets(props: { data: Facets | undefined; error: string | undefined; onAdd: (term: string) => void }) {
  const { data, error } = props;
  if (error) return html`<aside class="facets"><p class="error">${error}</p></aside>`;
  if (!data) return html`<aside class="facets"><p class="muted">Counting…</p></aside>`;
  const values = (k: string): [string, number][] => (data.facets[k] ?? []).map((v) => [v.key, v.count] as [string, number]);
  return html`<aside class="facets">
    <p class="muted" data-testid="facets-scope">${data.complete
      ? `Matching requests in the whole range (${data.spans.toLocaleString('en-US')} service entry and error spans)`
      : `Matching requests from ${time(data.searchedFrom, true)} to the range's end (${data.spans.toLocaleString('en-US')}; the rest of the range was not read in time)`}</p>
    <${FacetList} label="Service" field="service" values=${values('service')} onAdd=${props.onAdd} />
    <${FacetList} label="Resource" field="resource" values=${values('resource')} onAdd=${props.onAdd} />
    <${FacetList} label="Env" field="env" values=${values('env')} onAdd=${props.onAdd} />
    <${FacetList} label="Status" field="status" values=${values('status')} onAdd=${props.onAdd} />
  </aside>`;
}

/** A query the stats count whole: facets of the whole range's requests (service entry spans), not of the page. */
function StatsFacets(props: { scope: StatsScope; range: Range; onAdd: (term: string) => void }) {
  const filter = { ...props.scope, topLevel: true, countsOnly: true };
  const { data } = useData(() => Promise.all((['service', 'resource', 'env'] as const).map((g) => api.statsGroups(props.range, g, filter))), [JSON.stringify([filter, props.range])]);
  if (!data) return html`<aside class="facets"><p class="muted">Counting…</p></aside>`;
  const [services, resources, envs] = data;
  const pairs = (gs: StatsGroup[]): [string, number][] => gs.map((g) => [g.key, g.hits] as [string, number]).filter(([, c]) => c > 0);
  const hits = services!.reduce((s, g) => s + g.hits, 0);
  const errors = services!.reduce((s, g) => s + g.errors, 0);
  return html`<aside class="facets">
    <p class="muted" data-testid="facets-scope">Requests in the whole range (service entry spans, from the stats)</p>
    <${FacetList} label="Service" field="service" values=${pairs(services!)} onAdd=${props.onAdd} />
    <${FacetList} label="Resource" field="resource" values=${pairs(resources!)} onAdd=${props.onAdd} />
    <${FacetList} label="Env" field="env" values=${pairs(envs!)} onAdd=${props.onAdd} />
    <${FacetList} label="Request status" field="status" values=${([['ok', hits - errors], ['error', errors]] as [string, number][]).filter(([, c]) => c > 0)} onAdd=${props.onAdd} />
  </aside>`;
}

/** A query the stats count whole: requests over the whole range, errors apart. */
function StatsOverTime(props: { scope: StatsScope; range: Range }) {
  const filter = { ...props.scope, topLevel: true, countsOnly: true };
  const { data } = useData(() => api.statsSeries(props.range, filter), [JSON.stringify([filter, props.range])]);
  if (!data) return null;
  const counts = data.points.map((p) => p.hits);
  const errors = data.points.map((p) => p.errors);
  const startMs = data.points.length > 0 ? Number(BigInt(data.points[0]!.time) / 1_000_000n) : props.range.start;
  const total = counts.reduce((a, b) => a + b, 0);
  return html`<${Bars} testId="counts-over-time" title=${html`Requests over time <span class="muted">(${total.toLocaleString('en-US')} service entry spans in the whole range, from the stats; red: errors)</span>`}
    startMs=${startMs} widthMs=${data.step * 1000} counts=${counts} errors=${errors} unsearched=${0} noun="requests" />`;
}

function Bars(props: { testId: string; title: unknown; startMs: number; widthMs: number; counts: number[]; errors: number[]; unsearched: number; noun: string }) {
  const max = Math.max(1, ...props.counts);
  const n = Math.max(1, props.counts.length);
  return html`<section class="chart counts" data-testid=${props.testId}>
    <h3>${props.title}</h3>
    <svg viewBox=${`0 0 ${n} 40`} preserveAspectRatio="none" role="img" aria-label=${`Matching ${props.noun} over time`}>
      ${props.unsearched > 0 ? html`<rect x="0" y="0" width=${props.unsearched * n} height="40" class="unsearched" data-testid="unsearched" />` : null}
      ${props.counts.map((c, i) => html`<g><title>${`${time(String(BigInt(Math.round(props.startMs + i * props.widthMs)) * 1_000_000n)).slice(0, 8)}: ${c} ${props.noun}, ${props.errors[i]} with errors`}</title>
        <rect x=${i + 0.1} y=${40 - (c / max) * 38} width="0.8" height=${(c / max) * 38} class="bar" />
        <rect x=${i + 0.1} y=${40 - (props.errors[i]! / max) * 38} width="0.8" height=${(props.errors[i]! / max) * 38} class="bar err" /></g>`)}
    </svg>
  </section>`;
}

/** The matching requests over the whole range (the facets' walk), the part not read greyed. */
function FacetsOverTime(props: { data: Facets; range: Range }) {
  const { series } = props.data;
  const searchedFrom = props.data.complete ? props.range.start : Number(BigInt(props.data.searchedFrom) / 1_000_000n);
  const unsearched = Math.min(1, Math.max(0, (searchedFrom - props.range.start) / Math.max(1, props.range.end - props.range.start)));
  return html`<${Bars} testId="counts-over-time" title=${html`Matching requests over time <span class="muted">(${props.data.spans.toLocaleString('en-US')} service entry and error spans${unsearched > 0 ? '; grey: not read in time' : ' in the whole range'}; red: errors)</span>`}
    startMs=${Number(BigInt(series.start) / 1_000_000n)} widthMs=${Number(BigInt(series.stepNs) / 1_000_000n)} counts=${series.counts} errors=${series.errors} unsearched=${unsearched} noun="requests" />`;
}

/** The listed traces per slice of the range, and the part of the range not searched yet. */
function CountsOverTime(props: { listed: Listed; start: number; end: number }) {
  const b = bucketTraces(props.listed.traces, props.start, props.end);
  const searchedFrom = props.listed.complete ? props.start : Number(BigInt(props.listed.searchedFrom) / 1_000_000n);
  const unsearched = Math.min(1, Math.max(0, (searchedFrom - props.start) / Math.max(1, props.end - props.start)));
  return html`<${Bars} testId="counts-over-time" title=${html`Matching traces over time <span class="muted">(the ${props.listed.traces.length} listed, by start; red: with errors${unsearched > 0 ? '; grey: not searched yet' : ''})</span>`}
    startMs=${b.startMs} widthMs=${b.widthMs} counts=${b.counts} errors=${b.errors} unsearched=${unsearched} noun="traces" />`;
}

/** What a search has listed so far, page after page, each trace once. */
interface Listed { traces: TraceSummary[]; complete: boolean; searchedFrom: string; cursor?: string }

function appendPage(before: Listed | undefined, page: SearchPage): Listed {
  const seen = new Set(before?.traces.map((t) => t.traceId));
  const traces = [...(before?.traces ?? []), ...page.traces.filter((t) => !seen.has(t.traceId))];
  return { traces, complete: page.complete, searchedFrom: page.searchedFrom, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** How much of the range the list covers, in words: a count is never shown as complete when it is not. */
function Coverage(props: { listed: Listed; rangeStart: number; more: () => void; loadingMore: boolean }) {
  const n = props.listed.traces.length;
  const noun = n === 1 ? 'trace' : 'traces';
  if (props.listed.complete) return html`<p class="muted" data-testid="result-count">${n} ${noun}: every match in the range</p>`;
  const from = Number(BigInt(props.listed.searchedFrom) / 1_000_000n);
  const covered = Math.max(0, Date.now() - from);
  const whole = Math.max(1, Date.now() - props.rangeStart);
  return html`<p class="muted" data-testid="result-count">
    ${n} ${noun} so far: searched back to ${time(props.listed.searchedFrom, true)} (${Math.round((covered / whole) * 100)}% of the range)
    <button data-testid="search-more" disabled=${props.loadingMore} onClick=${props.more}>${props.loadingMore ? 'Searching…' : 'Search further back'}</button>
  </p>`;
}

export function TracesPage(props: { url: URL }) {
  const range = rangeOf(props.url);
  const p = props.url.searchParams;
  const [query, setQuery] = useState(p.get('q') ?? '');
  useEffect(() => setQuery(p.get('q') ?? ''), [p.get('q')]);
  const params = { q: p.get('q') ?? undefined, minDurationMs: p.get('minMs') ?? undefined, maxDurationMs: p.get('maxMs') ?? undefined, start: range.start, end: range.end, limit: 500 };
  const key = JSON.stringify(params);
  const { data, error, loading } = useData(() => api.search(params), [key]);
  const [listed, setListed] = useState<Listed | undefined>(undefined);
  const [more, setMore] = useState<{ loading: boolean; error?: string }>({ loading: false });
  useEffect(() => { setListed(data ? appendPage(undefined, data) : undefined); setMore({ loading: false }); }, [data]);
  const searchMore = () => {
    if (!listed?.cursor) return;
    setMore({ loading: true });
    api.search({ ...params, cursor: listed.cursor }).then(
      (page) => { setListed((l) => appendPage(l, page)); setMore({ loading: false }); },
      (err: Error) => setMore({ loading: false, error: err.message }),
    );
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    // A trace id pasted into the box opens that trace.
    const id = traceIdIn(String(f.get('q') ?? ''));
    if (id !== undefined) return navigate(`/traces/${id}${keepRange(props.url)}`);
    navigate(withParams(props.url, { q: String(f.get('q') ?? '').trim(), minMs: String(f.get('minMs') ?? ''), maxMs: String(f.get('maxMs') ?? ''), groupBy: String(f.get('groupBy') ?? '').trim() }));
  };
  const addTerm = (term: string) => navigate(withParams(props.url, { q: [p.get('q'), term].filter(Boolean).join(' ') }));
  const traces = listed?.traces ?? [];
  // Facets and counts over the whole range when the stats can count the query (no tag, no duration bound).
  const scope = p.get('minMs') || p.get('maxMs') ? undefined : statsScopeOf(p.get('q') ?? '');
  // Otherwise the query's own requests, walked as a search walks (one answer for facets and counts).
  const facets = useData(() => (scope ? Promise.resolve(undefined) : api.facets({ q: p.get('q') ?? '', keys: 'service,resource,env,status', minDurationMs: p.get('minMs') || undefined, maxDurationMs: p.get('maxMs') || undefined, start: range.start, end: range.end })),
    [scope === undefined, p.get('q'), p.get('minMs'), p.get('maxMs'), range.start, range.end]);
  return html`<main>
    <header class="page"><h1>Traces</h1><${RangePicker} url=${props.url} label=${range.label} /></header>
    <form class="search" onSubmit=${submit}>
      <${QueryBox} value=${query} onInput=${setQuery} range=${range} />
      <label>group by <input name="groupBy" data-testid="group-by" list="group-fields" value=${p.get('groupBy') ?? ''} placeholder="a tag or field" size="14" /></label>
      <datalist id="group-fields">${['http.status_code', 'service', 'resource', 'env', 'version', 'status', 'type'].map((f) => html`<option value=${f} />`)}</datalist>
      <label>min ms <input name="minMs" type="number" min="0" value=${p.get('minMs') ?? ''} /></label>
      <label>max ms <input name="maxMs" type="number" min="0" value=${p.get('maxMs') ?? ''} /></label>
      <button type="submit">Search</button>
    </form>
    <${Status} loading=${loading} error=${error}>
      <div class="search-results">
        ${scope ? html`<${StatsFacets} scope=${scope} range=${range} onAdd=${addTerm} />` : html`<${QueryFacets} data=${facets.data} error=${facets.error} onAdd=${addTerm} />`}
        <div>
          ${p.get('groupBy') ? html`<${AnalyticsPanel} q=${p.get('q') ?? ''} minMs=${p.get('minMs') ?? undefined} maxMs=${p.get('maxMs') ?? undefined} groupBy=${p.get('groupBy')} range=${range} onAdd=${addTerm} />` : null}
          ${scope ? html`<${StatsOverTime} scope=${scope} range=${range} />` : facets.data ? html`<${FacetsOverTime} data=${facets.data} range=${range} />` : listed ? html`<${CountsOverTime} listed=${listed} start=${range.start} end=${range.end} />` : null}
          <${Scatter} traces=${traces} start=${range.start} end=${range.end} onPick=${(t: TraceSummary) => navigate(`/traces/${t.traceId}${keepRange(props.url)}`)} />
          ${listed ? html`<${Coverage} listed=${listed} rangeStart=${range.start} more=${searchMore} loadingMore=${more.loading} />` : null}
          ${more.error ? html`<p class="error" role="alert">${more.error}</p>` : null}
          <${TraceList} url=${props.url} params=${params} traces=${traces} />
        </div>
      </div>
    </${Status}>
  </main>`;
}
