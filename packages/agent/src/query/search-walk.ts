import type { TraceQuery, TraceSummaryRecord } from '../store/index.js';
import { QueryError } from './params.js';

/*
 * A trace search that finds what it says it looked for. The range is walked newest first, a time
 * window at a time: the store gives a window's candidates whole (fewer than it was asked for: else
 * the window is narrowed, or asked for more), they are checked in a fixed order (newest trace first,
 * then by id), and the walk goes on to older windows until it has `limit` matches, has covered
 * the range, or has used its time. The answer says which: `complete` when the range is covered,
 * else `searchedFrom` (every match from there to the range's end is in this page or the ones
 * before it) and a cursor that resumes exactly where this page stopped. `limit` never changes
 * which traces match, only how many one page holds.
 *
 * A trace whose matching spans fall in two windows is a candidate of both: within a page it is
 * listed once; across pages it can be listed again (the UI shows it once).
 */

/** Candidates asked of the store for one window at most; a window that fills what it was asked is narrowed. */
const CANDIDATES = 1000;
const FIRST_WINDOW_NS = 3_600_000_000_000n;
/**
 * The most a window is asked for. A window that still fills it (64k traces matching there, most
 * of which started before it) is taken with what it gave; no search of this project comes near.
 */
const MAX_ASK = 65_536;

/** Where a page stopped: the window it was in, and how many of the window's matches it had gone through. */
export interface WalkCursor {
  from: bigint;
  to: bigint;
  skip: number;
}

export interface WalkResult {
  traces: TraceSummaryRecord[];
  /** The whole range was searched: there is no other match. */
  complete: boolean;
  /** ns: every match from here to the range's end is in this page or those before it. */
  searchedFrom: bigint;
  cursor?: WalkCursor;
  /** Candidates checked against span conditions (0 without any). */
  checked: number;
}

export interface WalkOptions {
  /** Index conditions and the range (start inclusive, end exclusive); `limit` is the page's size. */
  query: TraceQuery & { start: bigint; end: bigint };
  candidates: (q: TraceQuery) => Promise<TraceSummaryRecord[]>;
  /** Conditions the index cannot answer (tags, wildcards); undefined: every candidate matches. */
  matches?: (c: TraceSummaryRecord) => Promise<boolean>;
  cursor?: WalkCursor;
  /** Date.now() past which the page stops where it is and says so. */
  deadline: number;
  now?: () => number;
}

const key = (c: TraceSummaryRecord) => `${c.traceId.high.toString(16)}:${c.traceId.low.toString(16)}`;
const newestFirst = (a: TraceSummaryRecord, b: TraceSummaryRecord): number =>
  a.start !== b.start ? (a.start > b.start ? -1 : 1) : key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0;

export async function walkSearch(o: WalkOptions): Promise<WalkResult> {
  const now = o.now ?? Date.now;
  const { start } = o.query;
  const limit = o.query.limit;
  const traces: TraceSummaryRecord[] = [];
  const listed = new Set<string>();
  let checked = 0;
  if (o.cursor && (o.cursor.to > o.query.end || o.cursor.from < start)) {
    throw new QueryError('cursor: it belongs to another time range; pass the same start and end as the page that gave it');
  }
  let to = o.cursor?.to ?? o.query.end;
  let width = o.cursor ? o.cursor.to - o.cursor.from : FIRST_WINDOW_NS;
  let skip = o.cursor?.skip ?? 0;
  // Partly through the window [from, to): it is where the next page starts.
  const stopped = (from: bigint, windowTo: bigint, position: number): WalkResult =>
    ({ traces, complete: false, searchedFrom: windowTo, cursor: { from, to: windowTo, skip: position }, checked });
  // A page always gets through one candidate at least, so that following cursors gets somewhere.
  let progressed = false;
  const late = () => progressed && now() > o.deadline;
  // How many candidates a window may give beyond the usual, once it cannot be narrowed.
  let more = 1;
  while (to > start) {
    const from = to - width > start ? to - width : start;
    if (traces.length >= limit || late()) return stopped(from, to, skip);
    // Without span conditions every candidate matches: a window needs to give little more than
    // the page still lacks (at least 100, so that windows do not shrink as the page fills). With
    // them, candidates are checked one by one.
    const ask = (o.matches ? CANDIDATES : Math.min(CANDIDATES, Math.max(100, 2 * (limit - traces.length + skip) + 1))) * more;
    // First only when they matched (a store may then skip their summaries): a window that holds
    // more than asked for is narrowed without its summaries built; one that does not is asked
    // again whole (a store that gave whole records already is not).
    let window = await o.candidates({ ...o.query, start: from, end: to, limit: ask, startsOnly: true });
    if (window.length >= ask && ask < MAX_ASK) {
      // More traces than were asked for. Narrower, from the same end, back to where the newer half
      // of them started (they match there, so it likely holds half as many); where half of them
      // started at or before the window's start (a burst at one instant, or long traces), a
      // narrower window would hold them all again: the same window is asked for more instead.
      // A window a page stopped in part way through keeps its shape, so that its skip still counts.
      const starts = window.map((c) => c.start).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
      const median = starts[Math.floor(starts.length / 2)]!;
      if (median > from && skip === 0) width = to - median;
      else more *= 4;
      continue;
    }
    more = 1;
    if (window.some((c) => c.services.length === 0)) window = await o.candidates({ ...o.query, start: from, end: to, limit: ask });
    window.sort(newestFirst);
    for (let i = skip; i < window.length; i++) {
      if (traces.length >= limit || late()) return stopped(from, to, i);
      progressed = true;
      if (o.matches) {
        checked++;
        if (!(await o.matches(window[i]!))) continue;
      }
      const k = key(window[i]!);
      if (listed.has(k)) continue;
      listed.add(k);
      traces.push(window[i]!);
    }
    progressed = true;
    skip = 0;
    to = from;
    // Sparse windows widen, so that an empty stretch of the range costs few looks.
    if (window.length === 0) width *= 8n;
    else if (window.length < ask / 4) width *= 2n;
  }
  return { traces, complete: true, searchedFrom: start, checked };
}

/**
 * The cursor as the API hands it out: opaque to callers, checked when it comes back. `driver`
 * names how the search's candidates are found (search-drivers.ts), so that every page of a search
 * finds them the same way.
 */
export function encodeCursor(c: WalkCursor, driver = 0): string {
  return Buffer.from(`${c.from}.${c.to}.${c.skip}${driver === 0 ? '' : `.${driver}`}`).toString('base64url');
}

export function decodeCursor(text: string): { cursor: WalkCursor; driver: number } {
  const m = /^(-?\d+)\.(-?\d+)\.(\d+)(?:\.(\d+))?$/.exec(Buffer.from(text, 'base64url').toString());
  if (!m) throw new QueryError(`cursor: "${text.slice(0, 40)}" is not a cursor this API gave`);
  const c = { from: BigInt(m[1]!), to: BigInt(m[2]!), skip: Number(m[3]) };
  const driver = Number(m[4] ?? 0);
  if (c.from >= c.to || !Number.isSafeInteger(c.skip) || !Number.isSafeInteger(driver)) throw new QueryError(`cursor: "${text.slice(0, 40)}" is not a cursor this API gave`);
  return { cursor: c, driver };
}
