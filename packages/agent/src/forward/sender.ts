import type { AgentMetrics, LogOnce } from '../runtime/index.js';

/*
 * Sends payloads to the Datadog intake as the trace-agent's senders do: a bounded queue (past its
 * bytes the oldest payload goes, counted), a few at a time, network errors, 408 and 5xx retried
 * after a random wait in [0, min(10 s, 100 ms x 2^attempts)) with the attempt count halved on
 * each success, any other refusal dropped as rejected (counted and logged once a minute).
 */

export interface OutgoingPayload {
  kind: 'traces' | 'stats';
  path: string;
  contentType: string;
  /** gzip-compressed body. */
  body: Buffer;
  languages: string[];
}

export interface SenderOptions {
  baseUrl: string;
  apiKey: string;
  userAgent: string;
  maxQueueBytes: number;
  metrics: AgentMetrics;
  logOnce: LogOnce;
  connections?: number;
  /** Test hook: the random factor of the backoff (0..1). */
  random?: () => number;
}

const MAX_BACKOFF_MS = 10_000;

export class Sender {
  private readonly queue: OutgoingPayload[] = [];
  private queuedBytes = 0;
  private attempts = 0;
  private inFlight = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly workers: Promise<void>[];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly o: SenderOptions) {
    this.workers = Array.from({ length: o.connections ?? 2 }, () => this.work());
  }

  push(p: OutgoingPayload): void {
    this.queue.push(p);
    this.queuedBytes += p.body.length;
    while (this.queuedBytes > this.o.maxQueueBytes && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queuedBytes -= dropped.body.length;
      this.o.metrics.forwardPayloads.inc({ kind: dropped.kind, outcome: 'dropped' });
      this.o.logOnce.warn('forward-queue-full', { maxBytes: this.o.maxQueueBytes }, 'the forwarding queue is full (Datadog unreachable or slow): the oldest payload was dropped');
    }
    this.o.metrics.forwardQueueBytes.set(this.queuedBytes);
    this.wake?.();
  }

  private async work(): Promise<void> {
    while (!this.closed || this.queue.length > 0) {
      const p = this.queue.shift();
      if (!p) {
        if (this.inFlight === 0) for (const done of this.idleWaiters.splice(0)) done();
        if (this.closed) return;
        await new Promise<void>((resolve) => { this.wake = resolve; });
        continue;
      }
      this.queuedBytes -= p.body.length;
      this.o.metrics.forwardQueueBytes.set(this.queuedBytes);
      this.inFlight++;
      try {
        await this.send(p);
      } finally {
        this.inFlight--;
      }
    }
  }

  private async send(p: OutgoingPayload): Promise<void> {
    let status: number | undefined;
    let reason = '';
    try {
      const res = await fetch(this.o.baseUrl + p.path, {
        method: 'POST',
        body: p.body,
        headers: {
          'Content-Type': p.contentType, 'Content-Encoding': 'gzip', 'DD-Api-Key': this.o.apiKey,
          'X-Datadog-Reported-Languages': p.languages.join('|'), 'User-Agent': this.o.userAgent,
        },
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      reason = status >= 300 ? (await res.text()).slice(0, 200) : '';
      if (status < 300) await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      reason = (err as Error).message;
    }
    if (status !== undefined && status < 300) {
      this.attempts = Math.floor(this.attempts / 2);
      this.o.metrics.forwardPayloads.inc({ kind: p.kind, outcome: 'sent' });
      return;
    }
    if (status === undefined || status === 408 || status >= 500) {
      // Retried: back in the queue after a wait, unless the queue is closing.
      this.o.metrics.forwardPayloads.inc({ kind: p.kind, outcome: 'retried' });
      this.o.logOnce.warn('forward-retry', { status: status ?? 'network error', reason, path: p.path }, 'forwarding to Datadog failed; retrying');
      const wait = (this.o.random ?? Math.random)() * Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.attempts);
      this.attempts = Math.min(this.attempts + 1, 20);
      await new Promise((r) => setTimeout(r, wait).unref());
      this.queue.unshift(p);
      this.queuedBytes += p.body.length;
      return;
    }
    this.o.metrics.forwardPayloads.inc({ kind: p.kind, outcome: 'rejected' });
    this.o.logOnce.error('forward-rejected', { status, reason, path: p.path }, 'Datadog refused a forwarded payload; it is dropped (check DD_API_KEY and DD_SITE)');
  }

  /** Resolves when nothing is queued or being sent (tests, shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    this.wake?.();
    await Promise.race([Promise.all(this.workers), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
