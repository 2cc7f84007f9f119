import type pg from 'pg';

/*
 * The schema, as numbered migrations applied in order at start-up. One agent applies them while
 * the others wait on the same advisory lock, so ten agents starting at once migrate once.
 */

const LOCK_KEY = 7_301_230_117; // any constant; the same in every agent

export const MIGRATIONS: readonly string[] = [
  // 1: the embedded store's layout.
  `CREATE TABLE payloads (
     id bigserial PRIMARY KEY, received bigint NOT NULL, max_end bigint NOT NULL, span_count int NOT NULL, lang text NOT NULL,
     tracer_version text NOT NULL, container_id text NOT NULL, hostname text NOT NULL, spans bytea NOT NULL);
   CREATE INDEX payloads_by_max_end ON payloads (max_end);
   CREATE TABLE chunks (
     trace_id bigint NOT NULL, payload bigint NOT NULL, "offset" int NOT NULL, trace_id_high text NOT NULL, start bigint NOT NULL, "end" bigint NOT NULL,
     root_span_id bigint, root_service text NOT NULL, root_name text NOT NULL, root_resource text NOT NULL, env text NOT NULL,
     span_count int NOT NULL, error_count int NOT NULL, services text NOT NULL);
   CREATE INDEX chunks_by_trace ON chunks (trace_id);
   CREATE INDEX chunks_by_payload ON chunks (payload);
   CREATE TABLE span_index (
     payload bigint NOT NULL, service text NOT NULL, env text NOT NULL, name text NOT NULL, resource text NOT NULL, type text NOT NULL,
     start bigint NOT NULL, duration bigint NOT NULL, error int NOT NULL, trace_id bigint NOT NULL);
   CREATE INDEX span_index_by_service ON span_index (service, start);
   CREATE INDEX span_index_by_start ON span_index (start);
   CREATE INDEX span_index_by_payload ON span_index (payload);
   CREATE TABLE stats (
     start bigint NOT NULL, duration bigint NOT NULL, service text NOT NULL, name text NOT NULL, resource text NOT NULL, type text NOT NULL,
     env text NOT NULL, version text NOT NULL, http_status_code int NOT NULL, span_kind text NOT NULL, is_trace_root bool NOT NULL,
     synthetics bool NOT NULL, peer_tags text NOT NULL, hits float8 NOT NULL, top_level_hits float8 NOT NULL, errors float8 NOT NULL,
     total_duration float8 NOT NULL, ok_sketch bytea NOT NULL, error_sketch bytea NOT NULL, source text NOT NULL);
   CREATE INDEX stats_by_start ON stats (start);
   CREATE INDEX stats_by_service ON stats (service, start);`,
];

/** The schema version a database has, and the one this ecs-trace knows. */
export async function schemaStatus(pool: pg.Pool): Promise<{ current: number; latest: number }> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('ecs_trace_migrations')::text AS t");
  if (exists.rows[0]?.t === null) return { current: 0, latest: MIGRATIONS.length };
  const { rows } = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM ecs_trace_migrations');
  return { current: rows[0]?.v ?? 0, latest: MIGRATIONS.length };
}

/** Applies what is missing; returns the schema version now in force. */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  // A server that ends the connection fails the migration, not the process.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS ecs_trace_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM ecs_trace_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > MIGRATIONS.length) {
        throw new Error(`the database has ecs-trace schema ${current}; this ecs-trace knows ${MIGRATIONS.length}: upgrade it, or point it at another database`);
      }
      for (let v = current + 1; v <= MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        await client.query(MIGRATIONS[v - 1]!);
        await client.query('INSERT INTO ecs_trace_migrations (version) VALUES ($1)', [v]);
        await client.query('COMMIT');
      }
      return MIGRATIONS.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  } finally {
    client.off('error', ignore);
    client.release();
  }
}
