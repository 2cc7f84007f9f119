export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { ThreadedSqliteStore } from './threaded-sqlite-store.js';
