import { isValueToken, lastValueOf, Lexer, T, type LastValue, type Token } from './lexer.js';

/*
 * Literal replacement on the lexer's tokens, as the Agent's `obfuscate_only` mode does it: the
 * query keeps its text, spacing and comments; strings, numbers, booleans, NULL and positional
 * parameters become `?`.
 */

export const PLACEHOLDER = '?';

export interface LexerObfuscateOptions {
  replaceDigits: boolean;
  dollarQuotedFunc: boolean;
  /** The Agent's defaults (KeepNull, KeepBoolean, KeepPositionalParameter all false) replace these. */
  replacePositionalParameter: boolean;
  replaceBoolean: boolean;
  replaceNull: boolean;
  keepJsonPath: boolean;
  replaceBindParameter: boolean;
}

export const AGENT_OBFUSCATE_DEFAULTS: LexerObfuscateOptions = {
  replaceDigits: false, dollarQuotedFunc: false, replacePositionalParameter: true, replaceBoolean: true,
  replaceNull: true, keepJsonPath: false, replaceBindParameter: false,
};

/** Digits in a name become one `?` per run (`users_2024` -> `users_?`). */
export function replaceDigitRuns(value: string): string {
  return value.replace(/[0-9]+/g, PLACEHOLDER);
}

/** PostgreSQL's EXTRACT field names, replaced so `EXTRACT(epoch FROM x)` matches pg_stat_statements' `EXTRACT($1 FROM x)`. */
const EXTRACT_FIELDS = new Set('CENTURY DAY DECADE DOW DOY EPOCH HOUR ISODOW ISOYEAR JULIAN MICROSECONDS MILLENNIUM MILLISECONDS MINUTE MONTH QUARTER SECOND TIMEZONE TIMEZONE_HOUR TIMEZONE_MINUTE WEEK YEAR'.split(' '));

/** The two tokens before this one (spaces and comments aside), to spot `EXTRACT(field`. */
export class ExtractContext {
  private prevType = T.ERROR;
  private prevValue = '';
  private prev2Type = T.ERROR;
  private prev2Value = '';

  replaceField(t: Token): void {
    if (t.type !== T.IDENT && t.type !== T.KEYWORD) return;
    if (this.prevType !== T.PUNCTUATION || this.prevValue !== '(') return;
    if (this.prev2Type !== T.FUNCTION || this.prev2Value.toUpperCase() !== 'EXTRACT') return;
    if (EXTRACT_FIELDS.has(t.value.toUpperCase())) t.value = PLACEHOLDER;
  }

  update(t: Token): void {
    if (t.type === T.SPACE || t.type === T.COMMENT || t.type === T.MULTILINE_COMMENT) return;
    this.prev2Type = this.prevType;
    this.prev2Value = this.prevValue;
    this.prevType = t.type;
    this.prevValue = t.value;
  }
}

export class LexerObfuscator {
  constructor(readonly options: LexerObfuscateOptions = AGENT_OBFUSCATE_DEFAULTS) {}

  obfuscate(input: string, dbms: string): string {
    const lexer = new Lexer(input, dbms);
    const ec = new ExtractContext();
    let out = '';
    let last: LastValue | undefined;
    for (;;) {
      const t = lexer.scan();
      if (t.type === T.EOF) break;
      this.obfuscateToken(t, last, dbms);
      ec.replaceField(t);
      out += t.value;
      if (isValueToken(t)) last = lastValueOf(t);
      ec.update(t);
    }
    return out.trim();
  }

  obfuscateToken(t: Token, last: LastValue | undefined, dbms: string): void {
    const o = this.options;
    switch (t.type) {
      case T.NUMBER:
      case T.STRING:
      case T.INCOMPLETE_STRING:
      case T.DOLLAR_QUOTED_STRING:
        if (o.keepJsonPath && last?.type === T.JSON_OP) break;
        t.value = PLACEHOLDER;
        break;
      case T.DOLLAR_QUOTED_FUNCTION:
        t.value = o.dollarQuotedFunc ? `$func$${this.obfuscate(t.value.slice(6, -6), dbms)}$func$` : PLACEHOLDER;
        break;
      case T.POSITIONAL_PARAMETER:
        if (o.replacePositionalParameter) t.value = PLACEHOLDER;
        break;
      case T.BIND_PARAMETER:
        if (o.replaceBindParameter) t.value = PLACEHOLDER;
        break;
      case T.BOOLEAN:
        if (o.replaceBoolean) t.value = PLACEHOLDER;
        break;
      case T.NULL:
        if (o.replaceNull) t.value = PLACEHOLDER;
        break;
      case T.IDENT:
      case T.QUOTED_IDENT:
        if (o.replaceDigits && t.hasDigits) t.value = replaceDigitRuns(t.value);
        break;
    }
  }
}
