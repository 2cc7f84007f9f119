import type { StoreReader, TraceStore } from './contract.js';
import { ReaderThread } from './reader-thread.js';
import { readFileSync } from 'node:fs';
import { PostgresStore } from './postgres/postgres-store.js';
import { maskedStoreUrl, storeKind, type StoreConfig } from './settings.js';
import { SqliteStore, ThreadedSqliteStore } from './sqlite/index.js';

/**
 * Opens the backend the configuration names. Today that is the embedded SQLite store, with its
 * commits on a worker thread when `writerThread` is set; a new backend is one more folder here
 * and one more branch below (ARCHITECTURE.md, "Add a store backend").
 */
export async function openStore(config: Pick<StoreConfig, 'store' | 'storePasswordFile' | 'dataDir' | 'writerThread' | 'maxDiskBytes'>): Promise<TraceStore> {
  if (storeKind(config) === 'postgres') {
    try {
      const password = config.storePasswordFile ? readFileSync(config.storePasswordFile, 'utf8').trim() : undefined;
      return await PostgresStore.open({ url: config.store, ...(password ? { password } : {}) });
    } catch (err) {
      throw new Error(`cannot open the store at ${maskedStoreUrl(config.store)}: ${(err as Error).message}`);
    }
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
    queryStats: (q) => store.queryStats(q), serviceStats: (r) => store.serviceStats(r), stats: () => store.stats(), close: async () => {},
  };
}
