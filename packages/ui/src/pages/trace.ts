import { html } from 'htm/preact';
import { collapsedToDepth, parents, visibleRows } from '../waterfall-rows.js';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { linksOf } from '../span-links.js';
import { awslogsOf, cloudWatchLogsHref, logLinkHref } from '../log-links.js';
import { spanMatches } from '../trace-find.js';
import { api, type Span, type Trace } from '../api.js';
import { Stat, Status, useData } from '../components/common.js';
import { SortableTable, type Column } from '../components/table.js';
import { duration, percent, serviceColours, time } from '../format.js';
import { keepRange, navigate, withParams } from '../router.js';
import { criticalPath, shareByService, type PathNode, type Segment } from '../critical-path.js';

/*
 * One trace: header, flame graph (default; wheel to zoom, drag to pan), waterfall (virtualized
 * rows, so traces of 10,000+ spans stay responsive), spans grouped by service with their own
 * execution time, and a side panel with everything a span carries. The critical path (the
 * spans the trace waited on, as Jaeger computes it) is marked in the flame graph and the
 * waterfall, with each service's share of it.
 */

interface Node { span: Span; depth: number; start: number; end: number; children: Node[]; self: number }

const ECS_TAGS = ['ecs_cluster_name', 'task_family', 'task_version', 'task_arn', 'ecs_container_name', 'container_id', 'image_name', 'image_tag', 'availability_zone', 'awslogs_group', 'awslogs_region', 'awslogs_stream'];
const ROW = 18;

function layout(trace: Trace): { nodes: Node[]; order: Node[]; t0: bigint; total: number; maxDepth: number } {
  const t0 = trace.spans.reduce((m, s) => (BigInt(s.start) < m ? BigInt(s.start) : m), BigInt(trace.spans[0]?.start ?? '0'));
  const nodes = trace.spans.map((span): Node => {
    const start = Number(BigInt(span.start) - t0);
    return { span, depth: 0, start, end: start + span.duration, children: [], self: span.duration };
  });
  const byId = new Map(nodes.map((n) => [n.span.spanId, n]));
  const roots: Node[] = [];
  for (const n of nodes) {
    const parent = n.span.parentId !== '0000000000000000' ? byId.get(n.span.parentId) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const order: Node[] = [];
  let maxDepth = 0;
  // Iterative DFS: deep traces must not overflow the stack.
  const stack: Node[] = [...roots].sort((a, b) => b.start - a.start);
  const depthOf = new Map<Node, number>(roots.map((r) => [r, 0]));
  while (stack.length > 0) {
    const n = stack.pop()!;
    n.depth = depthOf.get(n)!;
    maxDepth = Math.max(maxDepth, n.depth);
    order.push(n);
    n.children.sort((a, b) => a.start - b.start);
    // Own execution time: the span's time not covered by its children.
    let covered = 0;
    let until = n.start;
    for (const c of n.children) {
      const s = Math.max(c.start, until);
      const e = Math.min(c.end, n.end);
      if (e > s) { covered += e - s; until = e; }
    }
    n.self = Math.max(0, n.span.duration - covered);
    for (let i = n.children.length - 1; i >= 0; i--) {
      depthOf.set(n.children[i]!, n.depth + 1);
      stack.push(n.children[i]!);
    }
  }
  const total = Math.max(1, ...nodes.map((n) => n.end));
  return { nodes, order, t0, total, maxDepth };
}

function FlameGraph(props: { order: Node[]; total: number; maxDepth: number; selected: string | undefined; onSelect: (id: string) => void; critical: Segment[]; colour: (service: string) => string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState({ from: 0, to: props.total });
  const drag = useRef<{ x: number; from: number; to: number; moved: boolean } | null>(null);
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = devicePixelRatio;
    const w = (c.width = c.clientWidth * dpr);
    const h = (c.height = (props.maxDepth + 1) * ROW * dpr);
    c.style.height = `${(props.maxDepth + 1) * ROW}px`;
    const g = c.getContext('2d')!;
    g.clearRect(0, 0, w, h);
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.textBaseline = 'middle';
    const scale = w / (view.to - view.from);
    for (const n of props.order) {
      if (n.end < view.from || n.start > view.to) continue;
      const x = (n.start - view.from) * scale;
      const width = Math.max(1, n.span.duration * scale);
      if (width < 0.5 * dpr) continue;
      const y = n.depth * ROW * dpr;
      g.fillStyle = props.colour(n.span.service);
      g.fillRect(x, y + dpr, width - (width > 2 * dpr ? dpr : 0), (ROW - 2) * dpr);
      if (n.span.error) { g.fillStyle = '#d9534f'; g.fillRect(x, y + dpr, Math.min(width, 3 * dpr), (ROW - 2) * dpr); }
      if (n.span.spanId === props.selected) { g.strokeStyle = '#000'; g.lineWidth = 2 * dpr; g.strokeRect(x + dpr, y + 2 * dpr, width - 2 * dpr, (ROW - 4) * dpr); }
      if (width > 40 * dpr) {
        g.fillStyle = '#111';
        const label = `${n.span.name} ${n.span.resource !== n.span.name ? n.span.resource : ''}`;
        g.save();
        g.beginPath();
        g.rect(x, y, width - 4 * dpr, ROW * dpr);
        g.clip();
        g.fillText(label, Math.max(x, 0) + 4 * dpr, y + (ROW / 2) * dpr);
        g.restore();
      }
    }
    // The critical path: a dark line along the bottom of each segment's span.
    const depthOf = new Map(props.order.map((n) => [n.span.spanId, n.depth]));
    g.fillStyle = '#1b1530';
    for (const seg of props.critical) {
      const depth = depthOf.get(seg.id);
      if (depth === undefined || seg.end < view.from || seg.start > view.to) continue;
      g.fillRect((seg.start - view.from) * scale, (depth + 1) * ROW * dpr - 4 * dpr, Math.max(1, (seg.end - seg.start) * scale), 3 * dpr);
    }
  }, [props.order, view, props.selected, props.critical]);
  const at = (e: MouseEvent) => {
    const r = canvas.current!.getBoundingClientRect();
    return { t: view.from + ((e.clientX - r.left) / r.width) * (view.to - view.from), depth: Math.floor((e.clientY - r.top) / ROW) };
  };
  const wheel = (e: WheelEvent) => {
    e.preventDefault();
    const { t } = at(e);
    const f = e.deltaY > 0 ? 1.25 : 0.8;
    const from = Math.max(0, t - (t - view.from) * f);
    const to = Math.min(props.total, t + (view.to - t) * f);
    if (to - from > 1000) setView({ from, to });
  };
  const down = (e: MouseEvent) => { drag.current = { x: e.clientX, from: view.from, to: view.to, moved: false }; };
  const [hover, setHover] = useState('');
  const move = (e: MouseEvent) => {
    const d = drag.current;
    if (!d) {
      // What the pointer is on, for the tooltip: narrow spans have no room for their label.
      const { t, depth } = at(e);
      const on = props.order.find((n) => n.depth === depth && n.start <= t && t <= n.end);
      setHover(on ? `${on.span.service} ${on.span.name}${on.span.resource !== on.span.name ? ` ${on.span.resource}` : ''}, ${duration(on.span.duration)}${on.span.error ? ', error' : ''}` : '');
      return;
    }
    const dx = e.clientX - d.x;
    if (Math.abs(dx) > 3) d.moved = true;
    if (!d.moved) return;
    const dt = (-dx / canvas.current!.clientWidth) * (d.to - d.from);
    const shift = Math.min(Math.max(dt, -d.from), props.total - d.to);
    setView({ from: d.from + shift, to: d.to + shift });
  };
  const up = (e: MouseEvent) => {
    const d = drag.current;
    drag.current = null;
    if (d?.moved) return;
    const { t, depth } = at(e);
    const hit = props.order.find((n) => n.depth === depth && n.start <= t && t <= n.end);
    if (hit) props.onSelect(hit.span.spanId);
  };
  return html`<div class="flame-wrap">
    <div class="flame-tools"><button onClick=${() => setView({ from: 0, to: props.total })}>Reset zoom</button><span class="muted">wheel: zoom, drag: pan, click: details</span></div>
    <canvas ref=${canvas} class="flame" data-testid="flame-graph" title=${hover} onWheel=${wheel} onMouseDown=${down} onMouseMove=${move} onMouseUp=${up} onMouseLeave=${() => { drag.current = null; setHover(''); }}></canvas>
  </div>`;
}

function Waterfall(props: { order: Node[]; total: number; selected: string | undefined; onSelect: (id: string) => void; critical: Segment[]; colour: (service: string) => string }) {
  const segments = useMemo(() => {
    const by = new Map<string, Segment[]>();
    for (const seg of props.critical) by.set(seg.id, [...(by.get(seg.id) ?? []), seg]);
    return by;
  }, [props.critical]);
  // Collapse and expand: one span (its toggle), all, or the tree to a depth.
  const rows = useMemo(() => props.order.map((n) => ({ id: n.span.spanId, depth: n.depth, node: n })), [props.order]);
  const withChildren = useMemo(() => parents(rows), [rows]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const shown = useMemo(() => visibleRows(rows, collapsed).map((r) => r.node), [rows, collapsed]);
  const toggle = (id: string) => setCollapsed((c) => { const next = new Set(c); if (next.has(id)) next.delete(id); else next.add(id); return next; });
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  // As tall as the window allows (the page above it stays in view), 240 px at least.
  const height = Math.max(240, Math.round(innerHeight * 0.7));
  const rowH = 22;
  // Fewer rows than the scroll position reached (a span collapsed): draw from where the box now is.
  const at = Math.min(top, Math.max(0, shown.length * rowH - height));
  const first = Math.max(0, Math.floor(at / rowH) - 10);
  const last = Math.min(shown.length, Math.ceil((at + height) / rowH) + 10);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return html`<div>
    <div class="wf-tools" data-testid="waterfall-tools">
      <button onClick=${() => setCollapsed(new Set())}>Expand all</button>
      <button onClick=${() => setCollapsed(new Set(withChildren))}>Collapse all</button>
      ${[1, 2, 3].map((d) => html`<button onClick=${() => setCollapsed(collapsedToDepth(rows, d))}>To depth ${d}</button>`)}
      <span class="muted" data-testid="waterfall-count">${shown.length === props.order.length ? `${shown.length} spans` : `${shown.length} of ${props.order.length} spans shown`}</span>
    </div>
    <div class="wf-ruler" data-testid="waterfall-ruler"><div class="wf-name"></div><div class="wf-track">${ticks.map((f) => html`<span style=${`left:${f * 100}%`} class=${f === 1 ? 'last' : ''}>${duration(props.total * f)}</span>`)}</div></div>
    <div class="waterfall" ref=${box} style=${`height:${height}px`} data-testid="waterfall" onScroll=${() => setTop(box.current!.scrollTop)}>
    <div style=${`height:${shown.length * rowH}px;position:relative`}>
      ${shown.slice(first, last).map((n, i) => html`<div key=${n.span.spanId} class=${`wf-row${n.span.spanId === props.selected ? ' sel' : ''}${segments.has(n.span.spanId) ? ' crit' : ''}`} style=${`top:${(first + i) * rowH}px`} onClick=${() => props.onSelect(n.span.spanId)}>
        <div class="wf-name" style=${`padding-left:${Math.min(n.depth, 30) * 10 + 4}px`}>${withChildren.has(n.span.spanId)
          ? html`<button class="wf-toggle" data-testid="wf-toggle" aria-label=${collapsed.has(n.span.spanId) ? 'Expand' : 'Collapse'} onClick=${(e: Event) => { e.stopPropagation(); toggle(n.span.spanId); }}>${collapsed.has(n.span.spanId) ? '▸' : '▾'}</button>`
          : html`<span class="wf-toggle"></span>`}<span class="dot" style=${`background:${props.colour(n.span.service)}`}></span>${n.span.service} <b>${n.span.name}</b> ${n.span.resource}</div>
        <div class="wf-track"><div class=${n.span.error ? 'wf-bar err' : 'wf-bar'} style=${`left:${(n.start / props.total) * 100}%;width:${Math.max(0.2, (n.span.duration / props.total) * 100)}%;background:${props.colour(n.span.service)}`}></div>${(segments.get(n.span.spanId) ?? []).map((seg) => html`<div class="wf-crit" style=${`left:${(seg.start / props.total) * 100}%;width:${Math.max(0.2, ((seg.end - seg.start) / props.total) * 100)}%`}></div>`)}<span class="wf-dur">${duration(n.span.duration)}</span></div>
      </div>`)}
    </div>
  </div></div>`;
}

function ByService(props: { nodes: Node[]; colour: (service: string) => string }) {
  const groups = new Map<string, { spans: number; self: number }>();
  for (const n of props.nodes) {
    const g = groups.get(n.span.service) ?? { spans: 0, self: 0 };
    g.spans++;
    g.self += n.self;
    groups.set(n.span.service, g);
  }
  const total = [...groups.values()].reduce((a, g) => a + g.self, 0);
  return html`<table class="grid" data-testid="span-list"><thead><tr><th>Service</th><th class="num">Spans</th><th class="num">Exec time</th><th class="num">% exec time</th></tr></thead>
    <tbody>${[...groups].sort((a, b) => b[1].self - a[1].self).map(([s, g]) => html`<tr><td><span class="dot" style=${`background:${props.colour(s)}`}></span>${s}</td><td class="num">${g.spans}</td><td class="num">${duration(g.self)}</td><td class="num">${percent(g.self, total)}</td></tr>`)}</tbody></table>`;
}

/** Every span of the trace, sortable: the longest, the slowest by their own time, the failing. */
function SpanTable(props: { nodes: Node[]; colour: (service: string) => string; onSelect: (id: string) => void }) {
  const columns: Column<Node>[] = [
    { key: 'service', label: 'Service', value: (n) => n.span.service, render: (n) => html`<span class="dot" style=${`background:${props.colour(n.span.service)}`}></span>${n.span.service}` },
    { key: 'name', label: 'Operation', value: (n) => n.span.name },
    { key: 'resource', label: 'Resource', value: (n) => n.span.resource },
    { key: 'start', label: 'Start', value: (n) => n.start, render: (n) => `+${duration(n.start)}`, numeric: true },
    { key: 'duration', label: 'Duration', value: (n) => n.span.duration, render: (n) => duration(n.span.duration), numeric: true },
    { key: 'self', label: 'Own time', value: (n) => n.self, render: (n) => duration(n.self), numeric: true },
    { key: 'error', label: 'Error', value: (n) => n.span.error, render: (n) => (n.span.error ? html`<span class="badge err">error</span>` : ''), numeric: true },
  ];
  return html`<${SortableTable} testId="span-table" columns=${columns} rows=${props.nodes} initialSort="duration" pageSize=${100} rowKey=${(n: Node) => n.span.spanId} onRow=${(n: Node) => props.onSelect(n.span.spanId)} />`;
}

function CriticalPath(props: { segments: Segment[]; total: number; colour: (service: string) => string }) {
  const shares = shareByService(props.segments);
  if (shares.length === 0) return null;
  return html`<section class="critical" data-testid="critical-path"><h4>Critical path</h4>
    <p class="muted">The spans the trace waited on (marked in the flame graph and the waterfall), by service:</p>
    <table class="grid"><thead><tr><th>Service</th><th class="num">Time on the path</th><th class="num">Share</th></tr></thead>
    <tbody>${shares.map((x) => html`<tr><td><span class="dot" style=${`background:${props.colour(x.service)}`}></span>${x.service}</td><td class="num">${duration(x.ns)}</td><td class="num">${percent(x.ns, props.total)}</td></tr>`)}</tbody></table>
  </section>`;
}

/** The layout's trees as the critical path reads them. */
function pathNodes(roots: Node[]): PathNode[] {
  const convert = (n: Node): PathNode => ({ id: n.span.spanId, service: n.span.service, start: n.start, end: n.end, children: n.children.map(convert) });
  return roots.map(convert);
}

function KeyValues(props: { title: string; entries: [string, string | number][]; testId?: string }) {
  if (props.entries.length === 0) return null;
  return html`<section data-testid=${props.testId}><h4>${props.title}</h4><dl class="kv">${props.entries.map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}</dl></section>`;
}

/** The agent's log links (ECS_TRACE_LOG_LINKS), asked once a page. */
let uiConfig: Promise<{ logLinks: { name: string; url: string }[] }> | undefined;

/**
 * Links from the span to the app's logs: CloudWatch Logs Insights on its container's log group and
 * stream (when the agent learnt its awslogs settings from task metadata), then the agent's templates.
 */
function LogLinks(props: { span: Trace['spans'][number]; spans: Trace['spans'] }) {
  const { data } = useData(() => (uiConfig ??= api.uiConfig().catch(() => ({ logLinks: [] }))), []);
  const logs = awslogsOf(props.span, props.spans);
  const links = [
    ...(logs ? [{ name: `CloudWatch Logs: ${logs.group}${logs.stream ? ` (${logs.stream})` : ''}`, href: cloudWatchLogsHref(props.span, logs), testId: 'cloudwatch-logs-link' }] : []),
    ...(data?.logLinks ?? []).map((l) => ({ name: l.name, href: logLinkHref(l.url, props.span), testId: 'log-link' })),
  ];
  if (links.length === 0) return null;
  return html`<section data-testid="log-links"><h4>Logs</h4><ul class="links">${links.map((l) => html`<li><a data-testid=${l.testId} href=${l.href} target="_blank" rel="noopener noreferrer">${l.name}</a></li>`)}</ul></section>`;
}

function SpanPanel(props: { node: Node | undefined; spans: Trace['spans']; t0: bigint; onClose: () => void }) {
  const n = props.node;
  if (!n) return html`<aside class="panel muted">Click a span to see its details.</aside>`;
  const s = n.span;
  // The span's own tags, then the tracer's bookkeeping (`_dd.*` and `_`-metrics) folded under
  // "Internal"; links apart.
  const internal = (k: string) => k.startsWith('_');
  const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
  const tags = Object.entries(s.meta).filter(([k]) => !ECS_TAGS.includes(k) && !k.startsWith('error.') && k !== '_dd.span_links');
  const meta = tags.filter(([k]) => !internal(k)).sort(byKey);
  const metrics = Object.entries(s.metrics).filter(([k]) => !internal(k)).sort(byKey);
  const hidden: [string, string | number][] = [...tags.filter(([k]) => internal(k)), ...Object.entries(s.metrics).filter(([k]) => internal(k))].sort(byKey);
  const links = linksOf(s);
  const ecs = ECS_TAGS.filter((k) => s.meta[k] !== undefined).map((k) => [k, s.meta[k]!] as [string, string]);
  return html`<aside class="panel" data-testid="span-panel">
    <header><h3>${s.name}</h3><button aria-label="Close" onClick=${props.onClose}>×</button></header>
    <dl class="kv">
      <dt>service</dt><dd>${s.service}</dd><dt>resource</dt><dd data-testid="span-resource">${s.resource}</dd><dt>type</dt><dd>${s.type || '—'}</dd>
      <dt>duration</dt><dd data-testid="span-duration">${duration(s.duration)}</dd><dt>start</dt><dd>+${duration(n.start)} (${time(s.start)})</dd>
      <dt>span id</dt><dd>${s.spanId}</dd><dt>parent id</dt><dd>${s.parentId}</dd>
    </dl>
    ${s.error ? html`<section class="error-box" data-testid="span-error"><h4>Error</h4><p><b>${s.meta['error.type'] ?? 'error'}</b>: ${s.meta['error.message'] ?? ''}</p>${s.meta['error.stack'] ? html`<pre data-testid="error-stack">${s.meta['error.stack']}</pre>` : null}</section>` : null}
    <${LogLinks} span=${s} spans=${props.spans} />
    <${KeyValues} title="ECS" entries=${ecs} testId="ecs-tags" />
    <${KeyValues} title="Tags" entries=${meta} testId="span-meta" />
    <${KeyValues} title="Metrics" entries=${metrics} testId="span-metrics" />
    ${hidden.length ? html`<details data-testid="span-internal"><summary>Internal (${hidden.length}: the tracer's own bookkeeping)</summary><dl class="kv">${hidden.map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}</dl></details>` : null}
    ${links.length ? html`<section data-testid="span-links"><h4>Span links</h4><ul class="links">${links.map((l) => html`<li>
      <a href=${`/traces/${l.traceId}?span=${l.spanId}`}>trace ${l.traceId}</a>, span ${l.spanId}
      ${Object.keys(l.attributes).length ? html`<dl class="kv">${Object.entries(l.attributes).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>` : null}
    </li>`)}</ul></section>` : null}
    ${s.spanEvents?.length ? html`<section><h4>Span events</h4><pre>${JSON.stringify(s.spanEvents, null, 2)}</pre></section>` : null}
  </aside>`;
}

export function TracePage(props: { url: URL; traceId: string }) {
  const { data, error, loading } = useData(() => api.trace(props.traceId), [props.traceId]);
  const lay = useMemo(() => (data ? layout(data) : undefined), [data]);
  // The trace's services each in a colour of its own, in the order the trace lists them.
  const colour = useMemo(() => serviceColours(data?.summary.services ?? []), [data]);
  const critical = useMemo(() => (lay ? criticalPath(pathNodes(lay.order.filter((n) => n.depth === 0))) : []), [lay]);
  const criticalTotal = critical.reduce((a, seg) => a + seg.end - seg.start, 0);
  const view = props.url.searchParams.get('view') ?? 'flame';
  const selected = props.url.searchParams.get('span') ?? undefined;
  const select = (id: string | undefined) => navigate(withParams(props.url, { span: id }), true);
  const node = lay?.nodes.find((n) => n.span.spanId === selected);
  const sum = data?.summary;
  // The span pane as wide as its reader drags it, between 260 px and 60% of the window.
  const [paneWidth, setPaneWidth] = useState(380);
  const dragPane = (e: PointerEvent) => {
    const grip = e.currentTarget as HTMLElement;
    const x0 = e.clientX;
    const w0 = paneWidth;
    grip.setPointerCapture(e.pointerId);
    const move = (m: PointerEvent) => setPaneWidth(Math.round(Math.min(innerWidth * 0.6, Math.max(260, w0 + x0 - m.clientX))));
    const up = () => { grip.removeEventListener('pointermove', move); grip.removeEventListener('pointerup', up); };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', up);
  };
  // Spans found by what a person remembers of them: the waterfall lists those alone.
  const find = props.url.searchParams.get('find') ?? '';
  // And by what they are: failing ones, or those the trace waited on (the critical path).
  const only = props.url.searchParams.get('only') ?? '';
  const onPath = useMemo(() => new Set(critical.map((seg) => seg.id)), [critical]);
  const found = useMemo(() => (lay && (find || only)
    ? lay.order.filter((n) => (!find || spanMatches(n.span, find)) && (only !== 'errors' || n.span.error !== 0) && (only !== 'critical' || onPath.has(n.span.spanId)))
    : undefined), [lay, find, only, onPath]);
  const what = [find ? `match “${find}”` : '', only === 'errors' ? 'failed' : only === 'critical' ? 'are on the critical path' : ''].filter(Boolean).join(' and ');
  return html`<main class="trace-page">
    <header class="page"><h1><a href=${`/traces${keepRange(props.url)}`}>Traces</a> / <span data-testid="trace-id">${props.traceId}</span></h1>
      <a class="button" data-testid="trace-download" href=${`/api/v1/traces/${props.traceId}`} download=${`trace-${props.traceId}.json`}>Download JSON</a></header>
    <${Status} loading=${loading} error=${error}>
      ${sum && lay ? html`
        <div class="stats-row">
          <${Stat} label="Root" value=${`${sum.rootService} ${sum.rootResource}`} testId="trace-root" />
          <${Stat} label="Start" value=${time(sum.start, true)} />
          <${Stat} label="Duration" value=${duration(sum.duration)} testId="trace-duration" />
          <${Stat} label="Services" value=${String(sum.services.length)} testId="trace-services" />
          <${Stat} label="Spans" value=${String(sum.spanCount)} testId="trace-spans" />
          <${Stat} label="Errors" value=${String(sum.errorCount)} warn=${sum.errorCount > 0} testId="trace-errors" />
          ${sum.incomplete ? html`<span class="badge warn" data-testid="incomplete">incomplete: no root span</span>` : null}
        </div>
        <nav class="tabs">${[['flame', 'Flame graph'], ['waterfall', 'Waterfall'], ['spans', 'Spans'], ['list', 'By service']].map(([k, l]) => html`<button class=${view === k ? 'on' : ''} onClick=${() => navigate(withParams(props.url, { view: k }), true)}>${l}</button>`)}
          <form class="compare" data-testid="find-form" onSubmit=${(e: Event) => { e.preventDefault(); const text = ((e.target as HTMLFormElement).elements.namedItem('find') as HTMLInputElement).value; navigate(withParams(props.url, { find: text.trim() || undefined, view: 'waterfall' }), true); }}>
            <input name="find" aria-label="Find spans" placeholder="find spans: name, resource, tag" value=${find} /><button type="submit">Find</button>
            <select aria-label="Only" data-testid="find-only" value=${only} onChange=${(e: Event) => navigate(withParams(props.url, { only: (e.target as HTMLSelectElement).value || undefined, view: 'waterfall' }), true)}>
              <option value="">all spans</option><option value="errors">errors only</option><option value="critical">critical path only</option>
            </select>
          </form>
          <form class="compare" onSubmit=${(e: Event) => { e.preventDefault(); const other = ((e.target as HTMLFormElement).elements.namedItem('other') as HTMLInputElement).value.trim(); if (other) navigate(`/compare/${props.traceId}/${encodeURIComponent(other)}`); }}>
            <input name="other" aria-label="Compare with trace" placeholder="compare with trace id" /><button type="submit">Compare</button>
          </form></nav>
        <div class="trace-body" style=${`grid-template-columns: minmax(0, 1fr) 8px ${paneWidth}px`}>
          <div class="trace-main">
            ${view === 'flame' ? html`<${FlameGraph} order=${lay.order} total=${lay.total} maxDepth=${lay.maxDepth} selected=${selected} onSelect=${select} critical=${critical} colour=${colour} />` : null}
            ${view === 'waterfall' && found ? html`<p class="muted" data-testid="find-count">${found.length} of ${lay.order.length} spans ${what} <button onClick=${() => navigate(withParams(props.url, { find: undefined, only: undefined }), true)}>Show all</button></p>` : null}
            ${view === 'waterfall' ? html`<${Waterfall} order=${found ?? lay.order} total=${lay.total} selected=${selected} onSelect=${select} critical=${critical} colour=${colour} />` : null}
            ${view === 'spans' ? html`<${SpanTable} nodes=${found ?? lay.nodes} colour=${colour} onSelect=${select} />` : null}
            ${view === 'list' ? html`<${ByService} nodes=${lay.nodes} colour=${colour} />` : null}
            <div class="legend">${sum.services.map((s) => html`<span><span class="dot" style=${`background:${colour(s)}`}></span>${s}</span>`)}</div>
            <${CriticalPath} segments=${critical} total=${criticalTotal} colour=${colour} />
          </div>
          <div class="pane-grip" data-testid="pane-grip" role="separator" aria-orientation="vertical" aria-label="Resize the span pane" title="Drag to resize" onPointerDown=${dragPane}></div>
          <${SpanPanel} node=${node} spans=${data.spans} t0=${lay.t0} onClose=${() => select(undefined)} />
        </div>` : null}
    </${Status}>
  </main>`;
}
