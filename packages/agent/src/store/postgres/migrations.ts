import type pg from 'pg';

/*
 * The schema, as numbered migrations applied in order at start-up. One agent applies them while
 * the others wait on the same advisory lock, so ten agents starting at once migrate once.
 */

const LOCK_KEY = 7_301_230_117; // any constants; the same in every agent
const PARTITION_LOCK_KEY = 7_301_230_118;
/** Held by the agent that runs retention; the others skip their turn. */
export const RETENTION_LOCK_KEY = 7_301_230_119;

/** ecs_trace_ensure_day(): a day's partition of each table named, serialized by an advisory lock. */
function ensureDayFunction(verb: 'CREATE' | 'CREATE OR REPLACE', tables: readonly string[]): string {
  return `${verb} FUNCTION ecs_trace_ensure_day(day bigint) RETURNS void LANGUAGE plpgsql AS $$
   DECLARE
     lo numeric := day::numeric * 86400000000000;
     hi numeric := (day + 1)::numeric * 86400000000000;
     t text;
   BEGIN
     PERFORM pg_advisory_xact_lock(${PARTITION_LOCK_KEY});
     FOREACH t IN ARRAY ARRAY[${tables.map((n) => `'${n}'`).join(', ')}] LOOP
       EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', t || '_d' || day, t,
         CASE WHEN lo < -9223372036854775808 THEN 'MINVALUE' ELSE lo::text END,
         CASE WHEN hi > 9223372036854775807 THEN 'MAXVALUE' ELSE hi::text END);
     END LOOP;
   END $$;`;
}

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

  // 2: the same tables partitioned by day (UTC), so retention drops whole days. A payload's chunk
  // and index rows carry its receive time, so they sit in the same day as the payload; stats sit
  // in the day of their bucket. ecs_trace_ensure_day() makes a day's four partitions, serialized
  // by an advisory lock so that agents writing the first payload of a day at once do not collide.
  `ALTER TABLE payloads RENAME TO payloads_v1;
   ALTER TABLE chunks RENAME TO chunks_v1;
   ALTER TABLE span_index RENAME TO span_index_v1;
   ALTER TABLE stats RENAME TO stats_v1;
   ALTER INDEX payloads_by_max_end RENAME TO payloads_v1_by_max_end;
   ALTER INDEX chunks_by_trace RENAME TO chunks_v1_by_trace;
   ALTER INDEX chunks_by_payload RENAME TO chunks_v1_by_payload;
   ALTER INDEX span_index_by_service RENAME TO span_index_v1_by_service;
   ALTER INDEX span_index_by_start RENAME TO span_index_v1_by_start;
   ALTER INDEX span_index_by_payload RENAME TO span_index_v1_by_payload;
   ALTER INDEX stats_by_start RENAME TO stats_v1_by_start;
   ALTER INDEX stats_by_service RENAME TO stats_v1_by_service;

   CREATE SEQUENCE payload_ids;
   SELECT setval('payload_ids', coalesce((SELECT max(id) FROM payloads_v1), 0) + 1, false);
   CREATE TABLE payloads (
     id bigint NOT NULL, received bigint NOT NULL, max_end bigint NOT NULL, span_count int NOT NULL, lang text NOT NULL,
     tracer_version text NOT NULL, container_id text NOT NULL, hostname text NOT NULL, spans bytea NOT NULL) PARTITION BY RANGE (received);
   CREATE INDEX payloads_by_id ON payloads (id);
   CREATE INDEX payloads_by_max_end ON payloads (max_end);
   CREATE TABLE chunks (
     trace_id bigint NOT NULL, payload bigint NOT NULL, received bigint NOT NULL, "offset" int NOT NULL, trace_id_high text NOT NULL, start bigint NOT NULL,
     "end" bigint NOT NULL, root_span_id bigint, root_service text NOT NULL, root_name text NOT NULL, root_resource text NOT NULL, env text NOT NULL,
     span_count int NOT NULL, error_count int NOT NULL, services text NOT NULL) PARTITION BY RANGE (received);
   CREATE INDEX chunks_by_trace ON chunks (trace_id);
   CREATE INDEX chunks_by_payload ON chunks (payload);
   CREATE TABLE span_index (
     payload bigint NOT NULL, received bigint NOT NULL, service text NOT NULL, env text NOT NULL, name text NOT NULL, resource text NOT NULL,
     type text NOT NULL, start bigint NOT NULL, duration bigint NOT NULL, error int NOT NULL, trace_id bigint NOT NULL) PARTITION BY RANGE (received);
   CREATE INDEX span_index_by_service ON span_index (service, start);
   CREATE INDEX span_index_by_start ON span_index (start);
   CREATE INDEX span_index_by_payload ON span_index (payload);
   CREATE TABLE stats (LIKE stats_v1) PARTITION BY RANGE (start);
   CREATE INDEX stats_by_start ON stats (start);
   CREATE INDEX stats_by_service ON stats (service, start);

   ${ensureDayFunction('CREATE', ['payloads', 'chunks', 'span_index', 'stats'])}

   SELECT ecs_trace_ensure_day(d) FROM (
     SELECT DISTINCT floor(received / 86400000000000.0)::bigint AS d FROM payloads_v1
     UNION SELECT DISTINCT floor(start / 86400000000000.0)::bigint FROM stats_v1) days;
   INSERT INTO payloads SELECT id, received, max_end, span_count, lang, tracer_version, container_id, hostname, spans FROM payloads_v1;
   INSERT INTO chunks SELECT c.trace_id, c.payload, p.received, c."offset", c.trace_id_high, c.start, c."end", c.root_span_id, c.root_service,
     c.root_name, c.root_resource, c.env, c.span_count, c.error_count, c.services FROM chunks_v1 c JOIN payloads_v1 p ON p.id = c.payload;
   INSERT INTO span_index SELECT s.payload, p.received, s.service, s.env, s.name, s.resource, s.type, s.start, s.duration, s.error, s.trace_id
     FROM span_index_v1 s JOIN payloads_v1 p ON p.id = s.payload;
   INSERT INTO stats SELECT * FROM stats_v1;
   DROP TABLE payloads_v1, chunks_v1, span_index_v1, stats_v1;`,

  // 3: the services rollup (store/service-rollup.ts). Each store process writes rows of its own
  // (writer), so agents never contend for a slot; a read sums them. Filled from the stats rows
  // already there by the first agent that opens it (PostgresStore.backfill).
  `CREATE TABLE service_rollup (
     width bigint NOT NULL, slot bigint NOT NULL, writer text NOT NULL, service text NOT NULL, env text NOT NULL, name text NOT NULL,
     version text NOT NULL, type text NOT NULL, top_level_hits float8 NOT NULL, hits float8 NOT NULL, errors float8 NOT NULL,
     total_duration float8 NOT NULL, ok_sketch bytea NOT NULL, error_sketch bytea NOT NULL, last_seen bigint NOT NULL,
     PRIMARY KEY (width, slot, service, env, name, version, writer));
   CREATE TABLE ecs_trace_backfill (what text PRIMARY KEY, done bool NOT NULL);
   INSERT INTO ecs_trace_backfill VALUES ('service_rollup', false);`,

  // 4: error spans have an index of their own, newest first, for "errors only" searches.
  `CREATE INDEX span_index_errors ON span_index (start) WHERE error = 1;`,

  // 5: the service map's and error tracking's rollups, each writer's rows apart, and the halves
  // of calls waiting for their other side (store/trace-rollup.ts). They start empty: a store
  // upgraded from 4 counts from then on.
  `CREATE TABLE trace_rollup (
     width bigint NOT NULL, slot bigint NOT NULL, writer text NOT NULL, kind text NOT NULL, key text NOT NULL, data text NOT NULL,
     PRIMARY KEY (width, slot, kind, key, writer));
   CREATE TABLE call_halves (trace_id bigint NOT NULL, span_id bigint NOT NULL, side text NOT NULL, at bigint NOT NULL, data text NOT NULL);
   CREATE INDEX call_halves_span ON call_halves (trace_id, span_id);
   CREATE INDEX call_halves_at ON call_halves (at);`,

  // 6: the tag index (store/tag-filter.ts): each payload's Bloom filters of its key=value pairs,
  // a row per shard, partitioned by day with the payload; read by (shard, max_start).
  // tag_filter_widest bounds first-to-last start within a payload, as in the embedded store.
  // Filters of payloads stored before are made by the first agent that opens it (backfillTags).
  `CREATE TABLE tag_filters (
     payload bigint NOT NULL, received bigint NOT NULL, shard smallint NOT NULL, min_start bigint NOT NULL, max_start bigint NOT NULL,
     bits bytea NOT NULL) PARTITION BY RANGE (received);
   CREATE INDEX tag_filters_by_shard ON tag_filters (shard, max_start);
   CREATE INDEX tag_filters_by_payload ON tag_filters (payload);
   CREATE TABLE tag_filter_widest (id int PRIMARY KEY CHECK (id = 0), widest bigint NOT NULL);
   INSERT INTO tag_filter_widest VALUES (0, 0);
   ${ensureDayFunction('CREATE OR REPLACE', ['payloads', 'chunks', 'span_index', 'stats', 'tag_filters'])}
   SELECT ecs_trace_ensure_day(d) FROM (
     SELECT DISTINCT floor(received / 86400000000000.0)::bigint AS d FROM payloads
     UNION SELECT DISTINCT floor(start / 86400000000000.0)::bigint FROM stats) days;
   INSERT INTO ecs_trace_backfill VALUES ('tag_filters', NOT EXISTS (SELECT 1 FROM payloads));`,

  // 7: what people decided of error groups (open, resolved, ignored), shared by every replica.
  `CREATE TABLE error_status (group_id text PRIMARY KEY, status text NOT NULL, changed_at bigint NOT NULL);`,

  // 8: a rollup slot's first request (a service's rate is over the time it was seen); rows
  // written before it have none, and read as from their slot's start.
  `ALTER TABLE service_rollup ADD COLUMN first_seen bigint;`,

  // 9: monitors muted from the UI or the API, until when (ns), for every replica.
  `CREATE TABLE monitor_mute (monitor text PRIMARY KEY, until bigint NOT NULL);`,

  // 10: monitors made in the UI or the API (the monitors file's are in the file), for every replica.
  `CREATE TABLE saved_monitors (id text PRIMARY KEY, definition text NOT NULL);`,

  // 11: monitors' changes of state, for every replica and across restarts (30 days kept).
  `CREATE TABLE monitor_events (monitor text NOT NULL, at bigint NOT NULL, event text NOT NULL, PRIMARY KEY (monitor, at));
   CREATE INDEX monitor_events_at ON monitor_events (at);`,

  // 12: remote configurations (tracing settings the tracers poll for), for every replica; a
  // removed one keeps its row, definition NULL, so the revision (the greatest version) goes up.
  `CREATE SEQUENCE remote_config_version;
   CREATE TABLE remote_configs (id text PRIMARY KEY, definition text, version bigint NOT NULL);`,
];

/** A day's partitions: named `<table>_d<days since the epoch>`, as ecs_trace_ensure_day() makes them. */
export const DAY_NS = 86_400_000_000_000n;
export const PARTITIONED_TABLES = ['payloads', 'chunks', 'span_index', 'stats', 'tag_filters'] as const;

/** Floor division: the day a time (ns) falls in, before 1970 too. */
export function dayOf(ns: bigint): bigint {
  const d = ns / DAY_NS;
  return ns < 0n && d * DAY_NS !== ns ? d - 1n : d;
}

/** The schema version a database has, and the one this ecs-trace knows. */
export async function schemaStatus(pool: pg.Pool): Promise<{ current: number; latest: number }> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('ecs_trace_migrations')::text AS t");
  if (exists.rows[0]?.t === null) return { current: 0, latest: MIGRATIONS.length };
  const { rows } = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM ecs_trace_migrations');
  return { current: rows[0]?.v ?? 0, latest: MIGRATIONS.length };
}

/** Applies what is missing (up to `target`, for tests of an upgrade); returns the schema version now in force. */
export async function migrate(pool: pg.Pool, target = MIGRATIONS.length): Promise<number> {
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
      for (let v = current + 1; v <= target; v++) {
        await client.query('BEGIN');
        await client.query(MIGRATIONS[v - 1]!);
        await client.query('INSERT INTO ecs_trace_migrations (version) VALUES ($1)', [v]);
        await client.query('COMMIT');
      }
      return Math.max(current, target);
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
