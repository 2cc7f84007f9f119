import type { StatsQuery, TraceQuery } from './contract.js';

/*
 * The WHERE clauses of the contract's queries, written once for every SQL backend: each backend
 * only says how it writes a parameter (`?` in SQLite, `$1` in PostgreSQL).
 */

export interface Where {
  /** `WHERE a AND b`, or '' when there is no condition. */
  sql: string;
  params: unknown[];
}

export type Condition = [sql: string, value?: unknown];

export function where(conditions: Condition[], placeholder: (n: number) => string): Where {
  const params: unknown[] = [];
  const parts = conditions.map(([sql, ...value]) => {
    if (value.length === 0) return sql;
    params.push(value[0]);
    return sql.replace('?', placeholder(params.length));
  });
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** The span index's conditions of a trace search. */
export function traceQueryWhere(q: TraceQuery, placeholder: (n: number) => string): Where {
  const c: Condition[] = [];
  if (q.service !== undefined) c.push(['service = ?', q.service]);
  if (q.env !== undefined) c.push(['env = ?', q.env]);
  if (q.resource !== undefined) c.push(['resource = ?', q.resource]);
  // A literal, so that the planners can use the partial index of error spans.
  if (q.error !== undefined) c.push([q.error ? 'error = 1' : 'error = 0']);
  if (q.name !== undefined) c.push(['name = ?', q.name]);
  if (q.minDurationNs !== undefined) c.push(['duration >= ?', q.minDurationNs]);
  if (q.maxDurationNs !== undefined) c.push(['duration <= ?', q.maxDurationNs]);
  if (q.start !== undefined) c.push(['start >= ?', q.start]);
  if (q.end !== undefined) c.push(['start < ?', q.end]);
  return where(c, placeholder);
}

/** The stats table's conditions of a stats query. */
export function statsQueryWhere(q: StatsQuery, placeholder: (n: number) => string): Where {
  const c: Condition[] = [['start >= ?', q.start], ['start < ?', q.end]];
  for (const [column, v] of [['service', q.service], ['env', q.env], ['version', q.version], ['resource', q.resource], ['name', q.name]] as const) {
    if (v !== undefined) c.push([`${column} = ?`, v]);
  }
  if (q.topLevel) c.push(['top_level_hits > 0']);
  return where(c, placeholder);
}

/** The stats table's columns but its sketches (StatsQuery.countsOnly). */
export const STATS_COUNT_COLUMNS = 'start, duration, service, name, resource, type, env, version, http_status_code, span_kind, is_trace_root, synthetics, peer_tags, hits, top_level_hits, errors, total_duration, source';

const SUM_COLUMN: Record<NonNullable<StatsQuery['sumBy']>, string> = {
  service: 'service', name: 'name', resource: 'resource', env: 'env', version: 'version', httpStatusCode: 'http_status_code', spanKind: 'span_kind',
};

/**
 * The SELECT list and GROUP BY of a stats query: every column, or without sketches, or summed per
 * value of one field and version (StatsQuery.sumBy). `anyOf` names a boolean column's aggregate.
 */
export function statsSelect(q: StatsQuery, anyOf: (column: string) => string): { columns: string; groupBy: string } {
  if (!q.countsOnly) return { columns: '*', groupBy: '' };
  if (!q.sumBy) return { columns: STATS_COUNT_COLUMNS, groupBy: '' };
  const by = SUM_COLUMN[q.sumBy];
  const kept = (c: string) => (c === by || c === 'version' ? c : `max(${c}) AS ${c}`);
  return {
    columns: ['min(start) AS start', 'min(duration) AS duration', ...['service', 'name', 'resource', 'type', 'env', 'version', 'http_status_code', 'span_kind'].map(kept),
      `${anyOf('is_trace_root')} AS is_trace_root`, `${anyOf('synthetics')} AS synthetics`, "'' AS peer_tags",
      'sum(hits) AS hits', 'sum(top_level_hits) AS top_level_hits', 'sum(errors) AS errors', 'sum(total_duration) AS total_duration', 'max(source) AS source'].join(', '),
    groupBy: `GROUP BY ${by === 'version' ? 'version' : `${by}, version`}`,
  };
}

export const sqlitePlaceholder = (): string => '?';
export const postgresPlaceholder = (n: number): string => `$${n}`;
