import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import { api } from '../api.js';
import { Stat, Status, useData } from '../components/common.js';
import { duration, serviceColour } from '../format.js';
import { diffTraces } from '../trace-diff.js';

/* Two traces side by side (/compare/<a>/<b>): the spans one has and the other lacks, and those slower or faster. */

const LABEL = { added: 'only in B', missing: 'only in A', slower: 'slower in B', faster: 'faster in B', same: 'same' } as const;

export function ComparePage(props: { a: string; b: string }) {
  const { data, error, loading } = useData(() => Promise.all([api.trace(props.a), api.trace(props.b)]), [props.a, props.b]);
  const rows = useMemo(() => (data ? diffTraces(data[0].spans, data[1].spans) : []), [data]);
  const signed = (ns: number) => `${ns > 0 ? '+' : ns < 0 ? '−' : ''}${duration(Math.abs(ns))}`;
  return html`<main>
    <header class="page"><h1>Compare traces</h1></header>
    <${Status} loading=${loading} error=${error}>
      ${data ? html`
        <div class="stats-row">
          <${Stat} label="A" value=${`${duration(data[0].summary.duration)}, ${data[0].summary.spanCount} spans`} testId="compare-a" />
          <${Stat} label="B" value=${`${duration(data[1].summary.duration)}, ${data[1].summary.spanCount} spans`} testId="compare-b" />
          <${Stat} label="B − A" value=${signed(data[1].summary.duration - data[0].summary.duration)} testId="compare-diff" />
        </div>
        <p class="muted"><a href=${`/traces/${props.a}`}>A: ${props.a}</a> · <a href=${`/traces/${props.b}`}>B: ${props.b}</a></p>
        <table class="grid" data-testid="compare-table"><thead><tr><th>Span</th><th>Resource</th><th class="num">A</th><th class="num">B</th><th class="num">B − A</th><th>What changed</th></tr></thead>
          <tbody>${rows.map((r) => html`<tr class=${`diff-${r.kind}`}>
            <td><span class="dot" style=${`background:${serviceColour(r.service)}`}></span>${r.service} <b>${r.name}</b></td><td>${r.resource}</td>
            <td class="num">${r.a === undefined ? '—' : duration(r.a)}</td><td class="num">${r.b === undefined ? '—' : duration(r.b)}</td>
            <td class="num">${r.kind === 'added' || r.kind === 'missing' ? '' : signed(r.diff)}</td><td>${LABEL[r.kind]}</td></tr>`)}</tbody>
        </table>` : null}
    </${Status}>
  </main>`;
}
