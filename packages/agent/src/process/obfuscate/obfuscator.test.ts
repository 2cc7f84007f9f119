import { emptySpan, type Span } from '@ecs-trace/protocol';
import { describe, expect, it } from 'vitest';
import { isCardNumber } from './credit-cards.js';
import { obfuscateHttpUrl } from './http-url.js';
import { obfuscateJsonBody } from './json-body.js';
import { DEFAULT_OBFUSCATION, Obfuscator } from './obfuscator.js';
import { NON_PARSABLE_SQL } from './sql.js';

const span = (o: Partial<Span>): Span => ({ ...emptySpan(), traceId: 1n, spanId: 1n, service: 's', name: 'n', ...o, meta: { ...o.meta }, metrics: { ...o.metrics } });

describe('span obfuscation by type', () => {
  const obf = new Obfuscator();

  it('SQL: the resource, and sql.query from it (or on its own)', () => {
    const s = span({ type: 'sql', resource: 'SELECT * FROM users WHERE id = 42', meta: { 'sql.query': 'SELECT * FROM users WHERE id = 42', 'db.statement': "UPDATE t SET a = 'x'" } });
    obf.span(s);
    expect(s.resource).toBe('SELECT * FROM users WHERE id = ?');
    expect(s.meta['sql.query']).toBe('SELECT * FROM users WHERE id = ?');
    expect(s.meta['db.statement']).toBe('UPDATE t SET a = ?');
  });

  it('SQL that cannot be parsed says so everywhere, counted; otherwise sql.query holds the obfuscated query, as the Agent sets it', () => {
    let counted = 0;
    const counting = new Obfuscator(undefined, () => counted++);
    const s = span({ type: 'cassandra', resource: "SELECT * FROM t WHERE a = 'open", meta: { 'sql.query': "SELECT * FROM t WHERE a = 'open" } });
    counting.span(s);
    counting.span(span({ type: 'sql', resource: "SELECT * FROM t WHERE a = 'open" }));
    expect(counted).toBe(2);
    expect(s.resource).toBe(NON_PARSABLE_SQL);
    expect(s.meta['sql.query']).toBe(NON_PARSABLE_SQL);
    const e = span({ type: 'sql', resource: 'SELECT 1', meta: { 'sql.query': '' } });
    obf.span(e);
    expect(e.meta['sql.query']).toBe('SELECT ?');
    const plain = span({ type: 'sql', resource: "SELECT * FROM t WHERE a = 'x'" });
    obf.span(plain);
    expect(plain.meta['sql.query']).toBe('SELECT * FROM t WHERE a = ?');
  });

  it('in a lexer mode, reads the DBMS from db.type (else db.system) and puts the tables in sql.tables', () => {
    const lexer = new Obfuscator({ ...DEFAULT_OBFUSCATION, sql: { mode: 'obfuscate_and_normalize', tableNames: true, replaceDigits: false, keepSqlAlias: false, dollarQuotedFunc: false } });
    const mysql = span({ type: 'sql', resource: 'SELECT * FROM `orders` WHERE note = "x" AND id IN (1, 2)', meta: { 'db.type': 'mysql' } });
    lexer.span(mysql);
    expect(mysql.resource).toBe('SELECT * FROM orders WHERE note = ? AND id IN ( ? )');
    expect(mysql.meta).toMatchObject({ 'sql.tables': 'orders', 'sql.query': mysql.resource });
    // The same text as PostgreSQL (OpenTelemetry's db.system): "x" is a column, not a value.
    const pg = span({ type: 'sql', resource: 'SELECT * FROM orders WHERE note = "x"', meta: { 'db.system': 'postgresql', 'db.statement': 'SELECT * FROM orders WHERE note = "x"' } });
    lexer.span(pg);
    expect(pg.resource).toBe('SELECT * FROM orders WHERE note = x');
    expect(pg.meta['db.statement']).toBe(pg.resource);
  });

  it('Redis: quantized resource, raw command without values', () => {
    const s = span({ type: 'redis', resource: 'SET user:1 secret', meta: { 'redis.raw_command': 'SET user:1 secret' } });
    obf.span(s);
    expect(s).toMatchObject({ resource: 'SET', meta: { 'redis.raw_command': 'SET user:1 ?' } });
    const all = span({ type: 'redis', resource: 'SET k v', meta: { 'redis.raw_command': 'SET k v' } });
    new Obfuscator({ ...DEFAULT_OBFUSCATION, redisRemoveAllArgs: true }).span(all);
    expect(all.meta['redis.raw_command']).toBe('SET ?');
  });

  it('memcached: the command is emptied, or cut at its data when kept', () => {
    const s = span({ type: 'memcached', meta: { 'memcached.command': 'set key 0 0 6\r\nsecret' } });
    obf.span(s);
    expect(s.meta['memcached.command']).toBe('');
    const k = span({ type: 'memcached', meta: { 'memcached.command': 'set key 0 0 6\r\nsecret' } });
    new Obfuscator({ ...DEFAULT_OBFUSCATION, memcachedKeepCommand: true }).span(k);
    expect(k.meta['memcached.command']).toBe('set key 0 0 6');
  });

  it('HTTP: credentials always leave the URL', () => {
    const s = span({ type: 'web', meta: { 'http.url': 'https://admin:hunter2@api.example.com/users/42?token=abc' } });
    obf.span(s);
    expect(s.meta['http.url']).toBe('https://api.example.com/users/42?token=abc');
  });

  it('Elasticsearch, OpenSearch and MongoDB bodies keep their structure only', () => {
    const es = span({ type: 'elasticsearch', meta: { 'elasticsearch.body': '{"query":{"match":{"email":"a@b.c"}},"size":10}' } });
    const mongo = span({ type: 'mongodb', meta: { 'mongodb.query': '{"ssn":"078-05-1120","age":{"$gt":30}}' } });
    obf.span(es);
    obf.span(mongo);
    expect(es.meta['elasticsearch.body']).toBe('{"query":{"match":{"email":"?"}},"size":"?"}');
    expect(mongo.meta['mongodb.query']).toBe('{"ssn":"?","age":{"$gt":"?"}}');
  });

  it('credit card numbers in any tag and in span event attributes, not in ids', () => {
    const s = span({ type: 'web', meta: { 'payment.card': '4111 1111 1111 1111', 'order.id': '12', 'runtime-id': '4111111111111111' } });
    s.spanEvents = [{ name: 'charge', timeUnixNano: 0n, attributes: { card: 5500005555555559, note: 'ok' } }];
    obf.span(s);
    expect(s.meta).toMatchObject({ 'payment.card': '?', 'order.id': '12', 'runtime-id': '4111111111111111' });
    expect(s.spanEvents[0]!.attributes).toEqual({ card: '?', note: 'ok' });
  });

  it('stack traces only when asked', () => {
    const s = span({ meta: { 'error.stack': 'Error: x\n at y' } });
    obf.span(s);
    expect(s.meta['error.stack']).toBe('Error: x\n at y');
    new Obfuscator({ ...DEFAULT_OBFUSCATION, removeStackTraces: true }).span(s);
    expect(s.meta['error.stack']).toBe('?');
  });
});

describe('credit card numbers', () => {
  it.each([
    ['4111 1111 1111 1111', true],
    ['4111-1111-1111-1111', true],
    ['378282246310005', true],
    ['5500005555555559', true],
    ['6011111111111117', true],
    ['3530111333300000', true],
    ['2223003122003222', true],
    ['12345', false],
    ['4111 1111 1111 1111 1111', false],
    ['9111111111111111', false],
    ['4111 1111 1111 111a', false],
    ['0000 0000 0000', false],
  ])('%s -> %s', (value, expected) => {
    expect(isCardNumber(value, false)).toBe(expected);
  });

  it('checks Luhn when configured', () => {
    expect(isCardNumber('4111111111111111', true)).toBe(true);
    expect(isCardNumber('4111111111111112', true)).toBe(false);
    expect(isCardNumber('4111111111111112', false)).toBe(true);
  });
});

describe('http.url options', () => {
  it('removes the query string and digit path segments when configured', () => {
    expect(obfuscateHttpUrl('http://h/users/42/orders?x=1', { removeQueryString: true, removePathDigits: false })).toBe('http://h/users/42/orders?');
    expect(obfuscateHttpUrl('http://h/users/42/orders?x=1', { removeQueryString: false, removePathDigits: true })).toBe('http://h/users/?/orders?x=1');
    // Go's url package reads this as a relative path, so the Agent writes it back escaped...
    expect(obfuscateHttpUrl('not a url', { removeQueryString: true, removePathDigits: false })).toBe('not%20a%20url');
    // ...and what it cannot parse becomes "?" with an option on, or stays as it was.
    expect(obfuscateHttpUrl('http://[::1/x?token=1', { removeQueryString: true, removePathDigits: false })).toBe('?');
    expect(obfuscateHttpUrl('http://[::1/x?token=1', { removeQueryString: false, removePathDigits: false })).toBe('http://[::1/x?token=1');
  });

  it('judges a path segment by what it says once decoded, as the Agent does', () => {
    expect(obfuscateHttpUrl('http://foo.com/1%3F3/nam%3Fe/abcd9', { removeQueryString: false, removePathDigits: true })).toBe('http://foo.com/?/nam%3Fe/?');
  });
});

describe('JSON bodies', () => {
  it('keeps values under kept keys, and handles bulk (NDJSON) bodies', () => {
    expect(obfuscateJsonBody('{"index":{"_id":"1"}}\n{"name":"x"}\n', new Set(['_id']))).toBe('{"index":{"_id":"1"}}\n{"name":"?"}');
    expect(obfuscateJsonBody('{"cut": "off')).toBe('?');
  });
});
