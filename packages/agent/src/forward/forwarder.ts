import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import type { PackedBatch, ServiceStatsRow, StatsQuery, StatsReader, StatsRow, StatsWriter, TraceWriter, WriteBatch } from '../store/index.js';
import type { AgentPayloadInfo } from './agent-payload.js';
import { Batcher } from './batcher.js';
import type { EncoderThread } from './encoder-thread.js';
import { gzipped } from './gzip.js';
import { BatchingOutlet, type Outlet } from './outlet.js';
import { Sender } from './sender.js';
import { encodeStatsPayload } from './stats-payload.js';

/*
 * Forwarding to Datadog beside the local store: kept traces are batched into AgentPayloads
 * (flushed before 3.2 MB, or every 5 s), encoded on the encoding thread, and the agent's stats
 * into StatsPayloads, gzip-compressed and handed to the Sender. A batch is acknowledged once the
 * local store has it; forwarding never holds up intake, and its failures are counted, not thrown.
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
  encoder: EncoderThread;
}

export class Forwarder extends BatchingOutlet {
  protected readonly sender: Sender;
  protected readonly batcher: Batcher<PackedBatch>;

  constructor(private readonly o: ForwarderOptions) {
    super(o);
    this.sender = new Sender({
      baseUrl: o.baseUrl, headers: { 'DD-Api-Key': o.apiKey, 'User-Agent': `Datadog Trace Agent/${o.info.agentVersion}/ecs-trace` },
      destination: 'Datadog', label: 'datadog', rejectedHint: 'check DD_API_KEY and DD_SITE',
      // The trace-agent's rule: 408 and 5xx are worth another try.
      retryable: (status) => status === 408 || status >= 500,
      maxQueueBytes: o.maxQueueBytes, metrics: o.metrics, logOnce: o.logOnce,
    });
    // About 1 KB a span encoded: flush before the payload passes the intake's 3.2 MB.
    this.batcher = new Batcher(FLUSH_BYTES / 1024, FLUSH_MS, (batches) => this.send(batches));
  }

  private async send(batches: PackedBatch[]): Promise<void> {
    const languages = [...new Set(batches.map((b) => b.lang).filter(Boolean))];
    await this.encodeAndSend({ format: 'datadog', info: this.o.info, batches }, (body) => (
      { kind: 'traces', path: '/api/v0.2/traces', headers: { 'Content-Type': 'application/x-protobuf', 'X-Datadog-Reported-Languages': languages.join('|') }, body }
    ));
  }

  async stats(rows: StatsRow[]): Promise<void> {
    for (const clientComputed of [false, true]) {
      const part = rows.filter((r) => (r.source === 'client') === clientComputed);
      if (part.length === 0) continue;
      const body = await gzipped(encodeStatsPayload({ hostname: this.o.info.hostName, env: this.o.info.env, agentVersion: this.o.info.agentVersion }, part, clientComputed));
      this.sender.push({ kind: 'stats', path: '/api/v0.2/stats', headers: { 'Content-Type': 'application/msgpack', 'X-Datadog-Reported-Languages': '' }, body });
    }
  }

}

/** The local store first (durable, acknowledged), then each outlet (queued, never thrown). */
export class ForwardingWriter implements TraceWriter, StatsWriter, StatsReader {
  constructor(private readonly local: TraceWriter & StatsWriter & StatsReader, private readonly outlets: Outlet[], private readonly logOnce: LogOnce) {}

  async write(batch: WriteBatch): Promise<void> {
    await this.local.write(batch);
    // A batch of counts alone (every chunk sampled out) has nothing to forward.
    if (batch.chunks.length > 0) for (const o of this.outlets) o.traces(batch);
  }

  async writeStats(rows: StatsRow[]): Promise<void> {
    await this.local.writeStats(rows);
    for (const o of this.outlets) {
      await o.stats?.(rows).catch((err: unknown) => this.logOnce.error('forward-stats', { err }, 'stats could not be prepared for forwarding'));
    }
  }

  queryStats(q: StatsQuery): Promise<StatsRow[]> { return this.local.queryStats(q); }
  serviceStats(range: { start: bigint; end: bigint }): Promise<ServiceStatsRow[]> { return this.local.serviceStats(range); }
}
