import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import { packBatch, type PackedBatch, type StatsRow, type WriteBatch } from '../store/index.js';
import type { Batcher } from './batcher.js';
import type { EncodeJob } from './encode-job.js';
import type { EncoderThread } from './encoder-thread.js';
import type { OutgoingPayload, Sender } from './sender.js';

/** A destination beyond the local store (Datadog, an OTLP endpoint): handed kept data, never blocking intake. */
export interface Outlet {
  traces(batch: WriteBatch): void;
  stats?(rows: StatsRow[]): Promise<void>;
  /** Everything handed over so far sent (tests). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An outlet that batches kept traces (its Batcher), has them encoded on the encoding thread and
 * sends them through its Sender. A batch the encoder refuses or fails is counted dropped.
 */
export abstract class BatchingOutlet implements Outlet {
  protected abstract readonly sender: Sender;
  protected abstract readonly batcher: Batcher<PackedBatch>;

  constructor(private readonly deps: { encoder: EncoderThread; metrics: AgentMetrics; logOnce: LogOnce }) {}

  traces(batch: WriteBatch): void {
    this.batcher.add(packBatch(batch));
  }

  /** Encodes the job and queues the payload `outgoing` makes of its body. */
  protected async encodeAndSend(job: EncodeJob, outgoing: (body: Buffer) => OutgoingPayload): Promise<void> {
    const kind = job.format === 'datadog' ? 'traces' : 'otlp_traces';
    let body: Buffer;
    try {
      body = await this.deps.encoder.encode(job);
    } catch (err) {
      this.deps.metrics.forwardPayloads.inc({ kind, outcome: 'dropped' });
      this.deps.logOnce.warn(`forward-encode-${kind}`, { reason: (err as Error).message }, 'kept traces could not be prepared for forwarding; they are dropped');
      return;
    }
    this.sender.push(outgoing(body));
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
