import { describe, expect, it } from 'vitest';
import { SqlLexerObfuscator, type SqlLexerMode } from './index.js';

/*
 * The lexer modes on a few queries, each with what the Datadog Agent's own obfuscator gives
 * (e2e/obfuscation.e2e.test.ts compares every go-sqllexer fixture against it).
 */

function obf(mode: SqlLexerMode, query: string, dbms: string, o: { tableNames?: boolean; replaceDigits?: boolean } = {}) {
  return new SqlLexerObfuscator({ mode, replaceDigits: o.replaceDigits ?? false, keepSqlAlias: false, dollarQuotedFunc: false, tableNames: o.tableNames ?? false }).obfuscate(query, dbms);
}

describe('SQL lexer modes', () => {
  it('obfuscate_only keeps the text, comments included, and replaces literals', () => {
    expect(obf('obfuscate_only', "SELECT * FROM users WHERE id = 1 AND name = 'x' -- why", 'postgres').query).toBe('SELECT * FROM users WHERE id = ? AND name = ? -- why');
  });

  it('normalize_only keeps literals and drops aliases and the trailing semicolon', () => {
    expect(obf('normalize_only', 'SELECT * FROM users AS u WHERE id IN (1, 2);', 'postgres').query).toBe('SELECT * FROM users WHERE id IN ( 1, 2 )');
  });

  it('obfuscate_and_normalize groups values and names the tables, CTEs aside', () => {
    expect(obf('obfuscate_and_normalize', 'WITH r AS (SELECT id FROM logins) SELECT a FROM b JOIN c ON b.id = c.id JOIN r ON r.id = b.id WHERE x IN (1,2,3)', 'postgres', { tableNames: true }))
      .toEqual({ query: 'WITH r AS ( SELECT id FROM logins ) SELECT a FROM b JOIN c ON b.id = c.id JOIN r ON r.id = b.id WHERE x IN ( ? )', tables: ['logins', 'b', 'c'] });
  });

  it('reads each DBMS its own way: MySQL double quotes are strings, PostgreSQL identifiers; SQL Server brackets', () => {
    expect(obf('obfuscate_and_normalize', 'SELECT * FROM t WHERE name = "bob" AND `col` = 1', 'mysql').query).toBe('SELECT * FROM t WHERE name = ? AND col = ?');
    expect(obf('obfuscate_and_normalize', 'SELECT * FROM t WHERE name = "bob"', 'postgres').query).toBe('SELECT * FROM t WHERE name = bob');
    expect(obf('obfuscate_and_normalize', 'SELECT [u].[Id] FROM [Users] AS [u] WHERE [u].[Age] > 30', 'sqlserver').query).toBe('SELECT u.Id FROM Users WHERE u.Age > ?');
  });

  it('replaces digits in names when asked', () => {
    expect(obf('obfuscate_and_normalize', 'SELECT * FROM logs_2024 WHERE id = 5', 'postgres', { replaceDigits: true }).query).toBe('SELECT * FROM logs_? WHERE id = ?');
  });
});
