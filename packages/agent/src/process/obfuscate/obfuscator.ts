import type { Span } from '@ecs-trace/protocol';
import { isCardNumber, shouldScanKey } from './credit-cards.js';
import { obfuscateHttpUrl } from './http-url.js';
import { obfuscateJsonBody } from './json-body.js';
import { obfuscateRedisCommand, quantizeRedis, removeAllRedisArgs } from './redis.js';
import { NON_PARSABLE_SQL, obfuscateSqlWith } from './sql.js';
import { SqlLexerObfuscator, type SqlLexerMode } from './sqllexer/index.js';

/*
 * Span obfuscation, dispatched on span.type as the Datadog Agent does it (trace-agent spec 7),
 * on by default. SQL results are cached by query text: the same few statements repeat endlessly.
 */

export interface ObfuscationConfig {
  redis: boolean;
  redisRemoveAllArgs: boolean;
  memcached: boolean;
  memcachedKeepCommand: boolean;
  httpRemoveQueryString: boolean;
  httpRemovePathDigits: boolean;
  elasticsearch: boolean;
  opensearch: boolean;
  mongodb: boolean;
  creditCards: boolean;
  creditCardsLuhn: boolean;
  removeStackTraces: boolean;
  sql: SqlObfuscationConfig;
}

export interface SqlObfuscationConfig {
  /** '' is the Agent's default tokenizer; the others its lexer-based modes. */
  mode: SqlLexerMode | '';
  /** `sql.tables` (the default tokenizer and the lexer modes that normalize). */
  tableNames: boolean;
  replaceDigits: boolean;
  keepSqlAlias: boolean;
  dollarQuotedFunc: boolean;
}

export const DEFAULT_SQL_OBFUSCATION: SqlObfuscationConfig = { mode: '', tableNames: false, replaceDigits: false, keepSqlAlias: false, dollarQuotedFunc: false };

/** An obfuscated query, and the tables it names when they are collected. */
export interface ObfuscatedSql {
  query: string;
  tables: string;
}

export const DEFAULT_OBFUSCATION: ObfuscationConfig = {
  redis: true, redisRemoveAllArgs: false, memcached: true, memcachedKeepCommand: false,
  httpRemoveQueryString: false, httpRemovePathDigits: false, elasticsearch: true, opensearch: true, mongodb: true,
  creditCards: true, creditCardsLuhn: false, removeStackTraces: false, sql: DEFAULT_SQL_OBFUSCATION,
};

const SQL_CACHE_ENTRIES = 5000;
const OTEL_SQL_KEYS = ['db.statement', 'db.query.text'];

export class Obfuscator {
  private readonly sqlCache = new Map<string, ObfuscatedSql>();
  private readonly lexer: SqlLexerObfuscator | undefined;

  /** `onNonParsable` counts each query that could not be tokenized (cached repeats included). */
  constructor(private readonly c: ObfuscationConfig = DEFAULT_OBFUSCATION, private readonly onNonParsable: () => void = () => undefined) {
    const sql = c.sql;
    if (sql.mode !== '') this.lexer = new SqlLexerObfuscator({ ...sql, mode: sql.mode });
  }

  /** A query as the Agent's SQL obfuscation leaves it; `dbms` (from `db.type`) matters in its lexer modes only. */
  sql(query: string, dbms = ''): ObfuscatedSql {
    const key = this.lexer ? `${dbms}\u0000${query}` : query;
    let out = this.sqlCache.get(key);
    if (out === undefined) {
      const { query: q, tables } = this.lexer ? this.lexer.obfuscate(query, dbms) : obfuscateSqlWith(query, this.c.sql);
      out = { query: q, tables: tables.join(',') };
      if (this.sqlCache.size >= SQL_CACHE_ENTRIES) this.sqlCache.delete(this.sqlCache.keys().next().value!);
      this.sqlCache.set(key, out);
    }
    if (out.query === NON_PARSABLE_SQL) this.onNonParsable();
    return out;
  }

  span(s: Span): void {
    switch (s.type) {
      case 'sql':
      case 'cassandra': {
        const raw = s.resource;
        // An empty resource is left alone, as the Agent leaves it.
        if (raw === '') break;
        // OpenTelemetry's db.system where no tracer set db.type.
        const dbms = s.meta['db.type'] ?? s.meta['db.system'] ?? '';
        const out = this.sql(raw, dbms);
        s.resource = out.query;
        if (out.query === NON_PARSABLE_SQL) {
          // The Agent leaves OpenTelemetry's statement attributes as they were here; a statement
          // that could not be obfuscated is not kept anywhere.
          s.meta['sql.query'] = NON_PARSABLE_SQL;
          for (const k of OTEL_SQL_KEYS) if (s.meta[k] !== undefined) s.meta[k] = NON_PARSABLE_SQL;
          break;
        }
        // Statements in OpenTelemetry's attributes: the same result when they are the resource.
        for (const k of OTEL_SQL_KEYS) {
          const v = s.meta[k];
          if (v !== undefined) s.meta[k] = v === raw ? out.query : this.sql(v, dbms).query;
        }
        if (out.tables !== '') s.meta['sql.tables'] = out.tables;
        s.meta['sql.query'] = out.query;
        break;
      }
      case 'redis':
      case 'valkey': {
        s.resource = quantizeRedis(s.resource);
        const key = `${s.type}.raw_command`;
        const raw = s.meta[key];
        if (this.c.redis && raw !== undefined) s.meta[key] = this.c.redisRemoveAllArgs ? removeAllRedisArgs(raw) : obfuscateRedisCommand(raw);
        break;
      }
      case 'memcached': {
        const cmd = s.meta['memcached.command'];
        if (this.c.memcached && cmd !== undefined) s.meta['memcached.command'] = this.c.memcachedKeepCommand ? cmd.split('\r\n')[0]!.trim() : '';
        break;
      }
      case 'web':
      case 'http': {
        const url = s.meta['http.url'];
        if (url !== undefined) s.meta['http.url'] = obfuscateHttpUrl(url, { removeQueryString: this.c.httpRemoveQueryString, removePathDigits: this.c.httpRemovePathDigits });
        break;
      }
      case 'elasticsearch':
      case 'opensearch': {
        const key = `${s.type}.body`;
        const on = s.type === 'elasticsearch' ? this.c.elasticsearch : this.c.opensearch;
        if (on && s.meta[key] !== undefined) s.meta[key] = obfuscateJsonBody(s.meta[key]!);
        break;
      }
      case 'mongodb': {
        if (this.c.mongodb && s.meta['mongodb.query'] !== undefined) s.meta['mongodb.query'] = obfuscateJsonBody(s.meta['mongodb.query']!);
        break;
      }
    }
    if (this.c.creditCards) {
      // The value first: most are no card by their length or first character, and need no key lookup.
      for (const k in s.meta) if (isCardNumber(s.meta[k]!, this.c.creditCardsLuhn) && shouldScanKey(k)) s.meta[k] = '?';
      for (const e of s.spanEvents ?? []) {
        const attrs = e.attributes;
        if (!attrs) continue;
        for (const k in attrs) {
          const v = attrs[k];
          if ((typeof v === 'string' || typeof v === 'number') && isCardNumber(String(v), this.c.creditCardsLuhn)) attrs[k] = '?';
        }
      }
    }
    if (this.c.removeStackTraces) {
      if (s.meta['error.stack'] !== undefined) s.meta['error.stack'] = '?';
      if (s.meta['exception.stacktrace'] !== undefined) s.meta['exception.stacktrace'] = '?';
    }
  }
}
