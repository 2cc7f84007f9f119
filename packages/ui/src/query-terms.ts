/*
 * The search box's text as terms, for autocomplete and for the facets: which term the caret is
 * in, what the rest of the query is, and whether the query is one the stats can count whole.
 */

/** A term with its place in the text. */
export interface Term { text: string; start: number; end: number }

export function termsOf(q: string): Term[] {
  const out: Term[] = [];
  const re = /-?[^\s:"]+:"(?:[^"\\]|\\.)*"?|-?"(?:[^"\\]|\\.)*"?|\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(q)) !== null) out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

/** What to suggest at the caret: a key (no colon yet) or a key's values, and the query without that term. */
export interface Completing { key?: string; prefix: string; context: string; term: Term }

export function completing(q: string, caret: number): Completing {
  const terms = termsOf(q);
  const term = terms.find((t) => caret >= t.start && caret <= t.end) ?? { text: '', start: caret, end: caret };
  const context = terms.filter((t) => t !== term).map((t) => t.text).join(' ');
  const text = term.text.replace(/^-/, '');
  const colon = text.indexOf(':');
  if (colon <= 0) return { prefix: text, context, term };
  return { key: text.slice(0, colon), prefix: text.slice(colon + 1).replace(/^"/, '').replace(/"$/, ''), context, term };
}

/** The text with the term replaced by the suggestion taken (a key gets its colon; a value is quoted when it has spaces). */
export function accept(q: string, c: Completing, suggestion: string): { text: string; caret: number } {
  const negate = c.term.text.startsWith('-') ? '-' : '';
  const value = /[\s"]/.test(suggestion) ? `"${suggestion.replace(/(["\\])/g, '\\$1')}"` : suggestion;
  const term = c.key === undefined ? `${negate}${suggestion}:` : `${negate}${c.key}:${value} `;
  const text = q.slice(0, c.term.start) + term + q.slice(c.term.end).replace(/^ /, '');
  return { text, caret: c.term.start + term.length };
}

/**
 * The filter of a query the stats can count whole: only exact service, env, resource and operation
 * terms. Not status: a search's errors are any error span, the stats' those of service entries.
 */
export interface StatsScope { service?: string; env?: string; resource?: string; name?: string }

export function statsScopeOf(q: string): StatsScope | undefined {
  const scope: StatsScope = {};
  for (const { text } of termsOf(q)) {
    if (text === 'AND') continue;
    const m = /^([a-z_]+):(?:"((?:[^"\\]|\\.)*)"|([^"*]+))$/.exec(text);
    if (!m) return undefined;
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    const key = ({ resource_name: 'resource', operation: 'name', operation_name: 'name' } as Record<string, string>)[m[1]!] ?? m[1]!;
    if (key === 'service' || key === 'env' || key === 'resource' || key === 'name') scope[key] = value;
    else return undefined;
  }
  return scope;
}
