import type { AgentMetrics, LogOnce } from '../runtime/index.js';

/*
 * Sends payloads out of the agent as the trace-agent's senders do: a bounded queue (past its
 * bytes the oldest payload goes, counted), a few at a time, network errors and retryable statuses
 * retried after a random wait in [0, min(10 s, 100 ms x 2^attempts)) with the attempt count
 * halved on each success, any other refusal dropped as rejected (counted and logged once a
 * minute). One Sender per destination: Datadog's intake, an OTLP endpoint.
 */

export interface OutgoingPayload {
  /** The `kind` label of ecs_trace_forward_payloads_total. */
  kind: 'traces' | 'stats' | 'otlp_traces' | 'telemetry';
  path: string;
  /** Headers of this payload (Content-Type, ...), beside the destination's. */
  headers: Record<string, string>;
  /** gzip-compressed body. */
  body: Buffer;
}

export interface SenderOptions {
  baseUrl: string;
  /** Sent with every payload (credentials, User-Agent). Never logged. */
  headers: Record<string, string>;
  /** What to call the destination in logs ("Datadog", "the OTLP endpoint"). */
  destination: string;
  /** Its `destination` label in /metrics. */
  label: 'datadog' | 'otlp';
  /** What to tell the user when the destination refuses a payload. */
  rejectedHint: string;
  /** Statuses worth sending again; network errors always are. */
  retryable: (status: number) => boolean;
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
    o.metrics.forwardEnabled.set(1, { destination: o.label });
    this.workers = Array.from({ length: o.connections ?? 2 }, () => this.work());
  }

  push(p: OutgoingPayload): void {
    this.queue.push(p);
    this.queuedBytes += p.body.length;
    while (this.queuedBytes > this.o.maxQueueBytes && this.queue.length > 1) {
      const dropped = this.queue.shift()!;
      this.queuedBytes -= dropped.body.length;
      this.o.metrics.forwardPayloads.inc({ kind: dropped.kind, outcome: 'dropped' });
      this.o.logOnce.warn(`forward-queue-full-${dropped.kind}`, { maxBytes: this.o.maxQueueBytes }, `the forwarding queue is full (${this.o.destination} unreachable or slow): the oldest payload was dropped`);
    }
    this.o.metrics.forwardQueueBytes.set(this.queuedBytes, { destination: this.o.label });
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
      this.o.metrics.forwardQueueBytes.set(this.queuedBytes, { destination: this.o.label });
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
        headers: { ...this.o.headers, ...p.headers, 'Content-Encoding': 'gzip' },
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
    if (status === undefined || this.o.retryable(status)) {
      // Retried: back in the queue after a wait, unless the queue is closing.
      this.o.metrics.forwardPayloads.inc({ kind: p.kind, outcome: 'retried' });
      this.o.logOnce.warn(`forward-retry-${p.kind}`, { status: status ?? 'network error', reason, path: p.path }, `forwarding to ${this.o.destination} failed; retrying`);
      const wait = (this.o.random ?? Math.random)() * Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.attempts);
      this.attempts = Math.min(this.attempts + 1, 20);
      await new Promise((r) => setTimeout(r, wait).unref());
      this.queue.unshift(p);
      this.queuedBytes += p.body.length;
      return;
    }
    this.o.metrics.forwardPayloads.inc({ kind: p.kind, outcome: 'rejected' });
    this.o.logOnce.error(`forward-rejected-${p.kind}`, { status, reason, path: p.path }, `${this.o.destination} refused a forwarded payload; it is dropped (${this.o.rejectedHint})`);
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
