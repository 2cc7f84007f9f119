export { SqliteStore, openCause, StoreOpenError, type EncodedStatsRow, type SqliteStoreOptions } from './sqlite-store.js';
export { ThreadedSqliteStore } from './threaded-sqlite-store.js';
