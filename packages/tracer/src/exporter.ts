import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type RequestOptions } from 'node:http';
import { encodeV04, encodeV05, type Span as WireSpan } from '@ecs-trace/protocol';

/*
 * Sends finished chunks to the agent: v0.4 msgpack (v0.5 optional), every second and whenever a
 * thousand spans wait, one request at a time over a keep-alive connection. Memory is bounded: past
 * `maxBufferedSpans` the oldest chunks are dropped and counted. Nothing here ever throws into the
 * app; an agent that is down, slow or refusing (429) costs the dropped spans and nothing else.
 * Requests go through the original http.request, so the tracer never traces itself.
 */

export interface ExporterOptions {
  flushIntervalMs: number;
  maxBufferedSpans: number;
  flushAtSpans: number;
  protocol: 'v0.4' | 'v0.5';
  timeoutMs: number;
  tracerVersion: string;
  onRates: (rates: Record<string, number>) => void;
  onError?: (err: Error) => void;
}

export interface ExporterStats {
  sentSpans: number;
  sentPayloads: number;
  droppedSpans: number;
  /** Payloads the agent refused or that failed to send. */
  failedPayloads: number;
}

const CONTAINER_ID = (() => {
  try {
    return /(?:^|\/)[^/\n]*?([0-9a-f]{64})(?:\.scope)?$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
})();

/** The original http.request, captured before instrumentation patches it. */
const originalRequest = httpRequest;

export class Exporter {
  private buffer: WireSpan[][] = [];
  private buffered = 0;
  private url: URL | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly timer: NodeJS.Timeout;
  readonly stats: ExporterStats = { sentSpans: 0, sentPayloads: 0, droppedSpans: 0, failedPayloads: 0 };

  constructor(private readonly o: ExporterOptions) {
    this.timer = setInterval(() => { void this.flush(); }, o.flushIntervalMs);
    this.timer.unref();
  }

  /** Where to send; undefined while discovery is still looking (chunks wait, bounded). */
  setUrl(url: URL | undefined): void {
    this.url = url;
  }

  getUrl(): URL | undefined {
    return this.url;
  }

  enqueue(chunk: WireSpan[]): void {
    this.buffer.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered > this.o.maxBufferedSpans && this.buffer.length > 1) {
      const dropped = this.buffer.shift()!;
      this.buffered -= dropped.length;
      this.stats.droppedSpans += dropped.length;
    }
    if (this.buffered >= this.o.flushAtSpans) void this.flush();
  }

  /** Sends what is buffered; resolves when done (never rejects). */
  flush(): Promise<void> {
    return this.flushRound(0);
  }

  private flushRound(round: number): Promise<void> {
    // After the request in flight, flush again: that also waits for any send started meanwhile.
    // A few rounds at most, so that flush() settles even while traffic keeps coming.
    if (this.inFlight) return round >= 3 ? this.inFlight : this.inFlight.then(() => this.flushRound(round + 1));
    if (this.buffer.length === 0 || this.url === undefined) return Promise.resolve();
    const chunks = this.buffer;
    const spans = this.buffered;
    this.buffer = [];
    this.buffered = 0;
    this.inFlight = this.send(this.url, chunks, spans).finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private send(url: URL, chunks: WireSpan[][], spans: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let body: Buffer;
      try {
        body = this.o.protocol === 'v0.5' ? encodeV05(chunks) : encodeV04(chunks);
      } catch (err) {
        this.fail(spans, err as Error);
        resolve();
        return;
      }
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/msgpack',
        'Content-Length': body.length,
        'X-Datadog-Trace-Count': chunks.length,
        'Datadog-Meta-Lang': 'nodejs',
        'Datadog-Meta-Lang-Version': process.version,
        'Datadog-Meta-Lang-Interpreter': 'v8',
        'Datadog-Meta-Tracer-Version': this.o.tracerVersion,
        'Datadog-Send-Real-Http-Status': 'true',
      };
      if (CONTAINER_ID) headers['Datadog-Container-ID'] = CONTAINER_ID;
      const opts: RequestOptions = url.protocol === 'unix:'
        ? { socketPath: url.pathname, path: `/${this.o.protocol}/traces`, method: 'PUT', headers }
        : { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 8126, path: `/${this.o.protocol}/traces`, method: 'PUT', headers, agent: this.agent };
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        if (err) this.fail(spans, err);
        resolve();
      };
      try {
        const req = originalRequest(opts, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('error', (e) => finish(e));
          res.on('end', () => {
            if (res.statusCode !== 200) return finish(new Error(`agent answered ${res.statusCode}`));
            this.stats.sentSpans += spans;
            this.stats.sentPayloads++;
            try {
              const rates = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { rate_by_service?: Record<string, number> }).rate_by_service;
              if (rates && typeof rates === 'object') this.o.onRates(rates);
            } catch {
              // An answer without rates leaves the sampler as it is.
            }
            finish();
          });
        });
        req.setTimeout(this.o.timeoutMs, () => req.destroy(new Error(`no answer from the agent within ${this.o.timeoutMs} ms`)));
        req.on('error', (e) => finish(e));
        req.end(body);
      } catch (err) {
        finish(err as Error);
      }
    });
  }

  private fail(spans: number, err: Error): void {
    this.stats.droppedSpans += spans;
    this.stats.failedPayloads++;
    this.o.onError?.(err);
  }

  get bufferedSpans(): number {
    return this.buffered;
  }

  close(): void {
    clearInterval(this.timer);
    this.agent.destroy();
  }
}
