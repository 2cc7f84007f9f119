import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/*
 * The checkpointing thread (checkpointer.ts): it watches the WAL's length in the wal-index and,
 * once it reaches `frames`, copies the log back into the database on a connection of its own,
 * while the writer goes on committing.
 */

export interface CheckpointerData {
  path: string;
  frames: number;
  pollMs: number;
  /** [0]: 1 asks the thread to stop; [1]: checkpoint passes made. */
  control: SharedArrayBuffer;
}

const { path, frames, pollMs, control } = workerData as CheckpointerData;
const ctl = new Int32Array(control);
const db = new Database(path, { fileMustExist: true });
// The writer holds no lock a checkpoint needs, but a reader might, briefly.
db.pragma('busy_timeout = 1000');
const shm = openSync(`${path}-shm`, 'r');
const header = Buffer.alloc(20);
const littleEndian = endianness() === 'LE';

/**
 * The WAL's length in frames (`mxFrame`, at byte 16 of the wal-index header, in the machine's
 * byte order: sqlite.org/walformat.html), read without taking any lock: a torn read only moves a
 * checkpoint by one poll.
 */
function logFrames(): number {
  readSync(shm, header, 0, 20, 0);
  return littleEndian ? header.readUInt32LE(16) : header.readUInt32BE(16);
}

interface CheckpointResult { busy: number; log: number; checkpointed: number }

try {
  while (Atomics.load(ctl, 0) === 0) {
    Atomics.wait(ctl, 0, 0, pollMs);
    if (Atomics.load(ctl, 0) !== 0 || logFrames() < frames) continue;
    // The writer starts the log over at its next commit only if every frame is back in the
    // database: frames committed during a pass are copied by the next, shorter one.
    try {
      for (let pass = 0; pass < 8; pass++) {
        const r = (db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0]!;
        Atomics.add(ctl, 1, 1);
        if (r.busy !== 0 || logFrames() <= r.checkpointed) break;
      }
    } catch {
      // A full disk, say: the log stays as it is (the writer's backstop sees to its length), and
      // the next try comes a second later.
      Atomics.wait(ctl, 0, 0, 1000);
    }
  }
} finally {
  closeSync(shm);
  db.close();
  parentPort?.close();
}
