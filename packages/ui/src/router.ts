import { useEffect, useState } from 'preact/hooks';

/*
 * Client-side routing on the History API: every page's state (time range, filters, selection)
 * lives in its URL, so a link or a reload shows the same thing.
 */

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new Event('ecs-trace:navigate'));
}

export function useLocation(): URL {
  const [state, setState] = useState({ href: location.href, n: 0 });
  const href = state.href;
  useEffect(() => {
    // A new object each time, so that a refresh of the same URL renders again.
    const update = () => setState((s) => ({ href: location.href, n: s.n + 1 }));
    addEventListener('popstate', update);
    addEventListener('ecs-trace:navigate', update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener('ecs-trace:navigate', update);
    };
  }, []);
  return new URL(href);
}

/** The current URL with some query parameters changed (undefined removes one). */
export function withParams(url: URL, params: Record<string, string | undefined>): string {
  const u = new URL(url.href);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

/** Links that navigate without reloading; ctrl/cmd-click still opens a new tab. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as HTMLElement).closest('a');
  if (!a || a.target || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/')) return;
  e.preventDefault();
  navigate(href);
}

export const RANGES: Record<string, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '4h': 4 * 3_600_000, '1d': 86_400_000, '3d': 3 * 86_400_000 };

/*
 * "Now" for relative ranges is fixed when the page's URL changes, not at every render: data
 * loads once per URL, and refresh() moves it on.
 */
let nowHref = '';
let nowMs = 0;
function anchoredNow(href: string): number {
  if (href !== nowHref) {
    nowHref = href;
    nowMs = Date.now();
  }
  return nowMs;
}

/** Reloads the current page's data up to the present moment. */
export function refresh(): void {
  nowHref = '';
  dispatchEvent(new Event('ecs-trace:navigate'));
}

/** The time range of a page: `range=1h` (relative to now), or `start` and `end` in epoch ms. */
export function rangeOf(url: URL): { start: number; end: number; label: string } {
  const start = Number(url.searchParams.get('start'));
  const end = Number(url.searchParams.get('end'));
  if (start > 0 && end > start) return { start, end, label: 'custom' };
  const label = url.searchParams.get('range') ?? '1h';
  const span = RANGES[label] ?? RANGES['1h']!;
  const now = anchoredNow(url.href);
  return { start: now - span, end: now, label: RANGES[label] ? label : '1h' };
}

/** Query parameters to carry from page to page (the shared time range, and the env picked). */
export function keepRange(url: URL): string {
  const keep = new URLSearchParams();
  for (const k of ['range', 'start', 'end', 'env']) {
    const v = url.searchParams.get(k);
    if (v) keep.set(k, v);
  }
  const s = keep.toString();
  return s ? `?${s}` : '';
}
