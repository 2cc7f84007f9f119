import type { Span } from '@ecs-trace/protocol';

/*
 * The Datadog Agent's trace filters and tag rewriting (trace-agent spec 5.6 and 7.6), read from
 * the same variables: DD_APM_IGNORE_RESOURCES drops chunks whose root resource matches;
 * DD_APM_FILTER_TAGS_(REGEX_)REQUIRE/REJECT keep or drop chunks by root tags; DD_APM_REPLACE_TAGS
 * rewrites tag values (and the resource) with regular expressions.
 */

export class FilterConfigError extends Error {
  override name = 'FilterConfigError';
}

interface TagRule { key: string; value?: string; regex?: RegExp }
interface ReplaceRule { name: string; pattern: RegExp; repl: string }

export interface FilterSettings {
  ignoreResources: string;
  tagsRequire: string;
  tagsReject: string;
  tagsRegexRequire: string;
  tagsRegexReject: string;
  replaceTags: string;
}

/** A regular expression in Go's syntax, as far as JavaScript shares it. */
function regex(source: string, variable: string): RegExp {
  try {
    // Go's (?i) flag at the start is JavaScript's i flag.
    const m = /^\(\?([a-z]+)\)/.exec(source);
    return m ? new RegExp(source.slice(m[0].length), m[1]!.includes('i') ? 'i' : '') : new RegExp(source);
  } catch (err) {
    throw new FilterConfigError(`${variable}: ${JSON.stringify(source)} is not a valid regular expression (${(err as Error).message})`);
  }
}

/** CSV as the agent reads DD_APM_IGNORE_RESOURCES: commas separate, double quotes group. */
export function parseCsv(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') {
      if (quoted && value[i + 1] === '"') { cur += '"'; i++; } else quoted = !quoted;
    } else if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

/** `key` or `key:value`, space-separated, or a JSON array of them. */
function parseTagRules(value: string, variable: string, asRegex: boolean): TagRule[] {
  if (value.trim() === '') return [];
  let items: string[];
  if (value.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new FilterConfigError(`${variable}: not a JSON array of "key:value" strings (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new FilterConfigError(`${variable}: expected a JSON array of "key:value" strings`);
    items = parsed;
  } else items = value.trim().split(/\s+/);
  return items.map((item) => {
    const i = item.indexOf(':');
    if (i < 0) return { key: item.trim() };
    const key = item.slice(0, i).trim();
    const v = item.slice(i + 1).trim();
    return asRegex ? { key, regex: regex(v, variable) } : { key, value: v };
  });
}

function parseReplaceRules(value: string): ReplaceRule[] {
  if (value.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new FilterConfigError(`DD_APM_REPLACE_TAGS: not JSON (${(err as Error).message}); expected [{"name": "...", "pattern": "...", "repl": "..."}]`);
  }
  if (!Array.isArray(parsed)) throw new FilterConfigError('DD_APM_REPLACE_TAGS: expected a JSON array of {"name", "pattern", "repl"}');
  return parsed.map((r: unknown, i) => {
    const o = r as Record<string, unknown>;
    if (typeof o?.['name'] !== 'string' || o['name'] === '') throw new FilterConfigError(`DD_APM_REPLACE_TAGS[${i}]: "name" is required`);
    if (typeof o['pattern'] !== 'string') throw new FilterConfigError(`DD_APM_REPLACE_TAGS[${i}]: "pattern" is required`);
    const repl = typeof o['repl'] === 'string' ? o['repl'] : '';
    // Go's ${1} is JavaScript's $1.
    return { name: o['name'], pattern: new RegExp(regex(o['pattern'], `DD_APM_REPLACE_TAGS[${i}].pattern`).source, 'g'), repl: repl.replace(/\$\{(\d+)\}/g, '$$$1') };
  });
}

export type FilterReason = 'ignore_resources' | 'filter_tags';

export class TraceFilters {
  private readonly ignore: RegExp[];
  private readonly require: TagRule[];
  private readonly rejected: TagRule[];
  private readonly replace: ReplaceRule[];
  readonly active: boolean;

  constructor(s: FilterSettings) {
    this.ignore = parseCsv(s.ignoreResources).map((r) => regex(r, 'DD_APM_IGNORE_RESOURCES'));
    const req = parseTagRules(s.tagsRequire, 'DD_APM_FILTER_TAGS_REQUIRE', false);
    const rej = parseTagRules(s.tagsReject, 'DD_APM_FILTER_TAGS_REJECT', false);
    // A key already in the exact lists is not checked again by regex.
    this.require = [...req, ...parseTagRules(s.tagsRegexRequire, 'DD_APM_FILTER_TAGS_REGEX_REQUIRE', true).filter((r) => !req.some((x) => x.key === r.key))];
    this.rejected = [...rej, ...parseTagRules(s.tagsRegexReject, 'DD_APM_FILTER_TAGS_REGEX_REJECT', true).filter((r) => !rej.some((x) => x.key === r.key))];
    this.replace = parseReplaceRules(s.replaceTags);
    this.active = this.ignore.length + this.require.length + this.rejected.length + this.replace.length > 0;
  }

  private static matches(rule: TagRule, meta: Record<string, string>): boolean {
    const v = meta[rule.key];
    if (v === undefined) return false;
    if (rule.regex) return rule.regex.test(v);
    return rule.value === undefined || v === rule.value;
  }

  /** Why the chunk with this root is dropped, or undefined to keep it. */
  reject(root: Span): FilterReason | undefined {
    if (this.ignore.some((r) => r.test(root.resource))) return 'ignore_resources';
    if (this.rejected.some((r) => TraceFilters.matches(r, root.meta))) return 'filter_tags';
    if (this.require.some((r) => !TraceFilters.matches(r, root.meta))) return 'filter_tags';
    return undefined;
  }

  /** Applies DD_APM_REPLACE_TAGS to a span. */
  rewrite(s: Span): void {
    for (const r of this.replace) {
      if (r.name === '*' || r.name === 'resource.name') s.resource = s.resource.replace(r.pattern, r.repl);
      if (r.name === 'resource.name') continue;
      for (const k of r.name === '*' ? Object.keys(s.meta) : [r.name]) {
        if (s.meta[k] !== undefined) s.meta[k] = s.meta[k]!.replace(r.pattern, r.repl);
      }
      for (const k of r.name === '*' ? Object.keys(s.metrics) : [r.name]) {
        const v = s.metrics[k];
        if (v === undefined) continue;
        const replaced = String(v).replace(r.pattern, r.repl);
        const n = Number(replaced);
        if (replaced !== '' && Number.isFinite(n)) s.metrics[k] = n;
        else {
          // Not a number any more: the tag moves to meta, as in the Datadog Agent.
          delete s.metrics[k];
          s.meta[k] = replaced;
        }
      }
    }
  }
}
