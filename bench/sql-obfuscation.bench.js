// SQL obfuscation per query: the Agent's default tokenizer (as ecs-trace runs it) against its
// lexer modes (DD_APM_SQL_OBFUSCATION_MODE), uncached, on queries shaped as ORMs send them, in one
// process, rounds interleaved. The agent caches results by query text, so this is the cost of a
// statement the first time it is seen.
//   node bench/sql-obfuscation.bench.js
import { obfuscateSql } from '../packages/agent/dist/process/obfuscate/sql.js';
import { SqlLexerObfuscator } from '../packages/agent/dist/process/obfuscate/sqllexer/index.js';

const QUERIES = [
  ['SELECT "users"."id", "users"."email" FROM "users" WHERE "users"."id" = $1 LIMIT $2', 'postgres'],
  ["SELECT * FROM orders WHERE customer_id = 42 AND status IN ('open', 'paid') ORDER BY created_at DESC LIMIT 10", 'postgres'],
  ['INSERT INTO "events" ("name", "payload", "created_at") VALUES ($1, $2, NOW()) RETURNING "id"', 'postgres'],
  ["UPDATE accounts SET balance = balance - 100.50, updated_at = '2026-12-02' WHERE id = 7 AND active = true", 'postgres'],
  ['select user0_.id as id1_0_, user0_.email as email2_0_ from app_user user0_ where user0_.email=?', 'mysql'],
  ['SELECT [u].[Id], [u].[Name] FROM [Users] AS [u] WHERE [u].[Age] > @__age_0 ORDER BY [u].[Name] OFFSET @__p_1 ROWS', 'sqlserver'],
  ['WITH recent AS (SELECT id FROM logins WHERE at > now() - 3600) SELECT u.name FROM users u JOIN recent r ON r.id = u.id', 'postgres'],
  ['/* controller:orders,action:index */ SELECT "orders".* FROM "orders" WHERE "orders"."deleted_at" IS NULL', 'postgres'],
];
const N = 2000;
const modes = {
  default: (q) => obfuscateSql(q),
  ...Object.fromEntries(['obfuscate_only', 'normalize_only', 'obfuscate_and_normalize'].map((mode) => {
    const o = new SqlLexerObfuscator({ mode, replaceDigits: false, keepSqlAlias: false, dollarQuotedFunc: false, tableNames: mode !== 'obfuscate_only' });
    return [mode, (q, dbms) => o.obfuscate(q, dbms)];
  })),
};
function time(f) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) for (const [q, dbms] of QUERIES) f(q, dbms);
  return Number(process.hrtime.bigint() - t) / 1e3 / N / QUERIES.length;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
for (let round = 0; round < 7; round++) for (const [m, f] of Object.entries(modes)) results[m].push(time(f));
console.log(`node ${process.version}: µs per query (${QUERIES.length} queries), median of 7 rounds of ${N}`);
const base = median(results.default);
for (const [m, xs] of Object.entries(results)) console.log(`${m.padEnd(24)} ${median(xs).toFixed(2).padStart(6)} µs  ${(median(xs) / base).toFixed(2)}x of the default tokenizer`);
