/*
 * SQL obfuscation as the Datadog Agent's default ("legacy") tokenizer does it (trace-agent spec
 * 7.1), so resources group the same way they do in Datadog: comments and `;` go, literals,
 * placeholders and bind values become `?`, `AS alias` goes, lists of `?` collapse to one, and
 * tokens are re-joined with single spaces (none before a comma). Quoted identifiers lose their
 * quotes. A query that cannot be tokenized becomes "Non-parsable SQL query".
 */

export const NON_PARSABLE_SQL = 'Non-parsable SQL query';

// 'comment' and 'filtered' (AS and its alias) write nothing but end a group of values, as the
// Agent's filtered tokens do; 'semi' (`;`) writes nothing and counts as a value.
type Kind = 'ident' | 'quoted' | 'literal' | 'dquote' | 'op' | 'punct' | 'var' | 'comment' | 'filtered' | 'semi' | 'func';

interface Token { kind: Kind; text: string }

/** The Agent's SQL options for its default tokenizer (DD_APM_FEATURES). */
export interface LegacySqlOptions {
  tableNames: boolean;
  replaceDigits: boolean;
  keepSqlAlias: boolean;
  /** A `$func$...$func$` body is obfuscated as a query of its own and kept (else it is one `?`). */
  dollarQuotedFunc: boolean;
}

const NO_OPTIONS: LegacySqlOptions = { tableNames: false, replaceDigits: false, keepSqlAlias: false, dollarQuotedFunc: false };
const LETTER = /^\p{L}/u;
const digitsToPlaceholder = (s: string) => s.replace(/[0-9]+/g, '?');
const isP = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p;

class SqlSyntaxError extends Error {}

const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{N}_.$#]/u;
// Longest first: `!~*` is one operator (PostgreSQL's "does not match, case-insensitive"), as in the
// Agent's tokenizer.
const OPERATORS = ['<=>', '!~*', '<>', '<=', '>=', '!=', '!~', '~*', '::', ':=', '&&', '==', '=', '<', '>', '+', '-', '*', '/', '%', '!', '&', '|', '^', '~', ':'];
/** What may follow `!` (the Agent's isValidCharAfterOperator); anything else makes the query non-parsable. */
const AFTER_BANG = /^[(`'"+\-\s\p{L}\p{N}_@#]/u;

function tokenize(sql: string, backslashEscapes: boolean, o: LegacySqlOptions = NO_OPTIONS): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const quoted = (q: string): string => {
    // From just after the opening quote to the closing one; doubled quotes are one quote.
    let s = '';
    for (;;) {
      if (i >= n) throw new SqlSyntaxError('unterminated quoted string');
      const c = sql[i]!;
      if (backslashEscapes && c === '\\' && i + 1 < n) {
        s += sql[i + 1];
        i += 2;
        continue;
      }
      if (c === q) {
        if (sql[i + 1] === q) {
          s += q;
          i += 2;
          continue;
        }
        i++;
        return s;
      }
      s += c;
      i++;
    }
  };
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) { i++; continue; }
    // Comments.
    if (c === '-' && sql[i + 1] === '-') { while (i < n && sql[i] !== '\n') i++; out.push({ kind: 'comment', text: '' }); continue; }
    if (c === '#') { while (i < n && sql[i] !== '\n') i++; out.push({ kind: 'comment', text: '' }); continue; }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new SqlSyntaxError('unterminated comment');
      i = end + 2;
      out.push({ kind: 'comment', text: '' });
      continue;
    }
    // Without a DBMS (the Agent's default tokenizer is given none) `->` is a minus sign read as
    // a number, and `->>` one too, followed by `>`s.
    if (c === '-' && sql[i + 1] === '>') { i++; out.push({ kind: 'literal', text: '?' }); continue; }
    if (c === "'") { i++; quoted("'"); out.push({ kind: 'literal', text: '?' }); continue; }
    if (c === '"') {
      i++;
      const s = quoted('"');
      out.push({ kind: 'dquote', text: s });
      continue;
    }
    if (c === '`') { i++; out.push({ kind: 'quoted', text: quoted('`') }); continue; }
    // Dollar-quoted strings ($$...$$, $tag$...$tag$) and positional parameters ($1).
    if (c === '$') {
      const param = /^\$\d+/.exec(sql.slice(i));
      if (param) { i += param[0].length; out.push({ kind: 'literal', text: '?' }); continue; }
      // The tag is read as the Agent's tokenizer reads a string delimited by `$`: `$$` inside it is
      // one `$`, a backslash escapes (where backslashes escape), spaces are kept (`$some tag$`),
      // and an empty or blank tag means `$$`.
      let j = i + 1;
      let tagText = '';
      for (;;) {
        let ch = sql[j++];
        if (ch === '$') {
          if (sql[j] !== '$') break;
          j++;
        } else if (ch === '\\' && backslashEscapes) ch = sql[j++];
        if (ch === undefined) throw new SqlSyntaxError('unexpected EOF in string');
        tagText += ch;
      }
      const tag = tagText.trim() === '' ? '$$' : `$${tagText}$`;
      // The closing tag is matched without stepping back, as the Agent matches it: in `x$$a$` the
      // second `$` does not start a new try at `$a$`.
      const bodyStart = j;
      let got = 0;
      for (;;) {
        const ch = sql[j++];
        if (ch === undefined) throw new SqlSyntaxError('unexpected EOF in dollar-quoted string');
        if (ch === tag[got]) {
          if (++got === tag.length) break;
        } else got = 0;
      }
      const inner = tag === '$func$' && o.dollarQuotedFunc ? embedded(sql.slice(bodyStart, j - tag.length), backslashEscapes, o) : undefined;
      i = j;
      out.push(inner === undefined ? { kind: 'literal', text: '?' } : { kind: 'func', text: `$func$${inner}$func$` });
      continue;
    }
    // Python-style placeholders: %s, %(name)s, %d.
    if (c === '%') {
      // A letter after `%` is a format parameter (`%s`), as the Agent reads it: `x%ROWTYPE` is `x ? OWTYPE`.
      const ph = /^%(\([^)]*\)[sdif]|[A-Za-z_])/.exec(sql.slice(i));
      if (ph) { i += ph[0].length; out.push({ kind: 'literal', text: '?' }); continue; }
      // `%(name)` must go on with its conversion letter.
      if (sql[i + 1] === '(') throw new SqlSyntaxError('invalid character after variable identifier');
    }
    if (c === '?') { i++; out.push({ kind: 'literal', text: '?' }); continue; }
    // Braces open an escape sequence that must close. ODBC calls ({call ...}, {? = call ...})
    // are kept and their arguments obfuscated; anything else in braces (an ODBC function
    // {fn ...}, a CQL map literal {'class': 'SimpleStrategy'}) is one value.
    if (c === '{') {
      let depth = 0;
      let j = i;
      for (; j < n; j++) {
        if (sql[j] === "'") { const save = i; i = j + 1; quoted("'"); j = i - 1; i = save; continue; }
        if (sql[j] === '{') depth++;
        else if (sql[j] === '}' && --depth === 0) break;
      }
      if (depth !== 0) throw new SqlSyntaxError('unexpected EOF in escape sequence');
      if (!/^\{\s*(\?\s*=\s*)?call\b/i.test(sql.slice(i))) {
        i = j + 1;
        out.push({ kind: 'literal', text: '?' });
        continue;
      }
    }
    // Numbers; a minus before a digit is always a sign to the Agent's tokenizer (`a -1` is `a ?`), a plus never.
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? '')) || (c === '-' && /[0-9.]/.test(sql[i + 1] ?? ''))) {
      const num = /^-?(0x[0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)/.exec(sql.slice(i));
      if (num) {
        const after = sql[i + num[0].length] ?? '';
        // Digits followed by letters are an identifier (e.g. 49a39c4c...).
        if (!IDENT_START.test(after) || /^-?0x/i.test(num[0])) {
          i += num[0].length;
          out.push({ kind: 'literal', text: '?' });
          continue;
        }
      }
    }
    if (c === '@') {
      const v = /^@@?[\p{L}\p{N}_.$]*/u.exec(sql.slice(i))!;
      i += v[0].length;
      out.push({ kind: 'var', text: v[0] });
      continue;
    }
    // A bind variable starts with a letter or digit (`:name`); `:.` is none.
    if (c === ':' && /^[.,;)\]}]/.test(sql[i + 1] ?? '')) throw new SqlSyntaxError('bind variables should start with letters or digits');
    if (c === ':' && /[\p{L}\p{N}_]/u.test(sql[i + 1] ?? '')) {
      const v = /^:[\p{L}\p{N}_]+/u.exec(sql.slice(i))!;
      i += v[0].length;
      out.push({ kind: 'var', text: v[0] });
      continue;
    }
    // Identifiers by code point: a letter outside the BMP is one letter, not two halves.
    const cp = String.fromCodePoint(sql.codePointAt(i)!);
    if (IDENT_START.test(cp) || /[0-9]/.test(c)) {
      let j = i + cp.length;
      for (;;) {
        if (j >= n) break;
        const part = String.fromCodePoint(sql.codePointAt(j)!);
        if (!(IDENT_PART.test(part) || (part === '*' && sql[j - 1] === '.'))) break;
        j += part.length;
      }
      const word = sql.slice(i, j);
      i = j;
      out.push(/^(null|true|false)$/i.test(word) ? { kind: 'literal', text: '?' } : { kind: 'ident', text: word });
      continue;
    }
    if ('(),;[]{}.'.includes(c)) { i++; out.push({ kind: 'punct', text: c }); continue; }
    const op = OPERATORS.find((o) => sql.startsWith(o, i));
    if (op === '!' && !AFTER_BANG.test(sql.slice(i + 1, i + 3))) throw new SqlSyntaxError(`unexpected character after "!"`);
    if (op) { i += op.length; out.push({ kind: 'op', text: op }); continue; }
    // Anything else (a backslash outside a string, a symbol, an emoji) is a character the
    // Agent's tokenizer does not know: the query is not parsable.
    throw new SqlSyntaxError(`unexpected character ${JSON.stringify(cp)}`);
  }
  return out;
}

/**
 * Marks `;`, comments and `AS alias` as writing nothing; turns literals (and SAVEPOINT names,
 * double-quoted values after `=`) into `?`; collects the tables named after FROM, JOIN, UPDATE and
 * INTO, as the Agent's metadata filter does (`table_names`).
 */
function discardAndReplace(tokens: Token[], o: LegacySqlOptions, tables: string[]): Token[] {
  const out: Token[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const before = out[out.length - 1];
    if (o.tableNames && before?.kind === 'ident') {
      const kw = before.text.toUpperCase();
      if (((kw === 'FROM' || kw === 'JOIN') && LETTER.test(t.text)) || kw === 'UPDATE' || kw === 'INTO') {
        const name = o.replaceDigits ? digitsToPlaceholder(t.text) : t.text;
        if (!tables.includes(name)) tables.push(name);
      }
    }
    if (t.kind === 'punct' && t.text === ';') { out.push({ kind: 'semi', text: '' }); continue; }
    if (t.kind === 'comment') { out.push({ kind: 'filtered', text: '' }); continue; }
    if (t.kind === 'ident' && /^as$/i.test(t.text) && o.keepSqlAlias) {
      // A bracketed alias goes even when aliases are kept, all but its `]`: the Agent writes `AS ]`.
      out.push(t);
      if (isP(tokens[k + 1], '[')) {
        while (k + 1 < tokens.length && !isP(tokens[k + 1], ']')) k++;
      }
      continue;
    }
    if (t.kind === 'ident' && /^as$/i.test(t.text)) {
      out.push({ kind: 'filtered', text: '' });
      const next = tokens[k + 1];
      if (next?.kind === 'punct' && next.text === '[') {
        while (k < tokens.length && !(tokens[k]!.kind === 'punct' && tokens[k]!.text === ']')) k++;
      } else if (next !== undefined) {
        // Whatever follows AS goes, a parenthesis too (`WITH t AS (SELECT ...`), as in the Agent.
        k++;
      }
      continue;
    }
    if (o.replaceDigits && (t.kind === 'ident' || t.kind === 'quoted' || (t.kind === 'var' && t.text.startsWith('@'))) && /[0-9]/.test(t.text)) {
      out.push({ kind: t.kind, text: digitsToPlaceholder(t.text) });
      continue;
    }
    const prev = out[out.length - 1];
    if (prev?.kind === 'ident' && /^savepoint$/i.test(prev.text) && t.kind !== 'punct') {
      out.push({ kind: 'literal', text: '?' });
      continue;
    }
    if (t.kind === 'dquote') {
      out.push(prev?.kind === 'op' && prev.text === '=' ? { kind: 'literal', text: '?' } : { kind: 'quoted', text: t.text });
      continue;
    }
    out.push(t);
  }
  return out;
}

/*
 * The Agent's grouping filter: values in a row (commas between them dropped) become one `?`,
 * and a list of groups one group: `( ?, ? ), ( ?, ? )` -> `( ? )`. Like the Agent, it only ends
 * a group at a token that is none of `,`, `(`, `)`, so `IF ( a > ? ), b` loses its comma too.
 */
function groupAndJoin(tokens: Token[]): string {
  let groupFilter = 0;
  let groupMulti = 0;
  // The last token as the filter saw it: 'value' for a value it counted, 'valueParen' for a `(`
  // it dropped in a group of groups.
  let last: string = '';
  let s = '';
  const isValue = (k: string) => k === 'value' || k === 'valueParen';
  for (const t of tokens) {
    let kind: string = t.kind === 'literal' || t.kind === 'semi' ? 'value' : t.kind === 'punct' && '(),'.includes(t.text) ? t.text : t.kind;
    let text: string | undefined = t.kind === 'semi' || t.kind === 'filtered' ? undefined : t.text;
    if ((last === '(' && isValue(kind)) || (kind === '(' && groupMulti > 0)) groupMulti++;
    const drop = () => { kind = kind === '(' ? 'valueParen' : 'value'; text = undefined; };
    if (groupMulti > 0 && last === 'valueParen' && kind === 'ident') {
      // A subquery after a group: grouping stops, and its parenthesis is written after all.
      groupFilter = 0;
      groupMulti = 0;
      text = `( ${text!}`;
    } else if (isValue(kind)) {
      if (++groupFilter > 1) drop();
    } else if (groupFilter > 0 && kind === ',') drop();
    else if (groupMulti > 1) drop();
    else if (kind !== ',' && kind !== '(' && kind !== ')') {
      groupFilter = 0;
      groupMulti = 0;
    }
    if (text !== undefined) {
      if (s !== '' && kind !== ',' && !(t.kind === 'op' && t.text === '=' && last === 'op:')) s += ' ';
      s += text;
    }
    last = t.kind === 'op' && t.text === ':' && kind === 'op' ? 'op:' : kind;
  }
  return s;
}

/** A `$func$` body obfuscated as the Agent does it (one try, its tables not collected), or undefined when that fails. */
function embedded(body: string, backslashEscapes: boolean, o: LegacySqlOptions): string | undefined {
  try {
    const out = groupAndJoin(discardAndReplace(tokenize(body, backslashEscapes, o), o, []));
    return out === '' ? undefined : out;
  } catch (err) {
    if (err instanceof SqlSyntaxError) return undefined;
    throw err;
  }
}

/** The obfuscated query, or NON_PARSABLE_SQL. */
export function obfuscateSql(sql: string): string {
  return obfuscateSqlWith(sql, NO_OPTIONS).query;
}

/** The obfuscated query (or NON_PARSABLE_SQL) and, with `tableNames`, the tables it names. */
export function obfuscateSqlWith(sql: string, o: LegacySqlOptions): { query: string; tables: string[] } {
  let tokens: Token[];
  try {
    tokens = tokenize(sql, true, o);
  } catch {
    // Backslashes may not be escapes in this dialect: try again without.
    try {
      tokens = tokenize(sql, false, o);
    } catch {
      return { query: NON_PARSABLE_SQL, tables: [] };
    }
  }
  const tables: string[] = [];
  const result = groupAndJoin(discardAndReplace(tokens, o, tables));
  return result === '' ? { query: NON_PARSABLE_SQL, tables: [] } : { query: result, tables };
}
