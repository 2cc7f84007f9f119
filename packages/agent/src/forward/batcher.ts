/*
 * Kept batches gathered for one destination until enough spans or enough time has passed, then
 * handed to `flush` together: fewer, larger requests, as the trace-agent's writer and the
 * OpenTelemetry batch span processor send.
 */

export class Batcher<T extends { spans: number }> {
  private pending: T[] = [];
  private pendingSpans = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly maxSpans: number, intervalMs: number, private readonly onFlush: (batches: T[]) => Promise<void>) {
    this.timer = setInterval(() => { void this.flush(); }, intervalMs);
    this.timer.unref();
  }

  add(batch: T): void {
    this.pending.push(batch);
    this.pendingSpans += batch.spans;
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
