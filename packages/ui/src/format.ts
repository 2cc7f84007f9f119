/** Formatting shared by every page: durations in ns, rates, percentages, times. */

export function duration(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '—';
  if (ns < 1_000) return `${Math.round(ns)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 1 : 0)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 2 : ns < 100_000_000 ? 1 : 0)} ms`;
  return `${(ns / 1_000_000_000).toFixed(2)} s`;
}

export function rate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 0.01) return '<0.01';
  return perSecond < 10 ? perSecond.toFixed(2) : perSecond < 100 ? perSecond.toFixed(1) : Math.round(perSecond).toLocaleString('en-US');
}

/**
 * The seconds of a range (ms) a service was seen in: from its first stats bucket in the range
 * (`firstSeen`, ns) to the range's end, so a service started two minutes ago is not averaged
 * over the hour it did not run. At least a second.
 */
export function activeSeconds(range: { start: number; end: number }, firstSeen?: string): number {
  const from = firstSeen ? Math.max(range.start, Number(BigInt(firstSeen) / 1_000_000n)) : range.start;
  return Math.max(1, (range.end - from) / 1000);
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (part / whole) * 100;
  return p === 0 ? '0%' : p < 0.1 ? '<0.1%' : `${p.toFixed(p < 10 ? 1 : 0)}%`;
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** ns since the epoch (decimal string) -> local time. */
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * One way to write a time on every page: the browser's time zone (said once, by timeZone()),
 * 24-hour clock, ISO order: `2026-12-07 16:09:47.946`, or `16:09` / `12-07 16:09` on axes.
 */
export function clock(ms: number, parts: 'date' | 'seconds' | 'minutes' | 'day-minutes' = 'seconds'): string {
  const d = new Date(ms);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (parts === 'minutes') return hm;
  if (parts === 'day-minutes') return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
  const hms = `${hm}:${pad(d.getSeconds())}`;
  return parts === 'date' ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms}` : hms;
}

export function time(ns: string | number, withDate = false): string {
  const ms = Number(BigInt(ns) / 1_000_000n);
  return `${clock(ms, withDate ? 'date' : 'seconds')}.${pad(new Date(ms).getMilliseconds(), 3)}`;
}

/** The browser's time zone, in which every time is shown: `UTC`, `UTC+01:00`. */
export function timeZone(at = Date.now()): string {
  const off = -new Date(at).getTimezoneOffset();
  if (off === 0) return 'UTC';
  const a = Math.abs(off);
  return `UTC${off > 0 ? '+' : '-'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

export function ago(ns: string): string {
  const s = (Date.now() - Number(BigInt(ns) / 1_000_000n)) / 1000;
  if (s < 60) return `${Math.max(0, Math.round(s))}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** A stable colour per service, from a palette of distinct hues (neighbouring services differ). */
const PALETTE = ['#8ec5ff', '#f6a96b', '#9ad48a', '#d99be0', '#f2d16b', '#7fd6cf', '#f08f8f', '#b3a6f5', '#c8d66b', '#f5a3c7', '#8fb3d9', '#e0b48a'];
function paletteIndex(service: string): number {
  let h = 2166136261;
  for (let i = 0; i < service.length; i++) h = Math.imul(h ^ service.charCodeAt(i), 16777619);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) % PALETTE.length;
}

export function serviceColour(service: string): string {
  return PALETTE[paletteIndex(service)]!;
}

/**
 * Colours for the services of one view (a trace), each its own while the palette lasts: a service
 * keeps its usual colour unless one before it in `services` took it, then the next free one. Twelve
 * colours hashed would give two services of a two-service trace the same one in one trace of twelve.
 */
export function serviceColours(services: readonly string[]): (service: string) => string {
  const taken = new Set<number>();
  const chosen = new Map<string, string>();
  for (const s of services) {
    if (chosen.has(s)) continue;
    let i = paletteIndex(s);
    for (let tries = 0; taken.has(i) && tries < PALETTE.length; tries++) i = (i + 1) % PALETTE.length;
    taken.add(i);
    chosen.set(s, PALETTE[i]!);
  }
  return (service) => chosen.get(service) ?? serviceColour(service);
}
