import type { ClickHouseTransport } from './transport.js';

/*
 * ClickHouse's schema, versioned as PostgreSQL's is (each step once, in order, recorded in
 * ecs_trace_migrations). One span a row, Datadog-shaped: the trace id in two UInt64 halves, names
 * LowCardinality, the tags people filter on promoted to columns, the rest in Map columns with
 * bloom-filter skip indexes; partitions by day (retention drops them whole), sorted by hour, service and
 * time. Chunk rows beside them hold each chunk's summary (a search's list reads those, not spans).
 */

export const DAY_NS = 86_400_000_000_000n;

const DAY = `intDiv(start, ${DAY_NS})`;
/**
 * Sorted by the hour first, then service and time: a search of any range reads only its hours'
 * granules, one of a service only that service's within them (searches walk newest windows first,
 * and the services list's ragged ends are minutes of every service).
 */
const HOUR = 'intDiv(start, 3600000000000)';

export const MIGRATIONS: readonly string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS spans (
       trace_id UInt64, trace_id_high UInt64, span_id UInt64, parent_id UInt64,
       start Int64, duration Int64, received Int64,
       service LowCardinality(String), name LowCardinality(String), resource String, type LowCardinality(String), env LowCardinality(String),
       error UInt8, indexed UInt8, payload_first UInt8,
       meta Map(LowCardinality(String), String), metrics Map(LowCardinality(String), Float64), extra String,
       http_status_code LowCardinality(String) MATERIALIZED meta['http.status_code'],
       http_method LowCardinality(String) MATERIALIZED meta['http.method'],
       http_route String MATERIALIZED meta['http.route'],
       span_kind LowCardinality(String) MATERIALIZED meta['span.kind'],
       peer_service LowCardinality(String) MATERIALIZED meta['peer.service'],
       db_system LowCardinality(String) MATERIALIZED meta['db.system'],
       error_type LowCardinality(String) MATERIALIZED meta['error.type'],
       version LowCardinality(String) MATERIALIZED meta['version'],
       task_arn LowCardinality(String) MATERIALIZED meta['task_arn'],
       container_name LowCardinality(String) MATERIALIZED meta['ecs_container_name'],
       INDEX trace_ids trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
       INDEX tag_keys mapKeys(meta) TYPE bloom_filter(0.01) GRANULARITY 1,
       INDEX tag_values arrayMap(v -> lowerUTF8(v), mapValues(meta)) TYPE bloom_filter(0.01) GRANULARITY 1,
       INDEX metric_keys mapKeys(metrics) TYPE bloom_filter(0.01) GRANULARITY 1,
       INDEX texts lowerUTF8(concat(resource, ' ', name, ' ', meta['error.message'])) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1
     ) ENGINE = MergeTree PARTITION BY ${DAY} ORDER BY (${HOUR}, service, start)
     SETTINGS non_replicated_deduplication_window = 10000`,
    `CREATE TABLE IF NOT EXISTS chunks (
       trace_id UInt64, trace_id_high String, start Int64, end Int64, received Int64, root_span_id Nullable(UInt64),
       root_service LowCardinality(String), root_name LowCardinality(String), root_resource String, env LowCardinality(String),
       span_count UInt32, error_count UInt32, services String,
       INDEX trace_ids trace_id TYPE bloom_filter(0.001) GRANULARITY 1
     ) ENGINE = MergeTree PARTITION BY ${DAY} ORDER BY (start)
     SETTINGS non_replicated_deduplication_window = 10000`,
    // Trace by id: each trace's first and last start, kept as spans are inserted.
    `CREATE TABLE IF NOT EXISTS trace_times (trace_id UInt64, first SimpleAggregateFunction(min, Int64), last SimpleAggregateFunction(max, Int64))
     ENGINE = AggregatingMergeTree ORDER BY trace_id`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS trace_times_mv TO trace_times AS
       SELECT trace_id, min(start) AS first, max(start) AS last FROM chunks GROUP BY trace_id`,
    `CREATE TABLE IF NOT EXISTS stats (
       start Int64, duration Int64, service LowCardinality(String), name LowCardinality(String), resource String, type LowCardinality(String),
       env LowCardinality(String), version LowCardinality(String), http_status_code UInt16, span_kind LowCardinality(String), is_trace_root UInt8,
       synthetics UInt8, peer_tags String, hits Float64, top_level_hits Float64, errors Float64, total_duration Float64,
       ok_sketch String, error_sketch String, source LowCardinality(String)
     ) ENGINE = MergeTree PARTITION BY ${DAY} ORDER BY (${HOUR}, service, start)`,
    // Rollups: each writer's row of a slot replaced as it grows (the newest kept), every writer's
    // merged when read. The services rollup's latency sketches as their bins by key (all in the
    // agent's mapping), so that a range's are merged by ClickHouse itself (sumMap).
    `CREATE TABLE IF NOT EXISTS service_rollup (
       width Int64, slot Int64, writer String, service LowCardinality(String), env LowCardinality(String), name LowCardinality(String),
       version LowCardinality(String), type LowCardinality(String), top_level_hits Float64, hits Float64, errors Float64, total_duration Float64,
       ok_pos Map(Int32, Float64), ok_neg Map(Int32, Float64), ok_zero Float64, err_pos Map(Int32, Float64), err_neg Map(Int32, Float64), err_zero Float64,
       last_seen Int64, first_seen Int64, ver Int64
     ) ENGINE = ReplacingMergeTree(ver) ORDER BY (width, slot, service, env, name, version, writer)`,
    `CREATE TABLE IF NOT EXISTS trace_rollup (width Int64, slot Int64, kind LowCardinality(String), key String, writer String, data String, ver Int64)
     ENGINE = ReplacingMergeTree(ver) ORDER BY (kind, width, slot, key, writer)`,
    // Halves of calls that wait for the other side beyond one agent; those met or expired are marked gone.
    `CREATE TABLE IF NOT EXISTS call_halves (trace_id UInt64, span_id UInt64, side LowCardinality(String), writer String, at Int64, data String)
     ENGINE = MergeTree PARTITION BY intDiv(at, ${DAY_NS}) ORDER BY (trace_id, span_id)`,
    `CREATE TABLE IF NOT EXISTS call_halves_gone (trace_id UInt64, span_id UInt64, at Int64)
     ENGINE = MergeTree PARTITION BY intDiv(at, ${DAY_NS}) ORDER BY (trace_id, span_id)`,
    // What people set: the newest row of a key wins (ver), a removal a row with `deleted`.
    `CREATE TABLE IF NOT EXISTS error_status (group_id String, status LowCardinality(String), changed_at Int64) ENGINE = ReplacingMergeTree(changed_at) ORDER BY group_id`,
    `CREATE TABLE IF NOT EXISTS monitor_mute (monitor String, until Int64, deleted UInt8, ver Int64) ENGINE = ReplacingMergeTree(ver) ORDER BY monitor`,
    `CREATE TABLE IF NOT EXISTS saved_monitors (id String, definition String, deleted UInt8, ver Int64) ENGINE = ReplacingMergeTree(ver) ORDER BY id`,
    `CREATE TABLE IF NOT EXISTS monitor_events (monitor String, at Int64, event String, ver Int64) ENGINE = ReplacingMergeTree(ver) ORDER BY (monitor, at) TTL toDateTime(intDiv(at, 1000000000)) + INTERVAL 30 DAY`,
    `CREATE TABLE IF NOT EXISTS remote_configs (id String, definition Nullable(String), version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
  ],
];

/** Applies the migrations not applied yet; returns the version the database is at. */
export async function migrate(t: ClickHouseTransport): Promise<number> {
  await t.command('CREATE TABLE IF NOT EXISTS ecs_trace_migrations (version UInt32, applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version');
  const rows = await t.query<{ v: string | number }>('SELECT max(version) AS v FROM ecs_trace_migrations');
  const current = Number(rows[0]?.v ?? 0);
  if (current > MIGRATIONS.length) throw new Error(`the database has ecs-trace schema ${current}; this ecs-trace knows ${MIGRATIONS.length}: upgrade it, or point it at another database`);
  for (let v = current + 1; v <= MIGRATIONS.length; v++) {
    // Each statement is idempotent (IF NOT EXISTS): a migration interrupted halfway is run again whole.
    for (const sql of MIGRATIONS[v - 1]!) await t.command(sql);
    await t.insert('ecs_trace_migrations', [{ version: v }]);
  }
  return Math.max(current, MIGRATIONS.length);
}
