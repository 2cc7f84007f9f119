import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { openCause, StoreOpenError } from './sqlite/index.js';

/*
 * One agent per data directory. The lock is SQLite's own (an exclusive lock on `agent.lock`, a
 * POSIX record lock): it holds across containers that share the directory and is released by the
 * kernel when the holder dies, even by kill -9, so there is never a stale lock to clean up.
 */

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
}

/**
 * mkdir -p that fails with the real cause: Node's recursive mkdir reports ENOENT for a parent on a
 * read-only file system, so the missing levels are made one by one.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) mkdirSync(d);
}

export class DataDirLock {
  private constructor(private readonly db: Database.Database) {}

  /** Creates the directory if needed and takes its lock; throws DataDirLockedError naming the holder. */
  static acquire(dataDir: string): DataDirLock {
    let db: Database.Database;
    try {
      makeDirectory(dataDir);
      db = new Database(join(dataDir, 'agent.lock'));
    } catch (err) {
      throw new StoreOpenError(`cannot use ${dataDir} as the data directory: ${openCause(err)}`);
    }
    db.pragma('locking_mode = EXCLUSIVE');
    try {
      // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until close.
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; INSERT INTO holder VALUES (' + process.pid + '); COMMIT;');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      let holder = 'another process';
      try { holder = `the agent with pid ${readFileSync(join(dataDir, 'agent.pid'), 'utf8').trim()}`; } catch { /* no pid file */ }
      throw new DataDirLockedError(`the data directory ${dataDir} is in use by ${holder}: stop it, or give this agent another --data-dir`);
    }
    writeFileSync(join(dataDir, 'agent.pid'), `${process.pid}\n`);
    return new DataDirLock(db);
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
