import type { StoreReader, TraceStore } from './contract.js';
import type { TraceId } from './records.js';
import { ReaderThread } from './reader-thread.js';
import { readFileSync } from 'node:fs';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import { DiscardStore } from './discard-store.js';
import { ReconnectingStore } from './reconnecting.js';
import { SpooledStore } from './spool.js';
import type { PostgresStore } from './postgres/postgres-store.js';
import type { ClickHouseTransport } from './clickhouse/transport.js';
import { maskedStoreUrl, storeKind, type StoreConfig } from './settings.js';
import { SqliteStore, ThreadedSqliteStore } from './sqlite/index.js';

/**
 * Opens the backend the configuration names. Today that is the embedded SQLite store, with its
 * commits on a worker thread when `writerThread` is set; a new backend is one more folder here
 * and one more branch below (ARCHITECTURE.md, "Add a store backend").
 */
/** With a spool, a remote store acknowledges once a payload is in the local spool (spool.ts). */
export interface SpoolDeps {
  metrics: AgentMetrics;
}

/**
 * The PostgreSQL backend, loaded when first asked for: `pg` and its dependencies cost an agent
 * with the embedded store about 10 MB of memory for nothing.
 */
export async function postgresStore(): Promise<typeof PostgresStore> {
  return (await import('./postgres/postgres-store.js')).PostgresStore;
}

/** The password of a shared store from ECS_TRACE_STORE_PASSWORD_FILE, when one is given. */
function storePassword(config: Pick<StoreConfig, 'storePasswordFile'>): string | undefined {
  try {
    return config.storePasswordFile ? readFileSync(config.storePasswordFile, 'utf8').trim() : undefined;
  } catch (err) {
    throw new Error(`cannot read ECS_TRACE_STORE_PASSWORD_FILE ${config.storePasswordFile}: ${(err as Error).message}`);
  }
}

/** The ClickHouse backend over HTTP, loaded when first asked for (as PostgreSQL's is). */
async function clickhouseOpener(config: Pick<StoreConfig, 'store' | 'storePasswordFile'>, given?: () => ClickHouseTransport): Promise<{ open: () => Promise<TraceStore>; transport: () => ClickHouseTransport }> {
  const [{ ClickHouseStore }, { httpTransport }] = await Promise.all([import('./clickhouse/clickhouse-store.js'), import('./clickhouse/transport.js')]);
  const password = storePassword(config);
  const transport = given ?? (() => httpTransport({ url: config.store, ...(password ? { password } : {}) }));
  return { open: () => ClickHouseStore.open({ transport: transport() }), transport };
}

/** A shared store's schema, for `ecs-trace store status|migrate`, whichever the backend. */
export async function storeSchema(config: Pick<StoreConfig, 'store' | 'storePasswordFile'>): Promise<{ status(): Promise<{ current: number; latest: number }>; migrate(): Promise<void> }> {
  const password = storePassword(config);
  if (storeKind(config) === 'postgres') {
    const Postgres = await postgresStore();
    const o = { url: config.store, ...(password ? { password } : {}) };
    return { status: () => Postgres.status(o), migrate: async () => { await (await Postgres.open(o)).close(); } };
  }
  if (storeKind(config) === 'clickhouse') {
    const { open, transport } = await clickhouseOpener(config);
    const { ClickHouseStore } = await import('./clickhouse/clickhouse-store.js');
    return {
      status: async () => { const t = transport(); try { return await ClickHouseStore.status(t); } finally { await t.close(); } },
      migrate: async () => { await (await open()).close(); },
    };
  }
  throw new Error(`${maskedStoreUrl(config.store)} is not a shared store: give a postgres:// or clickhouse:// URL`);
}

/** How a shared store is reached when not as its URL says (tests: ClickHouse's engine in process). */
export interface StoreTransports {
  clickhouse?: () => ClickHouseTransport;
}

export async function openStore(config: Pick<StoreConfig, 'store' | 'storePasswordFile' | 'dataDir' | 'writerThread' | 'maxDiskBytes'>, logOnce: LogOnce, spool?: SpoolDeps, transports: StoreTransports = {}): Promise<TraceStore> {
  if (storeKind(config) === 'none') return new DiscardStore();
  if (storeKind(config) === 'postgres' || storeKind(config) === 'clickhouse') {
    const password = storePassword(config);
    const open = storeKind(config) === 'postgres'
      ? await (async () => { const Postgres = await postgresStore(); return () => Postgres.open({ url: config.store, ...(password ? { password } : {}) }); })()
      : (await clickhouseOpener(config, transports.clickhouse)).open;
    // An outage at start is ridden out as one later is: opened in the background, spooled meanwhile.
    const remote = await ReconnectingStore.start(open, { what: maskedStoreUrl(config.store), logOnce });
    // The spool's bound is the disk bound; 0 (none) still keeps one at 1 GB.
    return spool ? new SpooledStore(remote, { dataDir: config.dataDir, maxBytes: config.maxDiskBytes > 0 ? config.maxDiskBytes : 1e9, logOnce, ...spool }) : remote;
  }
  if (config.writerThread && config.dataDir !== ':memory:') return ThreadedSqliteStore.open(config.dataDir, config.maxDiskBytes);
  return new SqliteStore({ dataDir: config.dataDir, maxDiskBytes: config.maxDiskBytes });
}

/**
 * What the query API reads through: for the embedded store, its own read-only connection on a
 * worker thread, each read bounded by `timeoutMs`, so queries never hold up intake. (An
 * in-memory store cannot be shared between threads; it is read where it is.)
 */
export function openReader(config: Pick<StoreConfig, 'store' | 'dataDir'>, store: TraceStore, timeoutMs: number): StoreReader {
  // PostgreSQL's reads are I/O already: the intake's thread only waits for them.
  if (config.dataDir !== ':memory:' && storeKind(config) === 'sqlite') return new ReaderThread(config.dataDir, timeoutMs);
  return {
    getTrace: (id) => store.getTrace(id), searchTraces: (q) => store.searchTraces(q),
    ...(store.getTraces ? { getTraces: (ids: TraceId[]) => store.getTraces!(ids) } : {}),
    queryStats: (q) => store.queryStats(q), serviceStats: (r) => store.serviceStats(r), stats: () => store.stats(), close: async () => {},
    readRollups: (kind, range, width) => store.readRollups(kind, range, width),
  };
}

/**
 * A lease one process of a shared store holds at a time (monitors evaluated once for a cluster);
 * undefined for a store of this process alone, where this process is the only one.
 */
export async function sharedLease(config: Pick<StoreConfig, 'store' | 'storePasswordFile'>, name: string, transports: StoreTransports = {}): Promise<{ holds(): Promise<boolean>; close(): Promise<void> } | undefined> {
  if (storeKind(config) === 'clickhouse') {
    const { ClickHouseLease } = await import('./clickhouse/lease.js');
    return new ClickHouseLease((await clickhouseOpener(config, transports.clickhouse)).transport(), name);
  }
  if (storeKind(config) !== 'postgres') return undefined;
  const password = storePassword(config);
  const { AdvisoryLease } = await import('./postgres/advisory-lease.js');
  return new AdvisoryLease({ url: config.store, ...(password ? { password } : {}) }, name);
}
