import { describe, expect, it } from 'vitest';
import { obfuscateHttpUrl } from './http-url.js';
import { obfuscateSqlWith } from './sql.js';

/*
 * Quirks of the Datadog Agent's obfuscation that resources group by, each with the output of the
 * Agent's own obfuscator (pkg/obfuscate v0.85.4; e2e/obfuscation.e2e.test.ts compares whole
 * corpora against it where Go is installed).
 */

const DEFAULTS = { tableNames: false, replaceDigits: false, keepSqlAlias: false, dollarQuotedFunc: false };
const sql = (q: string, o: Partial<typeof DEFAULTS> = {}) => obfuscateSqlWith(q, { ...DEFAULTS, ...o });

describe("the Agent's default SQL tokenizer", () => {
  it('keeps a group open past its ")": the comma after ( ? ) goes', () => {
    expect(sql("UPDATE orders SET status = IF(amount > 1000, 'High', 'Low'), note = 'x' WHERE id = 1").query)
      .toBe('UPDATE orders SET status = IF ( amount > ? ) note = ? WHERE id = ?');
  });

  it('reads a minus before a digit as a sign wherever it stands, and ->, || and %X as it does without a DBMS', () => {
    expect(sql('SELECT a FROM t WHERE x > -5 AND y = z-1').query).toBe('SELECT a FROM t WHERE x > ? AND y = z ?');
    expect(sql("SELECT data->'a'->>'b' FROM t WHERE c || d = 'e'").query).toBe('SELECT data ? > ? > > ? FROM t WHERE c | | d = ?');
    expect(sql('DECLARE r t%ROWTYPE; SELECT * FROM t WHERE a = %s').query).toBe('DECLARE r t ? OWTYPE SELECT * FROM t WHERE a = ?');
  });

  it('makes one ? of values in a row', () => {
    expect(sql("SELECT * FROM events WHERE payload ? 'user_id'").query).toBe('SELECT * FROM events WHERE payload ?');
  });

  it('collects tables and replaces digits in names with table_names and replace_sql_digits', () => {
    expect(sql('SELECT a, b AS c, 1 FROM t_2024 JOIN u ON t_2024.id = u.id', { tableNames: true, replaceDigits: true }))
      .toEqual({ query: 'SELECT a, b, ? FROM t_? JOIN u ON t_?.id = u.id', tables: ['t_?', 'u'] });
  });

  it('reads dollar-quote tags as it does: an empty body is not parsable, a $func$ body is obfuscated when asked', () => {
    expect(sql('SELECT $a$$a$ FROM t').query).toBe('Non-parsable SQL query');
    expect(sql('SELECT $a$x$a$ FROM t').query).toBe('SELECT ? FROM t');
    expect(sql("SELECT $func$ SELECT 1 FROM t WHERE a = 'x' $func$", { dollarQuotedFunc: true }).query).toBe('SELECT $func$SELECT ? FROM t WHERE a = ?$func$');
  });
});

describe("http.url as the Agent's Go code writes it back", () => {
  const url = (u: string, removeQueryString: boolean, removePathDigits: boolean) => obfuscateHttpUrl(u, { removeQueryString, removePathDigits });

  it('escapes what Go escapes, lowers the scheme and judges digits on the decoded path', () => {
    expect(url('HTTP://Foo.COM/a b/7?q=1#f 2', false, true)).toBe('http://Foo.COM/a%20b/??q=1#f%202');
    expect(url('http://u:p@h/x%2F1/y', false, false)).toBe('http://h/x%2F1/y');
  });

  it('obfuscates relative URLs too, and makes "?" of one Go cannot parse when an option is on', () => {
    expect(url('/rel/4/x?a=b', true, false)).toBe('/rel/4/x?');
    expect(url('http://h:80a/x', true, false)).toBe('?');
  });
});
