import { canonicalDbms } from './lexer.js';
import { AGENT_NORMALIZE_DEFAULTS, LexerNormalizer } from './normalize.js';
import { AGENT_OBFUSCATE_DEFAULTS, LexerObfuscator } from './obfuscate.js';

/*
 * The Datadog Agent's SQL obfuscation modes built on its SQL lexer (`DD_APM_SQL_OBFUSCATION_MODE`),
 * with the options the trace-agent gives them: its feature flags `replace_sql_digits`,
 * `keep_sql_alias`, `dollar_quoted_func` and `table_names`; everything else at its defaults.
 */

export type SqlLexerMode = 'obfuscate_only' | 'normalize_only' | 'obfuscate_and_normalize';
export const SQL_LEXER_MODES: readonly SqlLexerMode[] = ['obfuscate_only', 'normalize_only', 'obfuscate_and_normalize'];

export interface SqlLexerOptions {
  mode: SqlLexerMode;
  replaceDigits: boolean;
  keepSqlAlias: boolean;
  dollarQuotedFunc: boolean;
  /** Collect the tables a query names (not in obfuscate_only, as in the Agent). */
  tableNames: boolean;
}

export interface LexedQuery {
  query: string;
  /** Tables named, in order of appearance; empty unless tableNames is on. */
  tables: string[];
}

export class SqlLexerObfuscator {
  private readonly obfuscator: LexerObfuscator;
  private readonly normalizer: LexerNormalizer;

  constructor(private readonly o: SqlLexerOptions) {
    this.obfuscator = new LexerObfuscator({ ...AGENT_OBFUSCATE_DEFAULTS, replaceDigits: o.replaceDigits, dollarQuotedFunc: o.dollarQuotedFunc });
    this.normalizer = new LexerNormalizer({ ...AGENT_NORMALIZE_DEFAULTS, keepSqlAlias: o.keepSqlAlias, collectTables: o.tableNames });
  }

  /** `dbms` as tracers put it in `db.type` (`postgres`, `sqlserver`, ... are understood). */
  obfuscate(query: string, dbms: string): LexedQuery {
    const d = canonicalDbms(dbms);
    switch (this.o.mode) {
      case 'obfuscate_only': return { query: this.obfuscator.obfuscate(query, d), tables: [] };
      case 'normalize_only': return this.normalizer.normalizeOnly(query, d);
      case 'obfuscate_and_normalize': return this.normalizer.obfuscateAndNormalize(query, this.obfuscator, d);
    }
  }
}
