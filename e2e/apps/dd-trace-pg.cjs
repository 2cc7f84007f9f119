'use strict';
// An app querying PostgreSQL through `pg`, instrumented by the real dd-trace as a user would: its
// spans carry the queries as the tracer sends them (the resource, db.type "postgres"). Prints the
// queries and the trace id, so the test can compare what the agent stored with the Datadog Agent's
// obfuscator on the same text.
const tracer = require('dd-trace').init({ service: 'e2e-orders', env: 'e2e', flushInterval: 100, startupLogs: false });
const { Client } = require('pg');

const QUERIES = [
  'CREATE TABLE IF NOT EXISTS orders_2026 (id int, customer_id int, status text, total numeric, data jsonb, created_at timestamptz)',
  "INSERT INTO orders_2026 (id, customer_id, status, total, data, created_at) VALUES (1, 42, 'open', 19.99, '{\"a\": 1}', NOW())",
  "SELECT o.id, o.total AS amount FROM orders_2026 o WHERE o.customer_id = 42 AND o.status IN ('open', 'paid') ORDER BY o.created_at DESC LIMIT 10",
  "UPDATE orders_2026 SET status = 'paid', total = total - 1.50 WHERE id = 1 -- settle",
  "/* controller:orders */ SELECT data->>'a', COUNT(*) FROM orders_2026 WHERE data @> '{\"a\": 1}'::jsonb GROUP BY 1",
  "SELECT $tag$ it's quoted $tag$ AS t, 1.5e3 AS sci, -7 AS neg FROM orders_2026 WHERE created_at < now() - interval '1 day'",
  'DELETE FROM orders_2026 WHERE id = 1 RETURNING id',
];

(async () => {
  const client = new Client({ connectionString: process.env.PG_URL });
  await client.connect();
  const out = { queries: QUERIES };
  await tracer.trace('orders.job', { resource: 'settle' }, async (root) => {
    out.traceId = root.context().toTraceId(true);
    for (const q of QUERIES) await client.query(q);
  });
  await client.end();
  process.stdout.write(JSON.stringify(out) + '\n');
  // dd-trace flushes every flushInterval ms; give it a few rounds, then leave.
  setTimeout(() => process.exit(0), 1500);
})().catch((err) => { process.stderr.write(String(err?.stack ?? err) + '\n'); process.exit(1); });
