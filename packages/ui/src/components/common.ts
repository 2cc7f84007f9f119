import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { clock, timeZone } from '../format.js';
import { navigate, RANGES, refresh, withParams } from '../router.js';

/** Loads data for a page; reloads when `deps` change. */
export function useData<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: string | undefined; loading: boolean } {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => { if (live) setState({ data, error: undefined, loading: false }); }, (err: Error) => { if (live) setState({ data: undefined, error: err.message, loading: false }); });
    return () => { live = false; };
  }, deps);
  return state;
}

/** A custom range as times are written everywhere: its end without the date when on the same day. */
function customRange(start: number, end: number): string {
  const a = clock(start, 'date');
  const b = clock(end, 'date');
  return `${a} – ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b}`;
}

export function RangePicker(props: { url: URL; label: string }) {
  return html`<div class="range" role="group" aria-label="Time range">
    ${Object.keys(RANGES).map((r) => html`<button class=${props.label === r ? 'on' : ''} onClick=${() => navigate(withParams(props.url, { range: r, start: undefined, end: undefined }))}>${r}</button>`)}
    ${props.label === 'custom' ? html`<span class="badge" data-testid="custom-range">${customRange(Number(props.url.searchParams.get('start')), Number(props.url.searchParams.get('end')))}</span>` : null}
    <span class="muted zone" data-testid="time-zone" title="Every time on these pages is in this zone">${timeZone()}</span>
    <button title="Load up to now" aria-label="Refresh" onClick=${refresh}>↻</button>
  </div>`;
}

export function Status(props: { loading: boolean; error: string | undefined; children?: ComponentChildren }) {
  if (props.error) return html`<p class="error" role="alert">${props.error}</p>`;
  if (props.loading) return html`<p class="muted">Loading…</p>`;
  return html`${props.children}`;
}

export function Stat(props: { label: string; value: string; testId?: string; warn?: boolean }) {
  return html`<div class=${props.warn ? 'stat warn' : 'stat'} data-testid=${props.testId}><span>${props.label}</span><strong>${props.value}</strong></div>`;
}

/**
 * The env a page shows (`?env=`, carried from page to page), or all of them: every count on the
 * page is of the env picked.
 */
export function EnvPicker(props: { url: URL; envs: readonly string[] }) {
  const current = props.url.searchParams.get('env') ?? '';
  const envs = [...new Set([...props.envs, ...(current ? [current] : [])])].sort();
  return html`<label class="env-picker">env <select data-testid="env-picker" value=${current}
    onChange=${(e: Event) => navigate(withParams(props.url, { env: (e.target as HTMLSelectElement).value || undefined }))}>
    <option value="">all envs</option>
    ${envs.map((e) => html`<option value=${e}>${e}</option>`)}
  </select></label>`;
}
