import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, obfuscationConfig, Obfuscator } from '@ecs-trace/agent';
import { startTestAgent } from '@ecs-trace/agent/testing';
import { emptySpan } from '@ecs-trace/protocol';
import { postgresUnavailable, startTestPostgres } from '../packages/agent/src/store/postgres/test-server.js';
import { componentsAvailable } from './components.js';
import { runDdTraceApp } from './dd-trace-app.js';
import { BUILD } from './languages.js';
import { freePort } from './ports.js';
import { waitForTrace } from './traces.js';

/*
 * ecs-trace's SQL and URL obfuscation side by side with the Datadog Agent's own
 * (pkg/obfuscate v0.85.4 from the Go module proxy, configured as the trace-agent configures it;
 * e2e/apps/agent-obfuscate, built by prepare.sh), on every input of go-sqllexer's DBMS fixtures
 * (374 queries of PostgreSQL, MySQL, SQL Server, Oracle and Snowflake, from the module the Agent
 * builds with), on the inputs of 72 of the Agent's own SQL test cases, and on queries as ORMs and
 * tracers send them. The match rate of each mode is
 * printed; a difference fails with both outputs.
 */

const ORACLE = join(BUILD, 'agent-obfuscate/agent-obfuscate');
const FIXTURES = join(BUILD, 'agent-obfuscate/sqllexer-testdata');
const ready = componentsAvailable(existsSync(ORACLE) && existsSync(FIXTURES) ? undefined : `the Agent's obfuscator is not built (${ORACLE}): bash e2e/apps/prepare.sh agent-obfuscate`, 'obfuscation e2e tests');

interface SqlRequest { kind: 'sql'; query: string; dbms: string; mode: string; features: string[] }
interface UrlRequest { kind: 'url'; query: string; removeQueryString: boolean; removePathDigits: boolean }
interface Answer { out: string; tables?: string; error?: string }

/** The Agent's answers, one per request, from one run of the oracle. */
function agent(requests: (SqlRequest | UrlRequest)[]): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(ORACLE, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.split('\n').filter(Boolean);
      if (code !== 0 || lines.length !== requests.length) reject(new Error(`agent-obfuscate exited ${code} after ${lines.length}/${requests.length} answers: ${err}`));
      else resolve(lines.map((l) => JSON.parse(l) as Answer));
    });
    child.stdin.end(requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });
}

/** go-sqllexer's fixture inputs, with the DBMS each was written for (its folder). */
function fixtures(): { query: string; dbms: string; name: string }[] {
  const out: { query: string; dbms: string; name: string }[] = [];
  const walk = (dir: string, dbms: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p, dbms || f);
      else if (f.endsWith('.json')) out.push({ query: (JSON.parse(readFileSync(p, 'utf8')) as { input: string }).input, dbms, name: p.slice(FIXTURES.length + 1) });
    }
  };
  walk(FIXTURES, '');
  return out;
}

/** As tracers and ORMs send them, each with the db.type its tracer sets. */
const APP_QUERIES: [string, string][] = [
  ['SELECT "users"."id", "users"."email" FROM "users" WHERE "users"."id" = $1 LIMIT $2', 'postgres'],
  ["SELECT * FROM orders WHERE customer_id = 42 AND status IN ('open', 'paid') ORDER BY created_at DESC LIMIT 10", 'postgres'],
  ['INSERT INTO "events" ("name", "payload", "created_at") VALUES ($1, $2, NOW()) RETURNING "id"', 'postgres'],
  ["UPDATE accounts SET balance = balance - 100.50, updated_at = '2026-12-02' WHERE id = 7 AND active = true", 'postgres'],
  ['SELECT t0.id, t0.name FROM products t0 LEFT JOIN categories t1 ON t0.category_id = t1.id WHERE t1.slug = ? AND t0.price > ?', 'mysql'],
  ['SELECT `orders`.* FROM `orders` WHERE `orders`.`user_id` = 12 AND `orders`.`state` = "shipped"', 'mysql'],
  ['select user0_.id as id1_0_, user0_.email as email2_0_ from app_user user0_ where user0_.email=?', 'mysql'],
  ['SELECT [u].[Id], [u].[Name] FROM [Users] AS [u] WHERE [u].[Age] > @__age_0 ORDER BY [u].[Name] OFFSET @__p_1 ROWS', 'sqlserver'],
  ['EXEC sp_executesql N\'SELECT * FROM t WHERE id = @id\', N\'@id int\', @id = 5', 'sql-server'],
  ['SELECT * FROM employees WHERE hire_date > :start_date AND dept_id = :dept', 'oracle'],
  ["SELECT COUNT(*) FROM sessions WHERE expires_at < now() - interval '1 day' -- cleanup", 'postgresql'],
  ['/* controller:orders,action:index */ SELECT "orders".* FROM "orders" WHERE "orders"."deleted_at" IS NULL', 'postgres'],
  ['WITH recent AS (SELECT id FROM logins WHERE at > now() - 3600) SELECT u.name FROM users u JOIN recent r ON r.id = u.id', 'postgres'],
  ["SELECT data->>'name', data->'tags' FROM docs WHERE data @> '{\"a\": 1}'::jsonb", 'postgres'],
  ['DELETE FROM cart_items WHERE cart_id = 99 AND sku NOT IN (1, 2, 3, 4)', 'mysql'],
  ['SELECT EXTRACT(epoch FROM created_at) FROM jobs WHERE id = $1', 'postgres'],
  ["SELECT * FROM t WHERE name LIKE '%smith%' ESCAPE '\\'", 'mysql'],
  ['BEGIN', 'postgres'],
  ['SELECT 1', ''],
  ['SELECT * FROM users_2024 u1 JOIN shard_07.logs l ON l.uid = u1.id', 'postgres'],
  ["CREATE OR REPLACE FUNCTION bump(n int) RETURNS int AS $func$ SELECT n + 1 FROM counters_2 WHERE name = 'x' $func$ LANGUAGE sql", 'postgres'],
  ['SELECT $func$$func$, $func$ SELECT ) $func$', 'postgres'],
  ['SELECT $a$x$$a$ FROM t', 'postgres'],
  ["SELECT $$ it's $$, $ $x$ $, $t$a$$b$t$ FROM t", 'postgres'],
];

/** The Agent's own SQL test cases the unit tests check against their expected outputs (inputs only here). */
const AGENT_CASES = JSON.parse(readFileSync(new URL('../packages/agent/src/process/obfuscate/testdata/agent-sql-cases.json', import.meta.url), 'utf8')) as [string, string][];

const MODES = ['obfuscate_only', 'normalize_only', 'obfuscate_and_normalize'] as const;

function ours(query: string, dbms: string, mode: string, features: string[]): { out: string; tables: string } {
  const obf = new Obfuscator(obfuscationConfig({ ...DEFAULTS, sqlObfuscationMode: mode, features }));
  const r = obf.sql(query, dbms);
  return { out: r.query, tables: r.tables };
}

// The settings an agent starts with, but for those under test.
const DEFAULTS = loadConfig({ env: {} });

describe.runIf(ready)("obfuscation side by side with the Datadog Agent's", () => {
  let corpus: { query: string; dbms: string; name: string }[];
  beforeAll(() => {
    corpus = [...fixtures(), ...APP_QUERIES.map(([query, dbms], i) => ({ query, dbms, name: `app query ${i}` })),
      ...AGENT_CASES.map(([query], i) => ({ query, dbms: '', name: `Agent test case ${i}` }))];
    expect(corpus.length).toBeGreaterThan(450);
  });

  /** Compares every corpus query in one mode and feature set; prints the rate; returns the differences. */
  async function compare(mode: string, features: string[]): Promise<string[]> {
    const answers = await agent(corpus.map(({ query, dbms }) => ({ kind: 'sql', query, dbms, mode, features })));
    const diffs: string[] = [];
    corpus.forEach((c, i) => {
      const a = answers[i]!;
      const want = a.error !== undefined ? { out: 'Non-parsable SQL query', tables: '' } : { out: a.out, tables: a.tables ?? '' };
      const got = ours(c.query, c.dbms, mode, features);
      if (got.out !== want.out || got.tables !== want.tables) {
        diffs.push(`${c.name} [${c.dbms}]\n  input:  ${JSON.stringify(c.query)}\n  agent:  ${JSON.stringify(want)}\n  ours:   ${JSON.stringify(got)}`);
      }
    });
    const label = `${mode || 'default tokenizer'}${features.length ? ` +${features.join(',')}` : ''}`;
    console.log(`obfuscation vs the Datadog Agent, ${label}: ${corpus.length - diffs.length}/${corpus.length} (${(100 * (corpus.length - diffs.length) / corpus.length).toFixed(1)}%)`);
    return diffs;
  }

  it.each(['', ...MODES])('%s: every query as the Agent gives it (empty: the default tokenizer)', async (mode) => {
    expect((await compare(mode, [])).join('\n')).toBe('');
  });

  it.each([
    ['obfuscate_and_normalize', ['table_names']],
    ['normalize_only', ['table_names', 'keep_sql_alias']],
    ['obfuscate_and_normalize', ['replace_sql_digits', 'dollar_quoted_func']],
    ['obfuscate_only', ['quantize_sql_tables', 'dollar_quoted_func']],
    ['', ['sqllexer']],
    ['', ['table_names', 'replace_sql_digits']],
    ['', ['table_names', 'keep_sql_alias']],
    ['', ['dollar_quoted_func', 'replace_sql_digits']],
  ] as [string, string[]][])('%s with %j: every query and its tables as the Agent gives them', async (mode, features) => {
    expect((await compare(mode, features)).join('\n')).toBe('');
  });

  it('HTTP URLs with query strings and path digits removed, as the Agent removes them', async () => {
    const urls = [
      'http://foo.com/1%3F3/nam%3Fe/abcd9', 'http://foo.com/users/123/orders/9?x=1&token=abc', 'https://u:p@api.example.com/v2/items/77b?q',
      'http://foo.com/path/to/file.txt', '/relative/4/path?a=b', 'http://foo.com/%7E1/a%2F2', 'http://[::1]:8080/x/1', 'not a url at all 123',
      'http://foo.com/a b/1', 'http://foo.com?', 'http://foo.com/#frag1', 'HTTP://Foo.COM/Path/7', 'http://foo.com/caf\u00e9/2?q=\u00e9',
      'http://foo.com/a%zz/1', 'http://foo.com:80a/x', 'http://[::1/x', 'http://user:p%41ss@host/1/x', 'http://us er@host/x', 'mailto:bob@example.com',
      'http://foo.com/x#a#b', 'http://foo.com/x?a=1#f 2', '//cdn.example.com/lib/3.2/x.js', 'http://foo.com/~user/%2Fetc/2', 'http://h/a?b?c',
      '*', 'http://foo.com/a;b=1,c/d', 'http://a@b@c/x', 'http://127.0.0.1:45559/a?<redacted>', 'http://h/p?q=\u00e9 x|y', 'http://h/p?a\tb',
    ];
    const options = [[false, false], [true, false], [false, true], [true, true]] as const;
    const requests = options.flatMap(([q, d]) => urls.map((url): UrlRequest => ({ kind: 'url', query: url, removeQueryString: q, removePathDigits: d })));
    const answers = await agent(requests);
    const diffs: string[] = [];
    requests.forEach((r, i) => {
      const obf = new Obfuscator(obfuscationConfig({ ...DEFAULTS, obfHttpRemoveQueryString: r.removeQueryString, obfHttpRemovePathDigits: r.removePathDigits }));
      const span = emptySpan();
      span.type = 'http';
      span.meta['http.url'] = r.query;
      obf.span(span);
      if (span.meta['http.url'] !== answers[i]!.out) diffs.push(`${JSON.stringify(r)}: agent ${JSON.stringify(answers[i]!.out)}, ours ${JSON.stringify(span.meta['http.url'])}`);
    });
    expect(diffs.join('\n')).toBe('');
  });
});

const PG_APP = fileURLToPath(new URL('./apps/dd-trace-pg.cjs', import.meta.url));
const withPostgres = ready && componentsAvailable(postgresUnavailable(), 'SQL obfuscation e2e tests with the real dd-trace and PostgreSQL');

describe.runIf(withPostgres)("the real dd-trace's PostgreSQL spans through an agent in the Agent's SQL lexer mode", () => {
  it('come back with the resource, sql.query and sql.tables the Datadog Agent gives the same queries', async () => {
    const pg = startTestPostgres(await freePort());
    const agentUnderTest = await startTestAgent({ DD_APM_SQL_OBFUSCATION_MODE: 'obfuscate_and_normalize', DD_APM_FEATURES: 'table_names' });
    try {
      const app = await runDdTraceApp<{ traceId: string; queries: string[] }>(agentUnderTest.intake, { PG_URL: pg.database('orders') }, PG_APP);
      type Stored = { spans: { name: string; resource: string; start: string; meta: Record<string, string> }[] };
      const trace = await waitForTrace<Stored>(agentUnderTest.apiUrl, app.traceId, app.queries.length + 1);
      const pgSpans = trace.spans.filter((s) => s.name === 'pg.query').sort((a, b) => (BigInt(a.start) < BigInt(b.start) ? -1 : 1));
      expect(pgSpans.map((s) => s.meta['db.type'])).toEqual(app.queries.map(() => 'postgres'));
      const answers = await agent(app.queries.map((query): SqlRequest => ({ kind: 'sql', query, dbms: 'postgres', mode: 'obfuscate_and_normalize', features: ['table_names'] })));
      expect(pgSpans.map((s) => ({ resource: s.resource, query: s.meta['sql.query'], tables: s.meta['sql.tables'] ?? '' })))
        .toEqual(answers.map((a) => ({ resource: a.out, query: a.out, tables: a.tables ?? '' })));
      // What the test is for: literals gone, tables named.
      expect(pgSpans[2]!.resource).not.toContain('42');
      expect(pgSpans[2]!.meta['sql.tables']).toBe('orders_2026');
    } finally {
      await agentUnderTest.close();
      pg.stop();
    }
  });
});

describe('an agent started with DD_APM_SQL_OBFUSCATION_MODE', () => {
  it('refuses a mode it does not know, naming the variable', async () => {
    await expect(startTestAgent({ DD_APM_SQL_OBFUSCATION_MODE: 'obfuscate' })).rejects.toThrow(/DD_APM_SQL_OBFUSCATION_MODE="obfuscate" is not valid: expected obfuscate_only, normalize_only, obfuscate_and_normalize/);
  });
});
