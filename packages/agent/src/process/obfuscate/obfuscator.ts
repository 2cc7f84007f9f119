import type { Span } from '@ecs-trace/protocol';
import { isCardNumber, shouldScanKey } from './credit-cards.js';
import { obfuscateHttpUrl } from './http-url.js';
import { obfuscateJsonBody } from './json-body.js';
import { obfuscateRedisCommand, quantizeRedis, removeAllRedisArgs } from './redis.js';
import { NON_PARSABLE_SQL, obfuscateSql } from './sql.js';

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
}

export const DEFAULT_OBFUSCATION: ObfuscationConfig = {
  redis: true, redisRemoveAllArgs: false, memcached: true, memcachedKeepCommand: false,
  httpRemoveQueryString: false, httpRemovePathDigits: false, elasticsearch: true, opensearch: true, mongodb: true,
  creditCards: true, creditCardsLuhn: false, removeStackTraces: false,
};

const SQL_CACHE_ENTRIES = 5000;
const SQL_META_KEYS = ['sql.query', 'db.statement', 'db.query.text'];

export class Obfuscator {
  private readonly sqlCache = new Map<string, string>();

  /** `onNonParsable` counts each query that could not be tokenized (cached repeats included). */
  constructor(private readonly c: ObfuscationConfig = DEFAULT_OBFUSCATION, private readonly onNonParsable: () => void = () => undefined) {}

  sql(query: string): string {
    let out = this.sqlCache.get(query);
    if (out === undefined) {
      out = obfuscateSql(query);
      if (this.sqlCache.size >= SQL_CACHE_ENTRIES) this.sqlCache.delete(this.sqlCache.keys().next().value!);
      this.sqlCache.set(query, out);
    }
    if (out === NON_PARSABLE_SQL) this.onNonParsable();
    return out;
  }

  span(s: Span): void {
    switch (s.type) {
      case 'sql':
      case 'cassandra': {
        const raw = s.resource;
        s.resource = this.sql(raw);
        for (const k of SQL_META_KEYS) {
          const v = s.meta[k];
          if (v === undefined) continue;
          if (k === 'sql.query' && v === '') delete s.meta[k];
          else s.meta[k] = v === raw ? s.resource : this.sql(v);
        }
        if (s.resource === NON_PARSABLE_SQL) for (const k of SQL_META_KEYS) if (s.meta[k] !== undefined) s.meta[k] = NON_PARSABLE_SQL;
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
      for (const k in s.meta) if (shouldScanKey(k) && isCardNumber(s.meta[k]!, this.c.creditCardsLuhn)) s.meta[k] = '?';
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
