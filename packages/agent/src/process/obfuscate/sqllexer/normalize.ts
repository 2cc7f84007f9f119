import { isValueToken, lastValueOf, Lexer, T, type LastValue, type Token } from './lexer.js';
import { ExtractContext, PLACEHOLDER, type LexerObfuscator } from './obfuscate.js';

/*
 * The Agent's `normalize_only` / `obfuscate_and_normalize` modes: tokens re-joined with single
 * spaces (none before `,` or `;`), comments and `AS alias` dropped, lists of `?` grouped into one,
 * identifier quotes removed where that is safe, a trailing `;` dropped, and the tables the query
 * reads or writes collected (the Agent's `table_names` feature puts them in `sql.tables`).
 */

export interface LexerNormalizeOptions {
  collectTables: boolean;
  keepSqlAlias: boolean;
  removeSpaceBetweenParentheses: boolean;
  keepTrailingSemicolon: boolean;
  keepIdentifierQuotation: boolean;
}

export const AGENT_NORMALIZE_DEFAULTS: LexerNormalizeOptions = {
  collectTables: false, keepSqlAlias: false, removeSpaceBetweenParentheses: false, keepTrailingSemicolon: false, keepIdentifierQuotation: false,
};

export interface Normalized {
  query: string;
  tables: string[];
}

/** Quotes, brackets and backticks taken out of a quoted identifier. */
function trimQuotes(value: string): string {
  return value.replace(/["[\]`]/g, '');
}

const isPlaceholder = (v: string) => v === PLACEHOLDER;

/** The state of one normalization, token by token. */
class Run {
  out = '';
  private groupable = false;
  // A statement that opens with `(`: held apart until its `)` shows whether it is a statement
  // (kept) or SQL Server's parameter declaration before one (dropped).
  private readFirst = false;
  private inLeading = false;
  private foundLeading = false;
  private standalone = false;
  private leading = '';
  private leadingHasCommand = false;
  private depth = 0;
  private colonBefore: T | undefined;
  private hasColon = false;
  // Collection of tables: CTE names are not tables.
  private ctes: Set<string> | undefined;
  private inTableList = false;
  readonly tables: string[] = [];

  constructor(private readonly o: LexerNormalizeOptions, private readonly normalizer: LexerNormalizer) {}

  private stripQuotes(t: Token, last: LastValue | undefined): boolean {
    if (this.o.keepIdentifierQuotation) return false;
    if (last?.type === T.ALIAS_INDICATOR && !t.isSimpleIdentifier) return false;
    // A bracketed name with spaces would come out as several tokens.
    return !/[ \t\n\r]/.test(t.value);
  }

  collect(t: Token, last: LastValue | undefined): void {
    if (t.type === T.COMMAND || t.type === T.KEYWORD) {
      this.inTableList = false;
    } else if (t.type === T.PUNCTUATION && (t.value === '(' || t.value === ')')) {
      this.inTableList = false;
    } else if (t.type === T.IDENT || t.type === T.QUOTED_IDENT || t.type === T.FUNCTION) {
      let name = t.value;
      if (t.type === T.QUOTED_IDENT) {
        name = trimQuotes(t.value);
        if (this.stripQuotes(t, last)) {
          t.value = name;
          t.type = T.IDENT;
        }
      }
      if (last === undefined) return;
      if (last.type === T.CTE_INDICATOR) (this.ctes ??= new Set()).add(name);
      else if (last.isTableIndicator) {
        this.inTableList = true;
        this.addTable(name);
      } else if (this.inTableList && last.type === T.PUNCTUATION && last.value === ',') this.addTable(name);
    }
  }

  private addTable(name: string): void {
    if (this.ctes?.has(name) || this.tables.includes(name)) return;
    this.tables.push(name);
  }

  token(t: Token, last: LastValue | undefined): void {
    if (t.type === T.SPACE || t.type === T.COMMENT || t.type === T.MULTILINE_COMMENT) return;
    if (t.type === T.QUOTED_IDENT && this.stripQuotes(t, last)) t.value = trimQuotes(t.value);
    if (!this.readFirst) {
      this.readFirst = true;
      if (t.type === T.PUNCTUATION && t.value === '(') {
        this.inLeading = true;
        this.standalone = true;
        this.depth = 1;
        this.leading += t.value;
        return;
      }
    }
    if (t.type === T.EOF) {
      if (this.standalone) this.out += this.leading;
      return;
    }
    if (this.foundLeading) {
      if (this.leadingHasCommand) this.out += this.leading;
      this.standalone = false;
      this.foundLeading = false;
    }
    if (t.type === T.DOLLAR_QUOTED_FUNCTION && t.value !== PLACEHOLDER) {
      const inner = this.normalizer.normalizeOnly(t.value.slice(6, -6));
      t.value = `$func$${inner.query}$func$`;
    }
    if (!this.o.keepSqlAlias) {
      if (t.type === T.ALIAS_INDICATOR) return;
      if (last?.type === T.ALIAS_INDICATOR) {
        if (t.type === T.IDENT || t.type === T.QUOTED_IDENT) return;
        // Not an alias after AS: a CTE's `AS (`; the AS is written after all.
        this.out += this.space(t, last);
        this.out += last.value;
      }
    }
    if (this.groupedAway(t, last)) return;
    if (this.inLeading) {
      this.leading += this.space(t, last) + t.value;
      if (t.type === T.COMMAND) this.leadingHasCommand = true;
      if (t.type === T.PUNCTUATION && t.value === '(') this.depth++;
      else if (t.type === T.PUNCTUATION && t.value === ')' && --this.depth === 0) {
        this.inLeading = false;
        this.foundLeading = true;
      }
    } else {
      this.out += this.space(t, last) + t.value;
    }
    if (t.value === ':') {
      this.hasColon = true;
      this.colonBefore = last?.type ?? T.EOF;
    } else if (this.hasColon) {
      this.hasColon = false;
      this.colonBefore = T.EOF;
    }
  }

  /** Whether this token disappears into a group of placeholders: `( ?, ?, ? )` -> `( ? )`. */
  private groupedAway(t: Token, last: LastValue | undefined): boolean {
    if (isPlaceholder(t.value)) {
      if (last === undefined) return false;
      if (last.value === '(' || last.value === '[') this.groupable = true;
      else if (last.value === ',' && this.groupable) return true;
    }
    if (last !== undefined && isPlaceholder(last.value) && t.value === ',' && this.groupable) return true;
    if (this.groupable && (t.value === ')' || t.value === ']')) {
      this.groupable = false;
      return false;
    }
    if (this.groupable && !isPlaceholder(t.value) && last?.value === ',') {
      // (?, ARRAY[?, ?]) -> (?, ARRAY[?]): the comma held back is written after all. Into the
      // statement, even when the group is inside a leading parenthesis, as the Agent does.
      this.out += last.value;
    }
    return false;
  }

  private space(t: Token, last: LastValue | undefined): string {
    if (this.o.removeSpaceBetweenParentheses) {
      if (last !== undefined && (last.type === T.FUNCTION || last.value === '(' || last.value === '[')) return '';
      if (t.value === ')' || t.value === ']') return '';
    }
    // `t.` and `[Col]` are two tokens of one name.
    if (last !== undefined && last.value.length > 1 && last.value.endsWith('.') && (t.type === T.IDENT || t.type === T.QUOTED_IDENT)) return '';
    // Oracle's `:name` bind variable, not a MySQL label (`label: LOOP`) or Snowflake's `obj:field`.
    if (last?.value === ':' && (t.type === T.IDENT || t.type === T.QUOTED_IDENT)
      && this.hasColon && this.colonBefore !== T.IDENT && this.colonBefore !== T.QUOTED_IDENT) return '';
    if (t.value === ',' || t.value === ';') return '';
    if (t.value === '=' && last?.value === ':') return '';
    return ' ';
  }

  finish(): string {
    let q = this.out;
    if (!this.o.keepTrailingSemicolon && q.endsWith(';')) q = q.slice(0, -1);
    return q.trim();
  }
}

export class LexerNormalizer {
  constructor(readonly options: LexerNormalizeOptions = AGENT_NORMALIZE_DEFAULTS) {}

  /** Normalizes without replacing literals (`normalize_only`). */
  normalizeOnly(input: string, dbms = ''): Normalized {
    return this.run(input, dbms, undefined);
  }

  /** Replaces literals and normalizes in one pass (`obfuscate_and_normalize`). */
  obfuscateAndNormalize(input: string, obfuscator: LexerObfuscator, dbms = ''): Normalized {
    return this.run(input, dbms, obfuscator);
  }

  private run(input: string, dbms: string, obfuscator: LexerObfuscator | undefined): Normalized {
    const lexer = new Lexer(input, dbms);
    const run = new Run(this.options, this);
    const ec = obfuscator ? new ExtractContext() : undefined;
    let last: LastValue | undefined;
    for (;;) {
      const t = lexer.scan();
      if (obfuscator) {
        obfuscator.obfuscateToken(t, last, dbms);
        ec!.replaceField(t);
        ec!.update(t);
      }
      if (this.options.collectTables) run.collect(t, last);
      run.token(t, last);
      if (t.type === T.EOF) break;
      if (isValueToken(t)) last = lastValueOf(t);
    }
    return { query: run.finish(), tables: run.tables };
  }
}
