import type { TraceQuery, TraceSummaryRecord } from '../store/index.js';
import { QueryError } from './params.js';

/*
 * A trace search that finds what it says it looked for. The range is walked newest first, a time
 * window at a time: the store gives a window's candidates whole (fewer than CANDIDATES: else the
 * window is narrowed and asked again), they are checked in a fixed order (newest trace first,
 * then by id), and the walk goes on to older windows until it has `limit` matches, has covered
 * the range, or has used its time. The answer says which: `complete` when the range is covered,
 * else `searchedFrom` (every match from there to the range's end is in this page or the ones
 * before it) and a cursor that resumes exactly where this page stopped. `limit` never changes
 * which traces match, only how many one page holds.
 *
 * A trace whose matching spans fall in two windows is a candidate of both: within a page it is
 * listed once; across pages it can be listed again (the UI shows it once).
 */

/** Candidates asked of the store for one window; a window that fills it is narrowed. */
const CANDIDATES = 1000;
const FIRST_WINDOW_NS = 3_600_000_000_000n;

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
  let to = o.cursor?.to ?? o.query.end;
  let width = o.cursor ? o.cursor.to - o.cursor.from : FIRST_WINDOW_NS;
  let skip = o.cursor?.skip ?? 0;
  // Partly through the window [from, to): it is where the next page starts.
  const stopped = (from: bigint, windowTo: bigint, position: number): WalkResult =>
    ({ traces, complete: false, searchedFrom: windowTo, cursor: { from, to: windowTo, skip: position }, checked });
  // A page always gets through one candidate at least, so that following cursors gets somewhere.
  let progressed = false;
  const late = () => progressed && now() > o.deadline;
  while (to > start) {
    const from = to - width > start ? to - width : start;
    if (traces.length >= limit || late()) return stopped(from, to, skip);
    const window = await o.candidates({ ...o.query, start: from, end: to, limit: CANDIDATES });
    // A window of one nanosecond is taken as it is: a thousand traces do not share one.
    if (window.length >= CANDIDATES && to - from > 1n) {
      // More traces than one look takes: a narrower window, from the same end.
      width = (to - from) / 4n > 0n ? (to - from) / 4n : 1n;
      skip = 0;
      continue;
    }
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
    if (window.length < CANDIDATES / 4) width *= 2n;
  }
  return { traces, complete: true, searchedFrom: start, checked };
}

/** The cursor as the API hands it out: opaque to callers, checked when it comes back. */
export function encodeCursor(c: WalkCursor): string {
  return Buffer.from(`${c.from}.${c.to}.${c.skip}`).toString('base64url');
}

export function decodeCursor(text: string): WalkCursor {
  const m = /^(-?\d+)\.(-?\d+)\.(\d+)$/.exec(Buffer.from(text, 'base64url').toString());
  if (!m) throw new QueryError(`cursor: "${text.slice(0, 40)}" is not a cursor this API gave`);
  const c = { from: BigInt(m[1]!), to: BigInt(m[2]!), skip: Number(m[3]) };
  if (c.from >= c.to || !Number.isSafeInteger(c.skip)) throw new QueryError(`cursor: "${text.slice(0, 40)}" is not a cursor this API gave`);
  return c;
}
