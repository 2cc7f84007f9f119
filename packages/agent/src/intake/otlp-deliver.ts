import { otlpToDatadog, type OtlpTraceRequest } from '@ecs-trace/protocol';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import type { TraceSink } from './receiver.js';

/**
 * A decoded OTLP request into the pipeline, one payload per resource, for both OTLP transports.
 * Resolves undefined when all of it is stored, or why the store refused it (the caller answers
 * 503 / UNAVAILABLE, which the SDKs retry).
 */
export async function deliverOtlp(request: OtlpTraceRequest, o: { traces: TraceSink; metrics: AgentMetrics; logOnce: LogOnce }, endpoint: string): Promise<string | undefined> {
  const receivedAt = BigInt(Date.now()) * 1_000_000n;
  for (const p of otlpToDatadog(request)) {
    if (p.chunks.length === 0) continue;
    try {
      await o.traces.process({
        chunks: p.chunks, lang: p.lang, langVersion: '', tracerVersion: p.tracerVersion, containerId: p.containerId,
        clientComputedStats: p.clientComputedStats, clientComputedTopLevel: false, clientDroppedP0Traces: 0, receivedAt,
      });
    } catch (err) {
      o.logOnce.error('store-write', { err }, 'store write failed');
      return `store unavailable: ${(err as Error).message}`;
    }
    o.metrics.payloads.inc({ endpoint, lang: p.lang, tracer_version: p.tracerVersion });
  }
  return undefined;
}
