import { createClient, type ClickHouseClient } from '@clickhouse/client';

/*
 * How the store talks to ClickHouse: three calls, kept thin and apart, so that the same store
 * runs over `@clickhouse/client` (HTTP: a server, ClickHouse Cloud) in production and over the
 * engine itself in process (chdb) in the tests. Parameters are ClickHouse's own (`{name:Type}`),
 * bound by the server; rows come back as JSON objects (64-bit integers as strings).
 */

export interface ClickHouseTransport {
  /** A SELECT's rows. */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Rows into a table (JSONEachRow), resolved once committed. `token` makes a retried insert of
   * the same rows a no-op (insert_deduplication_token).
   */
  insert(table: string, rows: readonly Record<string, unknown>[], o?: { token?: string }): Promise<void>;
  /** A statement without rows (DDL, ALTER). */
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** The settings of every insert: many agents' small inserts batched by the server, each acknowledged once written. */
export const INSERT_SETTINGS = { async_insert: 1, wait_for_async_insert: 1 } as const;

export interface HttpTransportOptions {
  /** http(s)://host:port/database, or clickhouse://... (read as http, or https with ?secure=true). */
  url: string;
  username?: string;
  password?: string;
}

/** The URL as @clickhouse/client takes it: clickhouse:// is http:// (https:// with `secure`), the database its path. */
export function httpUrl(url: string): { url: string; database: string; username: string | undefined; password: string | undefined } {
  const u = new URL(url);
  const secure = u.searchParams.get('secure') === 'true' || u.protocol === 'https:' || u.protocol === 'clickhouses:';
  const database = decodeURIComponent(u.pathname.replace(/^\/+/, '')) || 'default';
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const port = u.port || (secure ? '8443' : '8123');
  return { url: `${secure ? 'https' : 'http'}://${u.hostname}:${port}`, database, username, password };
}

export function httpTransport(o: HttpTransportOptions): ClickHouseTransport {
  const at = httpUrl(o.url);
  const client: ClickHouseClient = createClient({
    url: at.url, database: at.database, username: o.username ?? at.username ?? 'default', password: o.password ?? at.password ?? '',
    request_timeout: 30_000, clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
  });
  return {
    async query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
      const rs = await client.query({ query: sql, format: 'JSONEachRow', ...(params ? { query_params: params } : {}) });
      return rs.json<T>();
    },
    async insert(table, rows, io) {
      if (rows.length === 0) return;
      await client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow', clickhouse_settings: { ...INSERT_SETTINGS, ...(io?.token ? { insert_deduplication_token: io.token } : {}) } });
    },
    async command(sql, params) {
      await client.command({ query: sql, ...(params ? { query_params: params } : {}) });
    },
    close: () => client.close(),
  };
}
