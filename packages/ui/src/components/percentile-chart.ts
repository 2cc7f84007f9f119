import { html } from 'htm/preact';
import type { StatsGroup } from '../api.js';
import { duration } from '../format.js';

/*
 * Latency distributions overlaid: one line per version across its percentiles (p50 to max), on a
 * log scale, so a version slower at the tail shows where its line rises above the others.
 */

const POINTS: [keyof StatsGroup & ('p50' | 'p75' | 'p95' | 'p99' | 'max'), string][] = [['p50', 'p50'], ['p75', 'p75'], ['p95', 'p95'], ['p99', 'p99'], ['max', 'max']];
const COLOURS = ['#7b61c9', '#5cb85c', '#f0ad4e', '#d9534f', '#5bc0de', '#777'];
const W = 520;
const H = 200;
const PAD = { left: 64, right: 16, top: 12, bottom: 28 };

export function PercentileChart(props: { versions: StatsGroup[]; testId: string }) {
  const shown = props.versions.filter((v) => v.p50 !== null).slice(0, COLOURS.length);
  const values = shown.flatMap((v) => POINTS.map(([k]) => v[k]).filter((x): x is number => x !== null && x > 0));
  if (shown.length < 2 || values.length === 0) return null;
  const lo = Math.log10(Math.min(...values));
  const hi = Math.max(Math.log10(Math.max(...values)), lo + 0.5);
  const x = (i: number) => PAD.left + (i * (W - PAD.left - PAD.right)) / (POINTS.length - 1);
  const y = (v: number) => PAD.top + (1 - (Math.log10(v) - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const ticks = [lo, (lo + hi) / 2, hi].map((l) => 10 ** l);
  return html`<section class="chart" data-testid=${props.testId}><h3>Latency by version (percentiles, log scale)</h3>
    <svg viewBox=${`0 0 ${W} ${H}`} width=${W} height=${H} role="img" aria-label="Latency percentiles of each version">
      ${ticks.map((t) => html`<line x1=${PAD.left} x2=${W - PAD.right} y1=${y(t)} y2=${y(t)} stroke="#e3e3e3" /><text x=${PAD.left - 6} y=${y(t) + 4} text-anchor="end" font-size="11">${duration(t)}</text>`)}
      ${POINTS.map(([, label], i) => html`<text x=${x(i)} y=${H - 8} text-anchor="middle" font-size="11">${label}</text>`)}
      ${shown.map((v, n) => {
        const pts = POINTS.map(([k], i) => [i, v[k]] as const).filter((p): p is readonly [number, number] => p[1] !== null && p[1] > 0);
        return html`<g data-testid="percentile-line" data-version=${v.key}><polyline fill="none" stroke=${COLOURS[n]} stroke-width="2" points=${pts.map(([i, val]) => `${x(i)},${y(val)}`).join(' ')} />
          ${pts.map(([i, val]) => html`<circle cx=${x(i)} cy=${y(val)} r="3" fill=${COLOURS[n]}><title>${v.key || '(none)'} ${POINTS[i]![1]}: ${duration(val)}</title></circle>`)}</g>`;
      })}
    </svg>
    <div class="legend">${shown.map((v, n) => html`<span><span class="dot" style=${`background:${COLOURS[n]}`}></span>${v.key || '(none)'}</span>`)}</div>
  </section>`;
}
