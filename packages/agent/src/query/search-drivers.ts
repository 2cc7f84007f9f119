import type { TraceQuery, TraceReader, TraceRecord, TraceSummaryRecord } from '../store/index.js';
import { QueryError } from './params.js';
import { exactTagTerms, indexedSpanMatches, traceMatches, type ParsedSearch } from './search-query.js';

/*
 * How a search finds its candidates, chosen once per search and kept in its cursor: by the search
 * index (service, env, resource, operation, errors, duration: driver 0), or by the tag index for
 * one of its exact tag terms (driver 1 + the term's place). The first page asks each way for the
 * newest hour's candidates and takes the way that gives the fewest (fewer traces to check); every
 * candidate is then checked against the whole query, so the way changes how fast a search is,
 * not what it finds. A trace is in the range when the span a way finds it by starts there: the
 * indexed span meeting the index conditions, or the span carrying the tag.
 */

const PROBE_NS = 3_600_000_000_000n;
const PROBE_LIMIT = 64;

export interface SearchPlan {
  driver: number;
  candidates: (q: TraceQuery) => Promise<TraceSummaryRecord[]>;
  /** undefined: every candidate matches (the index answered every condition). */
  matches?: (c: TraceSummaryRecord) => Promise<boolean>;
}

type Conditions = Omit<TraceQuery, 'limit' | 'start' | 'end' | 'tag'>;

/** The conditions of a query that the search index answers. */
export function indexConditions(q: TraceQuery): Conditions {
  const c: Conditions = {};
  for (const k of ['service', 'env', 'resource', 'name'] as const) if (q[k] !== undefined) c[k] = q[k];
  if (q.error !== undefined) c.error = q.error;
  if (q.minDurationNs !== undefined) c.minDurationNs = q.minDurationNs;
  if (q.maxDurationNs !== undefined) c.maxDurationNs = q.maxDurationNs;
  return c;
}

function hasConditions(q: Conditions): boolean {
  return Object.keys(q).length > 0;
}

const keyOf = (c: TraceSummaryRecord): string => `${c.traceId.high}:${c.traceId.low}`;

/**
 * The traces a window's candidates are checked on, read where the store can in batches (a store
 * across a network: a round trip a batch, not a trace). A batch is read when the first of its
 * candidates is checked, not when the window is listed (the way-picking probe lists without
 * checking), and batches grow from 16 as a window's checks go on: a page whose time runs out
 * has not waited for reads it will not check.
 */
class ReadAhead {
  private window = new Map<string, number>();
  private list: TraceSummaryRecord[] = [];
  private readonly ahead = new Map<string, Promise<TraceRecord | undefined>>();
  private batch = FIRST_BATCH;

  constructor(private readonly store: TraceReader) {}

  listed(list: TraceSummaryRecord[]): TraceSummaryRecord[] {
    this.list = list;
    this.window = new Map(list.map((c, i) => [keyOf(c), i]));
    this.ahead.clear();
    this.batch = FIRST_BATCH;
    return list;
  }

  read(c: TraceSummaryRecord): Promise<TraceRecord | undefined> {
    const k = keyOf(c);
    const at = this.window.get(k);
    if (!this.ahead.has(k) && at !== undefined && this.store.getTraces) {
      const next = this.list.slice(at, at + this.batch).filter((x) => !this.ahead.has(keyOf(x)));
      this.batch = Math.min(this.batch * 2, LAST_BATCH);
      const batch = this.store.getTraces(next.map((x) => x.traceId));
      // A read that fails is failed again by the check that asks for it.
      batch.catch(() => undefined);
      next.forEach((x, i) => this.ahead.set(keyOf(x), batch.then((all) => all[i])));
    }
    const t = this.ahead.get(k) ?? this.store.getTrace(c.traceId);
    this.ahead.delete(k);
    return t;
  }
}

const FIRST_BATCH = 16;
const LAST_BATCH = 256;

/** The plan for driver `driver` of a search; `conditions` are the index conditions of the query. */
function planOf(store: TraceReader, search: ParsedSearch, conditions: Conditions, driver: number): SearchPlan {
  const terms = search.terms;
  const traces = new ReadAhead(store);
  if (driver === 0) {
    return {
      driver, candidates: async (q) => traces.listed(await store.searchTraces({ ...conditions, ...q })),
      ...(terms.length > 0 ? { matches: async (c: TraceSummaryRecord) => { const t = await traces.read(c); return t !== undefined && traceMatches(t.spans, terms); } } : {}),
    };
  }
  const tag = exactTagTerms(terms)[driver - 1]!;
  const indexed = hasConditions(conditions);
  return {
    driver,
    candidates: async (q) => traces.listed(await store.searchTraces({ ...(q.start !== undefined ? { start: q.start } : {}), ...(q.end !== undefined ? { end: q.end } : {}), limit: q.limit, tag })),
    matches: async (c) => {
      const t = await traces.read(c);
      return t !== undefined && (!indexed || indexedSpanMatches(t.spans, conditions)) && traceMatches(t.spans, terms);
    },
  };
}

/**
 * The search's plan: the cursor's way when it has one, else the way with the fewest candidates
 * in the range's newest hour (the search index on a tie).
 */
export async function planSearch(store: TraceReader, search: ParsedSearch, conditions: Conditions, range: { start: bigint; end: bigint }, cursorDriver?: number): Promise<SearchPlan> {
  const ways = 1 + exactTagTerms(search.terms).length;
  if (cursorDriver !== undefined) {
    if (cursorDriver >= ways) throw new QueryError('cursor: it belongs to another search; pass the same q as the page that gave it');
    return planOf(store, search, conditions, cursorDriver);
  }
  if (ways === 1) return planOf(store, search, conditions, 0);
  const probe = { start: range.end - PROBE_NS > range.start ? range.end - PROBE_NS : range.start, end: range.end, limit: PROBE_LIMIT };
  const plans = Array.from({ length: ways }, (_, d) => planOf(store, search, conditions, d));
  let best = plans[0]!;
  let fewest = (await best.candidates(probe)).length;
  for (const p of plans.slice(1)) {
    const n = (await p.candidates(probe)).length;
    if (n < fewest) { best = p; fewest = n; }
  }
  return best;
}
