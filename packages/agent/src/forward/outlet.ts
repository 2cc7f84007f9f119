import type { StatsRow, WriteBatch } from '../store/index.js';
import type { Batcher } from './batcher.js';
import type { Sender } from './sender.js';

/** A destination beyond the local store (Datadog, an OTLP endpoint): handed kept data, never blocking intake. */
export interface Outlet {
  traces(batch: WriteBatch): void;
  stats?(rows: StatsRow[]): Promise<void>;
  /** Everything handed over so far sent (tests). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** An outlet that batches kept traces (its Batcher) and sends them through its Sender. */
export abstract class BatchingOutlet implements Outlet {
  protected abstract readonly sender: Sender;
  protected abstract readonly batcher: Batcher;

  traces(batch: WriteBatch): void {
    this.batcher.add(batch);
  }

  async drained(): Promise<void> {
    await this.batcher.flush();
    await this.sender.idle();
  }

  async close(): Promise<void> {
    await this.batcher.close();
    await this.sender.close();
  }
}
