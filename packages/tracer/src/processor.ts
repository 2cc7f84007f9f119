import type { Span as WireSpan } from '@ecs-trace/protocol';
import type { SpanImpl } from './span.js';

/*
 * The span processor: collects finished spans into chunks and decides when a chunk goes to the
 * exporter (as OpenTelemetry's SpanProcessor sits before its Exporter). A chunk goes when its
 * trace has no span left open, or, for a long trace, every PARTIAL_FLUSH_SPANS finished spans.
 */

/** Finished spans of an unfinished trace that are sent without waiting for the rest. */
export const PARTIAL_FLUSH_SPANS = 1000;

/** Where complete chunks go: the exporter. */
export interface ChunkExporter {
  enqueue(chunk: WireSpan[]): void;
}

export class ChunkProcessor {
  constructor(private readonly partialFlushSpans = PARTIAL_FLUSH_SPANS) {}

  /** Called as each span finishes; hands a chunk to `exporter` once it is complete (and drops it without one). */
  onEnd(span: SpanImpl, exporter: ChunkExporter | undefined): void {
    const trace = span.context().trace;
    // A long trace (a batch job) is sent in parts, as dd-trace's partial flush does: memory stays
    // bounded however many spans finish before the root; the agent joins the parts by trace id.
    if (trace.started > 0 && trace.finished.length < this.partialFlushSpans) return;
    const finished = trace.finished.splice(0);
    if (!exporter || finished.length === 0) return;
    const wire = finished.map((s) => s.toWire());
    // The chunk carries the trace's decision and propagated tags on its first span, as dd-trace does.
    const first = wire[0]!;
    if (trace.priority !== undefined) first.metrics['_sampling_priority_v1'] = trace.priority;
    if (trace.origin) first.meta['_dd.origin'] = trace.origin;
    for (const [k, v] of Object.entries(trace.tags)) first.meta[k] = v;
    // Every span carries the upper trace id, which the agent needs to keep 128-bit ids whole.
    const tid = trace.tags['_dd.p.tid'];
    if (tid) for (const s of wire) s.meta['_dd.p.tid'] = tid;
    exporter.enqueue(wire);
  }
}
