import dagre from '@dagrejs/dagre';
import { html } from 'htm/preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { RangePicker, Status, useData } from '../components/common.js';
import { duration, percent } from '../format.js';
import { keepRange, navigate, rangeOf } from '../router.js';

/*
 * The service map: services and what they call, laid out left to right by dagre (layered, so it
 * stays readable as services grow), each node coloured by its error rate, each edge labelled
 * with its calls; a traced service opens its page on click. Drawn at its own size in a box that
 * scrolls: scaled to fit, 50 services made its text about 4 px high.
 */

const W = 204;
const H = 56;
const LABEL_W = 170;

function errorColour(errors: number, hits: number): string {
  const r = hits > 0 ? errors / hits : 0;
  return r >= 0.05 ? '#f8d7da' : r > 0 ? '#fff3cd' : '#e8f5e9';
}

export function ServiceMapPage(props: { url: URL }) {
  const range = rangeOf(props.url);
  const env = props.url.searchParams.get('env') ?? undefined;
  const { data, error, loading } = useData(() => api.serviceMap(range, env), [range.start, range.end, env]);
  const layout = useMemo(() => {
    if (!data) return undefined;
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 90, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of data.nodes) g.setNode(n.service, { width: W, height: H });
    // dagre keeps room for each edge's label between the ranks, so a label never runs under a node.
    for (const e of data.edges) g.setEdge(e.from, e.to, { width: LABEL_W, height: 18, labelpos: 'c' });
    dagre.layout(g);
    const graph = g.graph();
    return { width: (graph.width ?? 0) + 20, height: (graph.height ?? 0) + 20, g };
  }, [data]);
  // Drawn at its own size (readable names) and scrolled; zoomed out to fit, or in, on asking; and
  // dragged to pan like a map.
  const [zoom, setZoom] = useState(1);
  const box = useRef<HTMLDivElement>(null);
  const fit = () => { if (layout && box.current) setZoom(Math.min(1, (box.current.clientWidth - 4) / layout.width, (box.current.clientHeight - 4) / layout.height)); };
  const pan = (e: PointerEvent) => {
    const el = box.current;
    if (!el || (e.target as Element).closest('.node')) return;
    const start = { x: e.clientX, y: e.clientY, left: el.scrollLeft, top: el.scrollTop };
    el.setPointerCapture(e.pointerId);
    const move = (m: PointerEvent) => { el.scrollLeft = start.left - (m.clientX - start.x); el.scrollTop = start.top - (m.clientY - start.y); };
    const up = () => { el.removeEventListener('pointermove', move); el.removeEventListener('pointerup', up); };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
  };
  return html`<main>
    <header class="page"><h1>Service map</h1><${RangePicker} url=${props.url} label=${range.label} /></header>
    <${Status} loading=${loading} error=${error}>
      ${data && layout ? html`
        <p class="muted">Every call of the range (calls out without a traced answer appear after two minutes). Green: no errors; yellow: some; red: 5% or more.</p>
        ${data.nodes.length === 0 ? html`<section class="empty"><h2>No services</h2><p>No traces in this range.</p></section>` : html`
        <div class="map-tools" data-testid="map-tools">
          <button onClick=${fit}>Fit</button>
          <button aria-label="Zoom out" onClick=${() => setZoom((z) => Math.max(0.1, z / 1.25))}>−</button>
          <button aria-label="Zoom in" onClick=${() => setZoom((z) => Math.min(3, z * 1.25))}>+</button>
          <button onClick=${() => setZoom(1)}>100%</button>
          <span class="muted" data-testid="map-zoom">${Math.round(zoom * 100)}%</span>
        </div>
        <div class="map-scroll" data-testid="map-scroll" ref=${box} onPointerDown=${pan}>
        <svg class="service-map" data-testid="service-map" width=${Math.round(layout.width * zoom)} height=${Math.round(layout.height * zoom)} viewBox=${`0 0 ${layout.width} ${layout.height}`}>
          <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#777" /></marker></defs>
          ${data.edges.map((e) => {
            const laid = layout.g.edge(e.from, e.to) as { points?: { x: number; y: number }[]; x?: number; y?: number } | undefined;
            const points = laid?.points ?? [];
            const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');
            const mid = laid?.x !== undefined && laid.y !== undefined ? { x: laid.x, y: laid.y } : points[Math.floor(points.length / 2)] ?? { x: 0, y: 0 };
            return html`<g class="edge" data-testid="map-edge" data-from=${e.from} data-to=${e.to}>
              <path d=${d} fill="none" stroke=${e.errors > 0 ? '#d9534f' : '#999'} stroke-width="1.5" marker-end="url(#arrow)" />
              <text x=${mid.x} y=${mid.y - 4} text-anchor="middle" class="edge-label">${e.calls} calls${e.errors ? `, ${e.errors} err` : ''}, p95 ${duration(e.p95)}</text>
            </g>`;
          })}
          ${data.nodes.map((n) => {
            const p = layout.g.node(n.service);
            const open = () => { if (!n.leaf) navigate(`/services/${encodeURIComponent(n.service)}${keepRange(props.url)}`); };
            return html`<g class=${`node${n.leaf ? ' leaf' : ''}`} data-testid="map-node" data-service=${n.service} transform=${`translate(${p.x - W / 2},${p.y - H / 2})`} onClick=${open}>
              <rect width=${W} height=${H} rx="6" fill=${errorColour(n.errors, n.hits)} stroke=${n.leaf ? '#999' : '#555'} stroke-dasharray=${n.leaf ? '4 3' : ''} />
              <text x="10" y="20" class="node-name">${n.service}</text>
              <text x="10" y="40" class="node-stats">${n.hits} ${n.leaf ? 'calls' : 'req'} · ${percent(n.errors, n.hits)} err · p95 ${duration(n.p95)}</text>
            </g>`;
          })}
        </svg>
        </div>`}` : null}
    </${Status}>
  </main>`;
}
