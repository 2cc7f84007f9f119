import { setImmediate as nextTurn } from 'node:timers/promises';
import { otlpSlices, otlpToDatadog, type OtlpTraceRequest } from '@ecs-trace/protocol';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import type { TraceSink } from './receiver.js';

/**
 * Mapped bytes of one slice of a request (protocol's otlp/limits.ts): a slice is mapped, handed
 * to the pipeline and stored before the next is, so a large request holds one slice's spans at a
 * time and lets other requests in between.
 */
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * A decoded OTLP request into the pipeline, in slices, one payload per resource of a slice, for
 * both OTLP transports. Resolves undefined when all of it is stored, or why the store refused it
 * (the caller answers 503 / UNAVAILABLE, which the SDKs retry; slices stored before then are
 * stored again by the retry, as a Collector's partial success would be).
 */
export async function deliverOtlp(request: OtlpTraceRequest, o: { traces: TraceSink; metrics: AgentMetrics; logOnce: LogOnce }, endpoint: string): Promise<string | undefined> {
  const receivedAt = BigInt(Date.now()) * 1_000_000n;
  let first = true;
  for (const slice of otlpSlices(request, SLICE_BYTES)) {
    // Other requests' I/O between slices: a store that commits at once resolves without yielding.
    if (!first) await nextTurn();
    first = false;
    for (const p of otlpToDatadog(slice)) {
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
  }
  return undefined;
}
