import type { WriteBatch } from '../store/index.js';

/*
 * Kept batches gathered for one destination until enough spans or enough time has passed, then
 * handed to `flush` together: fewer, larger requests, as the trace-agent's writer and the
 * OpenTelemetry batch span processor send.
 */

export class Batcher {
  private pending: WriteBatch[] = [];
  private pendingSpans = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly maxSpans: number, intervalMs: number, private readonly onFlush: (batches: WriteBatch[]) => Promise<void>) {
    this.timer = setInterval(() => { void this.flush(); }, intervalMs);
    this.timer.unref();
  }

  add(batch: WriteBatch): void {
    this.pending.push(batch);
    for (const c of batch.chunks) this.pendingSpans += c.length;
    if (this.pendingSpans >= this.maxSpans) void this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    this.pendingSpans = 0;
    await this.onFlush(batches);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
