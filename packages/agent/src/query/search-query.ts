import type { SpanRecord, TraceQuery } from '../store/index.js';
import { Wildcard } from './wildcard.js';
import { indexedTag, indexedText, TEXT_KEY } from '../store/index.js';

/*
 * The trace search language, Datadog-style: `service:checkout env:prod -status:error
 * http.status_code:5* resource:"GET /cart"`. Terms are ANDed (an explicit AND is allowed), `-`
 * negates, `*` is a wildcard. Exact conditions on indexed fields narrow the search in the store;
 * everything else (any tag, wildcards, negations) is checked against the trace's spans.
 */

export class SearchSyntaxError extends Error {
  override name = 'SearchSyntaxError';
}

export interface SpanTerm {
  key: string;
  pattern: Wildcard;
  negate: boolean;
  /** Free text as typed (key `*text`): found in a span's resource, operation name or error message. */
  text?: string;
}

export interface ParsedSearch {
  index: Partial<Pick<TraceQuery, 'service' | 'env' | 'resource' | 'name' | 'error'>>;
  terms: SpanTerm[];
}

const FIELD_ALIASES: Record<string, string> = { resource_name: 'resource', operation_name: 'name', operation: 'name' };
const INDEXED = new Set(['service', 'env', 'resource', 'name']);

function tokens(q: string): string[] {
  const out: string[] = [];
  const re = /\s*(-?[^\s:"]+:"(?:[^"\\]|\\.)*"|-?"(?:[^"\\]|\\.)*"|\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(q)) !== null) if (m[1]) out.push(m[1]);
  return out;
}

export function parseSearchQuery(q: string): ParsedSearch {
  const parsed: ParsedSearch = { index: {}, terms: [] };
  for (let t of tokens(q)) {
    if (t === 'AND') continue;
    if (t === 'OR' || t === 'NOT') throw new SearchSyntaxError(`${t} is not supported: terms are ANDed; negate one with -`);
    const negate = t.startsWith('-');
    if (negate) t = t.slice(1);
    const colon = t.indexOf(':');
    let key = colon > 0 ? t.slice(0, colon) : '*text';
    let value = colon > 0 ? t.slice(colon + 1) : t;
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (value === '') throw new SearchSyntaxError(`${t}: no value after the colon`);
    key = FIELD_ALIASES[key] ?? key;
    if (key === 'status') {
      if (value !== 'error' && value !== 'ok') throw new SearchSyntaxError(`status:${value}: use status:error or status:ok`);
      const error = (value === 'error') !== negate;
      parsed.index.error = error;
      continue;
    }
    if (!negate && !value.includes('*') && INDEXED.has(key)) {
      (parsed.index as Record<string, string>)[key] = value;
      continue;
    }
    parsed.terms.push({ key, pattern: new Wildcard(key === '*text' ? `*${value}*` : value), negate, ...(key === '*text' ? { text: value } : {}) });
  }
  return parsed;
}

/** Whether one span meets a term (a negated term: whether it would, were it not negated). */
export function spanTermMatches({ span: s, env }: SpanRecord, t: SpanTerm): boolean {
  switch (t.key) {
    case '*text': return t.pattern.test(s.resource) || t.pattern.test(s.name) || (s.meta['error.message'] !== undefined && t.pattern.test(s.meta['error.message']));
    case 'env': return t.pattern.test(env);
    case 'service': case 'resource': case 'name': case 'type':
      return t.pattern.test(s[t.key]);
  }
  const v = s.meta[t.key] ?? (s.metrics[t.key] !== undefined ? String(s.metrics[t.key]) : undefined);
  return v !== undefined && t.pattern.test(v);
}

/** A trace matches when, for every term, some span matches it (none, for a negated term). */
export function traceMatches(spans: SpanRecord[], terms: SpanTerm[]): boolean {
  return terms.every((t) => spans.some((s) => spanTermMatches(s, t)) !== t.negate);
}

/** The terms the tag index can find candidates for: exact, not negated, on a tag it holds; free text of three characters or more. */
export function exactTagTerms(terms: readonly SpanTerm[]): { key: string; value: string }[] {
  return terms.flatMap((t) => {
    if (t.negate) return [];
    if (t.text !== undefined) return indexedText(t.text) ? [{ key: TEXT_KEY, value: t.text }] : [];
    return !t.pattern.glob.includes('*') && indexedTag(t.key, t.pattern.glob) ? [{ key: t.key, value: t.pattern.glob }] : [];
  });
}

/**
 * Whether a span is one the search index holds (a service entry, an error or a root) and meets
 * every index condition of the query at once, as the index would have found it.
 */
export function indexedSpanMeets({ span: s, env }: SpanRecord, q: Omit<TraceQuery, 'limit' | 'start' | 'end'>): boolean {
  return (s.metrics['_top_level'] === 1 || s.error !== 0 || s.parentId === 0n) &&
    (q.service === undefined || s.service === q.service) &&
    (q.env === undefined || env === q.env) &&
    (q.resource === undefined || s.resource === q.resource) &&
    (q.name === undefined || s.name === q.name) &&
    (q.error === undefined || (s.error !== 0) === q.error) &&
    (q.minDurationNs === undefined || s.duration >= q.minDurationNs) &&
    (q.maxDurationNs === undefined || s.duration <= q.maxDurationNs);
}

/** Whether some span of the trace is one the search index would have found it by. */
export function indexedSpanMatches(spans: readonly SpanRecord[], q: Omit<TraceQuery, 'limit' | 'start' | 'end'>): boolean {
  return spans.some((r) => indexedSpanMeets(r, q));
}
