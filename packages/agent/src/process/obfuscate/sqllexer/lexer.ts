/*
 * The SQL lexer of the Datadog Agent's newer obfuscation modes (github.com/DataDog/go-sqllexer,
 * as pkg/obfuscate v0.85 uses it): DBMS-aware, it never fails; what it cannot read becomes an
 * UNKNOWN or ERROR token and is written back as it was. Its token boundaries decide the Agent's
 * output, so they follow the Agent's rules exactly, odd ones included (e.g. `-1` is a number only
 * when a digit follows the sign, and `=?` is two operators).
 */

export enum T {
  ERROR, EOF, SPACE, STRING, INCOMPLETE_STRING, NUMBER, IDENT, QUOTED_IDENT, OPERATOR, WILDCARD,
  COMMENT, MULTILINE_COMMENT, PUNCTUATION, DOLLAR_QUOTED_FUNCTION, DOLLAR_QUOTED_STRING,
  POSITIONAL_PARAMETER, BIND_PARAMETER, FUNCTION, SYSTEM_VARIABLE, UNKNOWN, COMMAND, KEYWORD,
  JSON_OP, BOOLEAN, NULL, PROC_INDICATOR, CTE_INDICATOR, ALIAS_INDICATOR,
}

export type Dbms = '' | 'mssql' | 'postgresql' | 'mysql' | 'oracle' | 'snowflake' | (string & {});

/** The names tracers put in `db.type` for the same DBMS (.NET, Java; Ruby, JavaScript). */
const DBMS_ALIASES: Record<string, Dbms> = { 'sql-server': 'mssql', sqlserver: 'mssql', postgres: 'postgresql' };

export function canonicalDbms(dbms: string): Dbms {
  return DBMS_ALIASES[dbms] ?? dbms;
}

export interface Token {
  type: T;
  value: string;
  isTableIndicator: boolean;
  hasDigits: boolean;
  /** A quoted identifier that starts with a letter and holds only letters and digits. */
  isSimpleIdentifier: boolean;
}

/** What the normalizer and obfuscator remember of the last token that was not space or comment. */
export interface LastValue {
  type: T;
  value: string;
  isTableIndicator: boolean;
  isSimpleIdentifier: boolean;
}

export function lastValueOf(t: Token): LastValue {
  return { type: t.type, value: t.value, isTableIndicator: t.isTableIndicator, isSimpleIdentifier: t.isSimpleIdentifier };
}

export function isValueToken(t: Token): boolean {
  return t.type !== T.EOF && t.type !== T.SPACE && t.type !== T.COMMENT && t.type !== T.MULTILINE_COMMENT;
}

interface Keyword { type: T; table: boolean }

const KEYWORDS = new Map<string, Keyword>();
function addKeywords(words: string, type: T, table: boolean): void {
  for (const w of words.split(' ')) KEYWORDS.set(w, { type, table });
}
// Later lists win, as in the Agent's keyword trie.
addKeywords('SELECT INSERT UPDATE DELETE CREATE ALTER DROP JOIN GRANT REVOKE COMMIT BEGIN TRUNCATE MERGE EXECUTE EXEC EXPLAIN STRAIGHT_JOIN USE CLONE VACUUM', T.COMMAND, false);
addKeywords('ADD ALL AND ANY ASC BETWEEN BY CASE CHECK COLUMN CONSTRAINT DATABASE DECLARE DEFAULT DESC DISTINCT ELSE END ESCAPE EXISTS FOREIGN FROM GROUP HAVING IN INDEX INNER INTO IS KEY LATERAL LEFT LIKE LIMIT NOT ON OR ORDER OUT OUTER PRIMARY PROCEDURE REPLACE RETURNS RIGHT ROLLBACK ROWNUM SET SOME TABLE TOP UNION UNIQUE VALUES VIEW WHERE CUBE ROLLUP LITERAL WINDOW ANALYZE ILIKE USING ASSERTION DOMAIN CLUSTER COPY PLPGSQL TRIGGER TEMPORARY UNLOGGED RECURSIVE RETURNING OFFSET OF SKIP IF ONLY', T.KEYWORD, false);
addKeywords('JOIN UPDATE STRAIGHT_JOIN CLONE', T.COMMAND, true);
addKeywords('FROM INTO TABLE EXISTS ONLY', T.KEYWORD, true);
addKeywords('TRUE FALSE', T.BOOLEAN, false);
addKeywords('NULL', T.NULL, false);
addKeywords('PROCEDURE PROC', T.PROC_INDICATOR, false);
addKeywords('WITH', T.CTE_INDICATOR, false);
addKeywords('AS', T.ALIAS_INDICATOR, false);

const UNICODE_LETTER = /\p{L}/u;
const UNICODE_NUMBER = /\p{N}/u;

// Characters as code points; 0 is the end of input, as in the Agent's lexer.
const isDigit = (c: number) => c >= 48 && c <= 57;
const isAsciiLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isLeadingSign = (c: number) => c === 43 || c === 45;
const isExponent = (c: number) => c === 101 || c === 69;
const isEof = (c: number) => c === 0;
export function isLetter(c: number): boolean {
  return isAsciiLetter(c) || c === 95 || (c > 127 && UNICODE_LETTER.test(String.fromCodePoint(c)));
}
function isAlphaNumeric(c: number): boolean {
  return isLetter(c) || isDigit(c) || (c > 127 && UNICODE_NUMBER.test(String.fromCodePoint(c)));
}
// + - * / = < > ! & | ^ % ~ ? @ : #
const OPERATOR_CHARS = new Set([...'+-*/=<>!&|^%~?@:#'].map((c) => c.charCodeAt(0)));
const isOperator = (c: number) => OPERATOR_CHARS.has(c);
// ( ) , ; . : [ ] { }
const PUNCTUATION_CHARS = new Set([...'(),;.:[]{}'].map((c) => c.charCodeAt(0)));
export const isPunctuation = (c: number) => PUNCTUATION_CHARS.has(c);
// " . ? $ # / @ !
const IDENT_EXTRA = new Set([...'".?$#/@!'].map((c) => c.charCodeAt(0)));
const isIdentifierChar = (c: number) => IDENT_EXTRA.has(c) || isLetter(c) || isDigit(c);
const isMultiLineComment = (c: number, next: number) => c === 47 && next === 42;
const width = (c: number) => (c > 0xffff ? 2 : 1);

export class Lexer {
  private cursor = 0;
  private start = 0;
  private hasDigits = false;
  private isTableIndicator = false;
  private isSimpleIdentifier = false;
  private readonly dbms: Dbms;

  constructor(private readonly src: string, dbms: string = '') {
    this.dbms = canonicalDbms(dbms);
  }

  private at(pos: number): number {
    return pos >= this.src.length || pos < 0 ? 0 : this.src.codePointAt(pos)!;
  }

  private lookAhead(n: number): number {
    return this.at(this.cursor + n);
  }

  private peek(): number {
    return this.at(this.cursor);
  }

  private nextBy(n: number): number {
    if (this.cursor + n > this.src.length) return 0;
    this.cursor += n;
    return this.at(this.cursor);
  }

  private next(): number {
    return this.nextBy(1);
  }

  private matchAt(s: string): boolean {
    return this.src.startsWith(s, this.cursor);
  }

  scan(): Token {
    const ch = this.peek();
    const dbms = this.dbms;
    if (isSpace(ch)) return this.scanWhitespace();
    if (isLetter(ch)) return this.scanIdentifier(ch);
    if (ch === 34 /* " */) return dbms === 'mysql' ? this.scanString(34) : this.scanQuotedIdentifier(34);
    if (ch === 39 /* ' */) return this.scanString(39);
    if (ch === 45 && this.lookAhead(1) === 45) return this.scanSingleLineComment(ch);
    if (isMultiLineComment(ch, this.lookAhead(1))) return this.scanMultiLineComment();
    if (isLeadingSign(ch)) {
      const next = this.lookAhead(1);
      if (isDigit(next) || next === 46) return this.scanNumberWithLeadingSign();
      return this.scanOperator(ch);
    }
    if (isDigit(ch)) return this.scanNumber(ch);
    if (ch === 42 /* * */) return this.single(T.WILDCARD);
    if (ch === 36 /* $ */) {
      if (isDigit(this.lookAhead(1))) return this.scanPositionalParameter();
      if (dbms === 'mssql' && isLetter(this.lookAhead(1))) return this.scanIdentifier(ch);
      return this.scanDollarQuotedString();
    }
    if (ch === 58 /* : */) {
      if (dbms === 'oracle' && isAlphaNumeric(this.lookAhead(1))) return this.scanBindParameter();
      return this.scanOperator(ch);
    }
    if (ch === 96 /* ` */) return dbms === 'mysql' ? this.scanQuotedIdentifier(96) : this.scanUnknown();
    if (ch === 35 /* # */) {
      if (dbms === 'mssql') return this.scanIdentifier(ch);
      if (dbms === 'mysql') return this.scanSingleLineComment(ch);
      return this.scanOperator(ch);
    }
    if (ch === 64 /* @ */) {
      const next = this.lookAhead(1);
      if (next === 64) {
        if (isAlphaNumeric(this.lookAhead(2))) return this.scanSystemVariable();
        this.start = this.cursor;
        this.nextBy(2);
        return this.emit(T.JSON_OP);
      }
      if (isAlphaNumeric(next)) return dbms === 'snowflake' ? this.scanIdentifier(ch) : this.scanBindParameter();
      if (next === 63 || next === 62) {
        this.start = this.cursor;
        this.nextBy(2);
        return this.emit(T.JSON_OP);
      }
      return this.scanOperator(ch);
    }
    if (isOperator(ch)) return this.scanOperator(ch);
    if (isPunctuation(ch)) {
      if (ch === 91 /* [ */ && dbms === 'mssql') return this.scanQuotedIdentifier(91);
      return this.single(T.PUNCTUATION);
    }
    if (isEof(ch)) return this.emit(T.EOF);
    return this.scanUnknown();
  }

  private single(type: T): Token {
    this.start = this.cursor;
    this.next();
    return this.emit(type);
  }

  private scanNumberWithLeadingSign(): Token {
    this.start = this.cursor;
    return this.scanDecimal(this.next());
  }

  private scanNumber(ch: number): Token {
    this.start = this.cursor;
    if (ch === 48) {
      const next = this.lookAhead(1);
      if (next === 120 || next === 88) {
        let c = this.nextBy(2);
        while (isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) c = this.next();
        return this.emit(T.NUMBER);
      }
      if (next >= 48 && next <= 55) {
        let c = this.nextBy(2);
        while (c >= 48 && c <= 55) c = this.next();
        return this.emit(T.NUMBER);
      }
    }
    return this.scanDecimal(this.next());
  }

  private scanDecimal(ch: number): Token {
    let c = ch;
    while (isDigit(c) || c === 46 || isExponent(c)) {
      if (isExponent(c)) {
        c = this.next();
        if (isLeadingSign(c)) c = this.next();
      } else c = this.next();
    }
    return this.emit(T.NUMBER);
  }

  private scanString(delimiter: number): Token {
    this.start = this.cursor;
    let escaped = false;
    let escapedQuote = false;
    // T-SQL and Oracle escape a quote by doubling it, never with a backslash.
    const backslashEscapes = this.dbms !== 'mssql' && this.dbms !== 'oracle';
    for (let c = this.next(); !isEof(c); c = this.next()) {
      if (escaped) {
        escaped = false;
        escapedQuote = c === delimiter;
        continue;
      }
      if (backslashEscapes && c === 92) {
        escaped = true;
        continue;
      }
      if (c === delimiter) {
        this.next();
        return this.emit(T.STRING);
      }
    }
    // Ended on an escaped quote (e.g. ESCAPE '\'): a string all the same.
    return this.emit(escapedQuote ? T.STRING : T.INCOMPLETE_STRING);
  }

  private scanIdentifier(first: number): Token {
    this.start = this.cursor;
    let ch = first;
    if (ch > 127) {
      while (isIdentifierChar(ch)) {
        this.hasDigits ||= isDigit(ch);
        ch = this.nextBy(width(ch));
      }
      return this.start === this.cursor ? this.scanUnknown() : this.emit(T.IDENT);
    }
    // The leading run of ASCII letters and underscores may be a keyword.
    while (isAsciiLetter(ch) || ch === 95) ch = this.next();
    if (this.cursor > this.start) {
      const kw = KEYWORDS.get(this.src.slice(this.start, this.cursor).toUpperCase());
      if (kw !== undefined && (isPunctuation(ch) || isSpace(ch) || isMultiLineComment(ch, this.lookAhead(1)) || isEof(ch))) {
        this.isTableIndicator = kw.table;
        return this.emit(kw.type);
      }
    }
    while (isIdentifierChar(ch)) {
      this.hasDigits ||= isDigit(ch);
      ch = this.nextBy(width(ch));
    }
    if (this.start === this.cursor) return this.scanUnknown();
    return this.emit(ch === 40 /* ( */ ? T.FUNCTION : T.IDENT);
  }

  private scanQuotedIdentifier(delimiter: number): Token {
    const closing = delimiter === 91 ? 93 : delimiter;
    const closingChar = String.fromCharCode(closing);
    // "a"."b" and [a].[b] are one identifier.
    const joined = `${closingChar}.${String.fromCharCode(delimiter)}`;
    this.start = this.cursor;
    this.isSimpleIdentifier = true;
    let firstRune = true;
    let ch = this.next();
    for (;;) {
      if (ch === closing) {
        if (this.matchAt(joined)) {
          this.isSimpleIdentifier = false;
          ch = this.nextBy(3);
          continue;
        }
        if (firstRune) this.isSimpleIdentifier = false;
        break;
      }
      if (isEof(ch)) {
        this.isSimpleIdentifier = false;
        return this.emit(T.ERROR);
      }
      this.hasDigits ||= isDigit(ch);
      if (this.isSimpleIdentifier) {
        if (firstRune) {
          if (!isLetter(ch)) this.isSimpleIdentifier = false;
          firstRune = false;
        } else if (!isAlphaNumeric(ch)) this.isSimpleIdentifier = false;
      }
      ch = this.nextBy(width(ch));
    }
    this.next();
    return this.emit(T.QUOTED_IDENT);
  }

  private scanWhitespace(): Token {
    this.start = this.cursor;
    let c = this.next();
    while (isSpace(c)) c = this.next();
    return this.emit(T.SPACE);
  }

  private scanOperator(first: number): Token {
    this.start = this.cursor;
    let last = first;
    let ch = this.next();
    // JSON operators: -> ->> #> #>> #- ?| ?& <@
    if (last === 45 && ch === 62) {
      if (this.next() === 62) this.next();
      return this.emit(T.JSON_OP);
    }
    if (last === 35) {
      if (ch === 62) {
        if (this.next() === 62) this.next();
        return this.emit(T.JSON_OP);
      }
      if (ch === 45) {
        this.next();
        return this.emit(T.JSON_OP);
      }
    }
    if (last === 63 && (ch === 124 || ch === 38)) {
      this.next();
      return this.emit(T.JSON_OP);
    }
    if (last === 60 && ch === 64) {
      this.next();
      return this.emit(T.JSON_OP);
    }
    // `=?` and `=@` stay two tokens (a comparison with a placeholder or a bind variable).
    while (isOperator(ch) && !(last === 61 && (ch === 63 || ch === 64))) {
      last = ch;
      ch = this.next();
    }
    return this.emit(T.OPERATOR);
  }

  private scanSingleLineComment(first: number): Token {
    this.start = this.cursor;
    let c = first === 35 ? this.next() : this.nextBy(2);
    while (c !== 10 && !isEof(c)) c = this.next();
    return this.emit(T.COMMENT);
  }

  private scanMultiLineComment(): Token {
    this.start = this.cursor;
    let c = this.nextBy(2);
    for (;;) {
      if (c === 42 && this.lookAhead(1) === 47) {
        this.nextBy(2);
        break;
      }
      // Cut short (truncated by the tracer): an error token, written back as it was.
      if (isEof(c)) return this.emit(T.ERROR);
      c = this.next();
    }
    return this.emit(T.MULTILINE_COMMENT);
  }

  private scanDollarQuotedString(): Token {
    this.start = this.cursor;
    let c = this.next();
    const tagStart = this.cursor;
    while (this.cursor < this.src.length && c !== 36) c = this.next();
    this.next();
    const tag = this.src.slice(tagStart - 1, this.cursor);
    while (this.cursor < this.src.length) {
      if (this.matchAt(tag)) {
        this.nextBy(tag.length);
        return this.emit(tag === '$func$' ? T.DOLLAR_QUOTED_FUNCTION : T.DOLLAR_QUOTED_STRING);
      }
      this.next();
    }
    return this.emit(T.ERROR);
  }

  private scanPositionalParameter(): Token {
    this.start = this.cursor;
    let c = this.nextBy(2);
    while (isDigit(c)) c = this.next();
    return this.emit(T.POSITIONAL_PARAMETER);
  }

  private scanBindParameter(): Token {
    this.start = this.cursor;
    let c = this.nextBy(2);
    while (isAlphaNumeric(c)) c = this.nextBy(width(c));
    return this.emit(T.BIND_PARAMETER);
  }

  private scanSystemVariable(): Token {
    this.start = this.cursor;
    let c = this.nextBy(2);
    if (!isAlphaNumeric(c)) return this.emit(T.ERROR);
    while (isAlphaNumeric(c)) c = this.nextBy(width(c));
    return this.emit(T.SYSTEM_VARIABLE);
  }

  private scanUnknown(): Token {
    this.start = this.cursor;
    this.cursor += width(this.peek());
    return this.emit(T.UNKNOWN);
  }

  private emit(type: T): Token {
    const token: Token = {
      type,
      value: this.src.slice(this.start, this.cursor),
      isTableIndicator: this.isTableIndicator,
      hasDigits: this.hasDigits,
      isSimpleIdentifier: this.isSimpleIdentifier,
    };
    this.start = this.cursor;
    this.isTableIndicator = false;
    this.hasDigits = false;
    this.isSimpleIdentifier = false;
    return token;
  }
}
