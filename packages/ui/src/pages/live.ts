import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveChunk } from '../api.js';
import { duration, serviceColour, time } from '../format.js';

/** Traces as they arrive (server-sent events), with the ECS task and container they came from. */

const MAX_ROWS = 500;

export function LivePage() {
  const [rows, setRows] = useState<LiveChunk[]>([]);
  const [state, setState] = useState('connecting');
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  pausedRef.current = paused;
  useEffect(() => {
    const es = new EventSource('/api/v1/live');
    es.onopen = () => setState('connected');
    es.onerror = () => setState('reconnecting');
    es.onmessage = (e) => {
      if (pausedRef.current) return;
      const chunks = JSON.parse(e.data as string) as LiveChunk[];
      setRows((r) => [...chunks.reverse(), ...r].slice(0, MAX_ROWS));
    };
    return () => es.close();
  }, []);
  return html`<main>
    <header class="page"><h1>Live</h1><span class=${`badge ${state === 'connected' ? 'ok' : 'warn'}`} data-testid="live-state">${state}</span>
      <button onClick=${() => setPaused(!paused)}>${paused ? 'Resume' : 'Pause'}</button></header>
    ${rows.length === 0 ? html`<p class="muted">Waiting for traces… send one with a traced app pointed at this agent (port 8126).</p>` : null}
    <table class="grid" data-testid="live-table"><thead><tr><th>Received</th><th>Service</th><th>Resource</th><th class="num">Duration</th><th class="num">Spans</th><th>Task</th><th>Container</th></tr></thead>
      <tbody>${rows.map((r, i) => html`<tr key=${`${r.traceId}-${i}`} class=${r.error ? 'row-err' : ''}>
        <td>${time(r.start)}</td><td><span class="dot" style=${`background:${serviceColour(r.service)}`}></span>${r.service}</td>
        <td><a href=${`/traces/${r.traceId}`}>${r.resource}</a></td><td class="num">${duration(r.duration)}</td><td class="num">${r.spans}</td>
        <td>${r.task ?? '—'}</td><td>${r.container ?? '—'}</td></tr>`)}</tbody></table>
  </main>`;
}
