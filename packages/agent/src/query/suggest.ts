import type { ServiceStatsRow, TraceQuery, TraceReader } from '../store/index.js';
import type { ApiSuggestions } from './api-types.js';
import { indexConditions, planSearch } from './search-drivers.js';
import type { ParsedSearch } from './search-query.js';
import { walkSearch } from './search-walk.js';

/*
 * Autocomplete for the search box: tag keys, and the values of one key, the most frequent first,
 * within the range and the rest of the query. Services and envs come from the stats, whole and
 * exact over the range. Everything else is counted over the spans of the newest matching traces
 * (at most SAMPLE, found as the search itself finds them); the answer says how many traces it
 * counted and whether they were every match in the range, so a count is never taken for more
 * than it is. Samples are kept for a few seconds: a person typing asks again and again.
 */

const SAMPLE = 100;
const SAMPLE_MS = 1000;
const KEEP_MS = 15_000;
const KEPT = 32;
const SHOWN = 20;
/** Keys a search reads from the span itself (search-query.ts), offered beside the tags. */
const FIELDS = ['service', 'env', 'resource', 'operation', 'type', 'status'];

interface Sample {
  at: number;
  traces: number;
  spans: number;
  complete: boolean;
  keys: Map<string, number>;
  values: Map<string, Map<string, number>>;
}

function count<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export class Suggester {
  private readonly kept = new Map<string, Sample>();

  constructor(
    private readonly store: TraceReader,
    private readonly serviceStats: (range: { start: bigint; end: bigint }) => Promise<ServiceStatsRow[]>,
  ) {}

  /** Suggestions for `key`'s values (or for keys, without one) starting with `prefix`. */
  async suggest(o: { search: ParsedSearch; query: TraceQuery; range: { start: bigint; end: bigint }; key?: string; prefix: string }): Promise<ApiSuggestions> {
    const prefix = o.prefix.toLowerCase();
    if (o.key === 'service' || o.key === 'env') {
      const totals = new Map<string, number>();
      for (const r of await this.serviceStats(o.range)) {
        if (o.key === 'env' ? o.query.service === undefined || r.service === o.query.service : o.query.env === undefined || r.env === o.query.env) {
          totals.set(r[o.key], (totals.get(r[o.key]) ?? 0) + r.topLevelHits);
        }
      }
      return { key: o.key, suggestions: ranked(totals, prefix), basis: 'stats' };
    }
    const sample = await this.sample(o.search, o.query, o.range);
    const sampled = { traces: sample.traces, spans: sample.spans, complete: sample.complete };
    if (o.key === undefined) {
      const keys = new Map(sample.keys);
      for (const f of FIELDS) keys.set(f, sample.spans);
      return { suggestions: ranked(keys, prefix), basis: 'sample', sampled };
    }
    return { key: o.key, suggestions: ranked(sample.values.get(o.key === 'operation' ? 'name' : o.key) ?? new Map(), prefix), basis: 'sample', sampled };
  }

  private async sample(search: ParsedSearch, query: TraceQuery, range: { start: bigint; end: bigint }): Promise<Sample> {
    const id = JSON.stringify([search, query, range], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const now = Date.now();
    const have = this.kept.get(id);
    if (have !== undefined && now - have.at < KEEP_MS) return have;
    const conditions = indexConditions(query);
    const plan = await planSearch(this.store, search, conditions, range);
    const page = await walkSearch({
      query: { ...conditions, ...range, limit: SAMPLE }, candidates: plan.candidates, ...(plan.matches ? { matches: plan.matches } : {}), deadline: now + SAMPLE_MS,
    });
    const sample: Sample = { at: now, traces: 0, spans: 0, complete: page.complete, keys: new Map(), values: new Map() };
    const valuesOf = (k: string): Map<string, number> => {
      let m = sample.values.get(k);
      if (m === undefined) sample.values.set(k, (m = new Map()));
      return m;
    };
    // Asked for all at once: a shared store answers them on its pool's connections side by side
    // (PostgreSQL: 151-170 ms one after the other at 10M spans), the embedded one in turn.
    const ids = page.traces.map((t) => t.traceId);
    const traces = this.store.getTraces ? await this.store.getTraces(ids) : await Promise.all(ids.map((id) => this.store.getTrace(id)));
    for (const trace of traces) {
      if (trace === undefined) continue;
      sample.traces++;
      for (const { span: s, env } of trace.spans) {
        sample.spans++;
        count(valuesOf('resource'), s.resource);
        count(valuesOf('name'), s.name);
        count(valuesOf('type'), s.type);
        count(valuesOf('status'), s.error !== 0 ? 'error' : 'ok');
        count(valuesOf('env'), env);
        for (const [k, v] of [...Object.entries(s.meta), ...Object.entries(s.metrics).map(([mk, mv]) => [mk, String(mv)] as const)]) {
          // The tracers' internals are not what people search by.
          if (k.startsWith('_')) continue;
          count(sample.keys, k);
          count(valuesOf(k), v);
        }
      }
    }
    if (this.kept.size >= KEPT) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(id, sample);
    return sample;
  }
}

/** Those starting with the prefix first, then those holding it, each the most frequent first. */
function ranked(counts: Map<string, number>, prefix: string): { text: string; count: number }[] {
  const starts: [string, number][] = [];
  const holds: [string, number][] = [];
  for (const [text, n] of counts) {
    const lower = text.toLowerCase();
    if (lower.startsWith(prefix)) starts.push([text, n]);
    else if (prefix !== '' && lower.includes(prefix)) holds.push([text, n]);
  }
  const order = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1);
  return [...starts.sort(order), ...holds.sort(order)].slice(0, SHOWN).map(([text, n]) => ({ text, count: n }));
}
