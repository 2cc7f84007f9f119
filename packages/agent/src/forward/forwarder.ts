import { gzip } from 'node:zlib';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import type { StatsQuery, StatsReader, StatsRow, StatsWriter, TraceWriter, WriteBatch } from '../store/index.js';
import type { ServiceStatsRow } from '../store/index.js';
import { encodeAgentPayload, type AgentPayloadInfo } from './agent-payload.js';
import { Sender } from './sender.js';
import { encodeStatsPayload } from './stats-payload.js';

/*
 * Forwarding to Datadog beside the local store: kept traces are batched into AgentPayloads
 * (flushed before 3.2 MB, or every 5 s) and the agent's stats into StatsPayloads, gzip-compressed
 * and handed to the Sender. A batch is acknowledged once the local store has it; forwarding
 * never holds up intake, and its failures are counted, not thrown.
 */

const FLUSH_BYTES = 3_200_000;
const FLUSH_MS = 5000;

export interface ForwarderOptions {
  baseUrl: string;
  apiKey: string;
  maxQueueBytes: number;
  info: AgentPayloadInfo;
  metrics: AgentMetrics;
  logOnce: LogOnce;
}

const gzipped = (b: Buffer): Promise<Buffer> => new Promise((resolve, reject) => gzip(b, { level: 1 }, (err, out) => (err ? reject(err) : resolve(out))));

export class Forwarder {
  private readonly sender: Sender;
  private pending: WriteBatch[] = [];
  private pendingSpans = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: ForwarderOptions) {
    this.sender = new Sender({
      baseUrl: o.baseUrl, apiKey: o.apiKey, userAgent: `Datadog Trace Agent/${o.info.agentVersion}/ecs-trace`, maxQueueBytes: o.maxQueueBytes,
      metrics: o.metrics, logOnce: o.logOnce,
    });
    this.timer = setInterval(() => { void this.flush(); }, FLUSH_MS);
    this.timer.unref();
  }

  traces(batch: WriteBatch): void {
    this.pending.push(batch);
    for (const c of batch.chunks) this.pendingSpans += c.length;
    // About 1 KB a span encoded: flush before the payload passes the intake's 3.2 MB.
    if (this.pendingSpans * 1024 >= FLUSH_BYTES) void this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    this.pendingSpans = 0;
    const languages = [...new Set(batches.map((b) => b.lang).filter(Boolean))];
    const body = await gzipped(encodeAgentPayload(this.o.info, batches));
    this.sender.push({ kind: 'traces', path: '/api/v0.2/traces', contentType: 'application/x-protobuf', body, languages });
  }

  async stats(rows: StatsRow[]): Promise<void> {
    for (const clientComputed of [false, true]) {
      const part = rows.filter((r) => (r.source === 'client') === clientComputed);
      if (part.length === 0) continue;
      const body = await gzipped(encodeStatsPayload({ hostname: this.o.info.hostName, env: this.o.info.env, agentVersion: this.o.info.agentVersion }, part, clientComputed));
      this.sender.push({ kind: 'stats', path: '/api/v0.2/stats', contentType: 'application/msgpack', body, languages: [] });
    }
  }

  /** Everything handed over so far sent (tests). */
  async drained(): Promise<void> {
    await this.flush();
    await this.sender.idle();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.sender.close();
  }
}

/** The local store first (durable, acknowledged), then the forwarder (queued, never thrown). */
export class ForwardingWriter implements TraceWriter, StatsWriter, StatsReader {
  constructor(private readonly local: TraceWriter & StatsWriter & StatsReader, private readonly forwarder: Forwarder, private readonly logOnce: LogOnce) {}

  async write(batch: WriteBatch): Promise<void> {
    await this.local.write(batch);
    this.forwarder.traces(batch);
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    await this.local.writeStats(rows);
    await this.forwarder.stats(rows).catch((err: unknown) => this.logOnce.error('forward-stats', { err }, 'stats could not be prepared for Datadog'));
  }

  queryStats(q: StatsQuery): Promise<StatsRow[]> { return this.local.queryStats(q); }
  serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> { return this.local.serviceStats(range); }
}
