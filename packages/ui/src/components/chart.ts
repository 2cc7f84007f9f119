import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { clock } from '../format.js';

/** A time series chart (uPlot): lines or bars, one y axis, values formatted for people. */

export interface Series { label: string; values: (number | null)[]; colour: string; bars?: boolean }

export function TimeChart(props: { title: string; times: number[]; series: Series[]; format: (v: number) => string; height?: number; testId?: string; onRange?: (startMs: number, endMs: number) => void }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const width = el.current.clientWidth || 480;
    const plot = new uPlot({
      width,
      height: props.height ?? 180,
      legend: { show: true },
      // Drag across a chart to look at that time range (every page follows, through the URL).
      cursor: { drag: { x: props.onRange !== undefined, y: false, setScale: false } },
      hooks: props.onRange ? {
        setSelect: [(u: uPlot) => {
          if (u.select.width < 5) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          props.onRange!(Math.floor(from * 1000), Math.ceil(to * 1000));
        }],
      } : {},
      scales: { x: { time: true } },
      axes: [
        // Times as every page writes them (format.ts): 24-hour, the date when the range spans days.
        { stroke: '#888', grid: { stroke: '#eee' }, values: (_u, vals) => {
          const span = (props.times.at(-1) ?? 0) - (props.times[0] ?? 0);
          return vals.map((v) => (v === null ? '' : clock(v * 1000, span > 86_400 ? 'day-minutes' : 'minutes')));
        } },
        { stroke: '#888', grid: { stroke: '#eee' }, size: 70, values: (_u, vals) => vals.map((v) => (v === null ? '' : props.format(v))) },
      ],
      series: [
        // The legend's time too (uPlot's own is US 12-hour).
        { value: (_u: uPlot, v: number | null) => (v === null ? '—' : clock(v * 1000, 'date')) },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          fill: s.bars ? s.colour : undefined,
          width: s.bars ? 0 : 1.5,
          paths: s.bars ? uPlot.paths.bars!({ size: [0.8, 40] }) : undefined,
          // Lines need two points: show the dots while there are few.
          points: { show: !s.bars && s.values.filter((v) => v !== null).length <= 3, size: 6 },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : props.format(v)),
        })),
      ],
    }, [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData, el.current);
    const resize = () => plot.setSize({ width: el.current?.clientWidth || width, height: props.height ?? 180 });
    addEventListener('resize', resize);
    return () => { removeEventListener('resize', resize); plot.destroy(); };
  }, [props.times, props.series]);
  return html`<section class="chart" data-testid=${props.testId}><h3>${props.title}</h3><div ref=${el}></div></section>`;
}
