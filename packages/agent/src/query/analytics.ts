import type { SpanRecord, TraceId, TraceQuery, TraceReader, TraceRecord } from '../store/index.js';
import type { ApiAnalytics, ApiFacets } from './api-types.js';
import { indexConditions, planSearch } from './search-drivers.js';
import { indexedSpanMeets, spanTermMatches, type ParsedSearch } from './search-query.js';
import { walkSearch } from './search-walk.js';

/*
 * Span analytics: the spans a query selects, grouped by a field or tag, as counts, errors and
 * latency percentiles, over the range or step by step. The spans are the indexed ones (service
 * entries and errors, as search counts requests) that meet every condition themselves: the index
 * conditions and each term of the query, negated ones too. They are found as a search finds
 * traces (the walk, with the query's positive terms: every trace holding such a span is one of
 * them) and read whole; the walk has the page's time, so a day of heavy traffic can be covered in
 * part: the answer then says from where (`searchedFrom`), and its counts are exact from there to
 * the range's end.
 */

const TOP = 20;
const SERIES = 10;
const STEPS = 30;
const FACET_VALUES = 8;
/** Traces walked at most in one answer (each is read whole). */
const MAX_TRACES = 50_000;

/** The value a span has for a field or tag, as search reads them; undefined when it has none. */
export function groupValue(r: SpanRecord, key: string): string | undefined {
  const s = r.span;
  switch (key) {
    case 'service': case 'resource': case 'name': case 'type': return s[key];
    case 'operation': return s.name;
    case 'env': return r.env;
    case 'status': return s.error !== 0 ? 'error' : 'ok';
  }
  return s.meta[key] ?? (s.metrics[key] !== undefined ? String(s.metrics[key]) : undefined);
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Collected {
  starts: bigint[];
  durations: number[];
  errors: boolean[];
  /** Per key asked, each span's value ('' without one). */
  values: string[][];
  traces: number;
  complete: boolean;
  searchedFrom: bigint;
}

interface Ask { store: TraceReader; search: ParsedSearch; query: TraceQuery; range: { start: bigint; end: bigint }; deadline: number }

/** The matching spans of the range, newest windows first, with their values for `keys`. */
async function collect(o: Ask, keys: readonly string[]): Promise<Collected> {
  // The trace a candidate's check read, kept for counting it right after (one at a time: a day's
  // traces are never all held).
  let last: { id: string; trace: Promise<TraceRecord | undefined> } | undefined;
  // A window's candidates are all asked for at once when the window comes, so that a store on
  // another thread (or server) reads them back to back instead of one round trip each.
  const ahead = new Map<string, Promise<TraceRecord | undefined>>();
  const getTrace = (id: TraceId) => {
    const k = `${id.high}:${id.low}`;
    if (last?.id !== k) {
      const t = ahead.get(k) ?? o.store.getTrace(id);
      ahead.delete(k);
      last = { id: k, trace: t };
    }
    return last.trace;
  };
  const store: TraceReader = { getTrace, searchTraces: (q) => o.store.searchTraces(q), stats: () => o.store.stats() };
  const conditions = indexConditions(o.query);
  const positive = { ...o.search, terms: o.search.terms.filter((t) => !t.negate) };
  const plan = await planSearch(store, positive, conditions, o.range);
  // Each matching span as it is met; which of them count depends on how far the walk gets.
  const c: Collected = { starts: [], durations: [], errors: [], values: keys.map(() => []), traces: 0, complete: false, searchedFrom: o.range.end };
  const seen = new Set<string>();
  const count = (trace: TraceRecord): void => {
    for (const r of trace.spans) {
      const s = r.span;
      if (s.start < o.range.start || s.start >= o.range.end || !indexedSpanMeets(r, conditions)) continue;
      if (!o.search.terms.every((term) => spanTermMatches(r, term) !== term.negate)) continue;
      c.starts.push(s.start);
      c.durations.push(s.duration);
      c.errors.push(s.error !== 0);
      keys.forEach((key, i) => c.values[i]!.push(groupValue(r, key) ?? ''));
    }
  };
  const walked = await walkSearch({
    query: { ...conditions, ...o.range, limit: MAX_TRACES },
    candidates: async (q) => {
      const list = await plan.candidates(q);
      // Only when the walk will check them (it narrows a window of ids and times only).
      if (list.some((cand) => cand.services.length === 0)) return list;
      ahead.clear();
      // One read for the window where the store can (a shared store's round trips), else each.
      const batch = o.store.getTraces ? o.store.getTraces(list.map((cand) => cand.traceId)) : undefined;
      batch?.catch(() => undefined);
      list.forEach((cand, i) => {
        const t = batch ? batch.then((all) => all[i]) : o.store.getTrace(cand.traceId);
        // Read ahead; a read that fails is failed again by the one that asks for it.
        t.catch(() => undefined);
        ahead.set(`${cand.traceId.high}:${cand.traceId.low}`, t);
      });
      return list;
    },
    // Counted as they are checked, so that the walk's time bounds the reading too.
    matches: async (cand) => {
      if (plan.matches && !(await plan.matches(cand))) return false;
      const k = `${cand.traceId.high}:${cand.traceId.low}`;
      if (seen.has(k)) return true;
      seen.add(k);
      const trace = await getTrace(cand.traceId);
      if (trace !== undefined) count(trace);
      return true;
    },
    deadline: o.deadline,
  });
  c.traces = seen.size;
  c.complete = walked.complete;
  c.searchedFrom = walked.searchedFrom;
  return c;
}

export async function spanAnalytics(o: Ask & { groupBy: string }): Promise<ApiAnalytics> {
  const c = await collect(o, [o.groupBy]);
  const from = c.searchedFrom;
  const stepNs = (o.range.end - from + BigInt(STEPS) - 1n) / BigInt(STEPS) || 1n;
  const groups = new Map<string, { count: number; errors: number; durations: number[]; steps: number[] }>();
  let spans = 0;
  for (let i = 0; i < c.starts.length; i++) {
    const start = c.starts[i]!;
    // Only what the walk covered whole is counted: the counts are then exact over it.
    if (start < from) continue;
    spans++;
    const key = c.values[0]![i]!;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { count: 0, errors: 0, durations: [], steps: new Array<number>(STEPS).fill(0) }));
    g.count++;
    if (c.errors[i]) g.errors++;
    g.durations.push(c.durations[i]!);
    g.steps[Math.min(STEPS - 1, Number((start - from) / stepNs))]!++;
  }
  const ranked = [...groups].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1));
  return {
    groupBy: o.groupBy,
    groups: ranked.slice(0, TOP).map(([key, g]) => {
      const sorted = g.durations.sort((a, b) => a - b);
      return { key, count: g.count, errors: g.errors, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99) };
    }),
    otherGroups: Math.max(0, ranked.length - TOP),
    series: { start: from.toString(), stepNs: stepNs.toString(), counts: Object.fromEntries(ranked.slice(0, SERIES).map(([key, g]) => [key, g.steps])) },
    spans,
    traces: c.traces,
    complete: c.complete,
    searchedFrom: from.toString(),
  };
}

/** The facets of a query: for each key, its most frequent values among the requests the query selects. */
export async function spanFacets(o: Ask & { keys: string[] }): Promise<ApiFacets> {
  const c = await collect(o, o.keys);
  const counts = o.keys.map(() => new Map<string, number>());
  // Over time too: the whole range's steps, those before searchedFrom left at 0 (not read).
  const stepNs = (o.range.end - o.range.start + BigInt(STEPS) - 1n) / BigInt(STEPS) || 1n;
  const perStep = new Array<number>(STEPS).fill(0);
  const errorsPerStep = new Array<number>(STEPS).fill(0);
  let spans = 0;
  for (let i = 0; i < c.starts.length; i++) {
    const start = c.starts[i]!;
    if (start < c.searchedFrom) continue;
    spans++;
    counts.forEach((m, k) => { const v = c.values[k]![i]!; m.set(v, (m.get(v) ?? 0) + 1); });
    const step = Math.min(STEPS - 1, Number((start - o.range.start) / stepNs));
    perStep[step]!++;
    if (c.errors[i]) errorsPerStep[step]!++;
  }
  return {
    facets: Object.fromEntries(o.keys.map((key, k) => [key, [...counts[k]!].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, FACET_VALUES).map(([value, n]) => ({ key: value, count: n }))])),
    series: { start: o.range.start.toString(), stepNs: stepNs.toString(), counts: perStep, errors: errorsPerStep },
    spans, traces: c.traces, complete: c.complete, searchedFrom: c.searchedFrom.toString(),
  };
}
