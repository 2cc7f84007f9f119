import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckpointerData } from './checkpointer-worker.js';

/*
 * Copies the WAL back into the database on a thread of its own. A checkpoint run by the writer
 * (SQLite's autocheckpoint) stops its commits while it copies ~80 MB and syncs the file; here
 * the writer only appends, and the copy uses the second core (bench/README.md: 1.14x intake).
 * The writer keeps an autocheckpoint at twice the length, should this thread fall behind or stop.
 */

// The compiled worker, also when this module runs from its TypeScript source (tests).
const WORKER = fileURLToPath(new URL('../../../dist/store/sqlite/checkpointer-worker.js', import.meta.url));

export class Checkpointer {
  private readonly ctl: Int32Array;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker, control: SharedArrayBuffer, onStop: () => void) {
    this.ctl = new Int32Array(control);
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    // An error (the worker file gone, a database it cannot open) leaves checkpoints to the writer.
    worker.once('error', onStop);
    worker.once('exit', (code) => { if (code !== 0 || Atomics.load(this.ctl, 0) === 0) onStop(); });
  }

  /**
   * A checkpointing thread for the WAL database at `path`, or undefined when the compiled worker
   * is not there (tests run from source before a build); `onStop` runs if it stops on its own.
   */
  static start(path: string, frames: number, onStop: () => void, pollMs = 50): Checkpointer | undefined {
    if (!existsSync(WORKER)) return undefined;
    const control = new SharedArrayBuffer(8);
    const worker = new Worker(WORKER, {
      workerData: { path, frames, pollMs, control } satisfies CheckpointerData,
      // It allocates next to nothing: a small heap keeps its share of the agent's RSS small.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    });
    // A store left open does not keep the process alive: a checkpoint cut short is safe.
    worker.unref();
    return new Checkpointer(worker, control, onStop);
  }

  /** Checkpoint passes made so far. */
  get passes(): number {
    return Atomics.load(this.ctl, 1);
  }

  /** Stops the thread after its current pass and closes its connection. */
  async stop(): Promise<void> {
    // Held by the event loop again until it is gone, or nothing would wait for its exit.
    this.worker.ref();
    Atomics.store(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    await this.exited;
  }
}
