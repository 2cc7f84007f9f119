import type { TraceStore } from './contract.js';
import type { StoreConfig } from './settings.js';
import { SqliteStore, ThreadedSqliteStore } from './sqlite/index.js';

/**
 * Opens the backend the configuration names. Today that is the embedded SQLite store, with its
 * commits on a worker thread when `writerThread` is set; a new backend is one more folder here
 * and one more branch below (ARCHITECTURE.md, "Add a store backend").
 */
export async function openStore(config: Pick<StoreConfig, 'dataDir' | 'writerThread'>): Promise<TraceStore> {
  if (config.writerThread && config.dataDir !== ':memory:') return ThreadedSqliteStore.open(config.dataDir);
  return new SqliteStore({ dataDir: config.dataDir });
}
