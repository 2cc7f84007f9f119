import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import type { PackedBatch } from '../store/index.js';
import { Batcher } from './batcher.js';
import type { EncoderThread } from './encoder-thread.js';
import { BatchingOutlet } from './outlet.js';
import { Sender } from './sender.js';

/*
 * OTLP export: kept traces, mapped as the Collector's datadog receiver maps Datadog spans, posted
 * as OTLP/HTTP protobuf (gzip) to any OTLP backend. Batched as the OpenTelemetry batch span
 * processor does (every 5 s, or at 8192 spans), retried as OTLP clients retry (429, 502, 503,
 * 504), queued within ECS_TRACE_FORWARD_QUEUE like the Datadog forwarder.
 */

const FLUSH_SPANS = 8192;
const FLUSH_MS = 5000;
const RETRYABLE = new Set([429, 502, 503, 504]);

export interface OtlpExporterOptions {
  url: URL;
  headers: Record<string, string>;
  userAgent: string;
  maxQueueBytes: number;
  metrics: AgentMetrics;
  logOnce: LogOnce;
  encoder: EncoderThread;
  /** Tests: a shorter batching interval. */
  flushMs?: number;
}

export class OtlpExporter extends BatchingOutlet {
  protected readonly sender: Sender;
  protected readonly batcher: Batcher<PackedBatch>;
  private readonly path: string;

  constructor(o: OtlpExporterOptions) {
    super(o);
    this.path = o.url.pathname + o.url.search;
    this.sender = new Sender({
      baseUrl: o.url.origin, headers: { 'User-Agent': o.userAgent, ...o.headers },
      destination: 'the OTLP endpoint', label: 'otlp', rejectedHint: 'check ECS_TRACE_OTLP_EXPORT_ENDPOINT and ECS_TRACE_OTLP_EXPORT_HEADERS',
      retryable: (status) => RETRYABLE.has(status),
      maxQueueBytes: o.maxQueueBytes, metrics: o.metrics, logOnce: o.logOnce,
    });
    this.batcher = new Batcher<PackedBatch>(FLUSH_SPANS, o.flushMs ?? FLUSH_MS, (batches) => this.encodeAndSend(
      { format: 'otlp', batches }, (body) => ({ kind: 'otlp_traces', path: this.path, headers: { 'Content-Type': 'application/x-protobuf' }, body }),
    ));
  }
}
