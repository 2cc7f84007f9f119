import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSERT_SETTINGS, type ClickHouseTransport } from './transport.js';

/*
 * ClickHouse's engine in process (chdb: the same engine as the server, without its network
 * listener), for the tests: no modern ClickHouse server is installable here. Every statement,
 * type, index and view of the store is run by ClickHouse itself through it; what only a server
 * shows (HTTP, concurrent clients, replication) is not. Installed beside the e2e apps
 * (`bash e2e/apps/prepare.sh chdb`), not by `npm ci`: it is half a gigabyte.
 */

const BUILD = process.env['ECS_TRACE_E2E_APPS'] ?? fileURLToPath(new URL('../../../../../e2e/apps/.build', import.meta.url));
const PACKAGE = join(BUILD, 'chdb', 'package.json');

interface ChdbSession {
  query(query: string): string;
  queryBindAsync(query: string, params: object, opts?: { format?: string }): Promise<{ text(): string }>;
  insert(p: { table: string; values: string; format: 'JSONEachRow'; settings?: Record<string, string | number> }): Promise<unknown>;
  cleanup(): void;
}

/** Why the engine cannot run here, or undefined when it can. */
export function engineMissing(): string | undefined {
  return existsSync(join(BUILD, 'chdb', 'node_modules', 'chdb', 'package.json')) ? undefined : `ClickHouse's engine (chdb) is not installed: bash e2e/apps/prepare.sh chdb`;
}

/** A transport over a fresh in-process database, removed on close. */
export function engineTransport(): ClickHouseTransport {
  const require = createRequire(PACKAGE);
  const { Session } = require('chdb') as { Session: new (path: string) => ChdbSession };
  const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-chdb-'));
  const s = new Session(dir);
  // As the HTTP transport asks for: 64-bit integers as strings in JSON (chdb's default prints them as numbers).
  s.query('SET output_format_json_quote_64bit_integers = 1');
  const rows = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    async query<T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
      return rows((await s.queryBindAsync(sql, params, { format: 'JSONEachRow' })).text()) as T[];
    },
    async insert(table, values, o) {
      if (values.length === 0) return;
      await s.insert({ table, values: values.map((v) => JSON.stringify(v)).join('\n'), format: 'JSONEachRow', settings: { ...INSERT_SETTINGS, ...(o?.token ? { insert_deduplication_token: o.token } : {}) } });
    },
    async command(sql, params = {}) {
      await s.queryBindAsync(sql, params);
    },
    async close() {
      s.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One engine database for a whole agent (its store and its lease ask for a transport each, as
 * they would open a connection each): their close() leaves it open; close() here removes it.
 */
export function sharedEngine(): { transport: () => ClickHouseTransport; close(): Promise<void> } {
  const t = engineTransport();
  return { transport: () => ({ ...t, close: async () => {} }), close: () => t.close() };
}
