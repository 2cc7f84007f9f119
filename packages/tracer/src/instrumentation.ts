import type { Carrier } from './propagation.js';
import type { SpanContext, SpanImpl, SpanOptions } from './span.js';

/*
 * What an instrumentation may ask of the tracer, and what the tracer asks of an instrumentation.
 * Instrumentations depend on this narrow interface, never on the Tracer class, and the tracer is
 * handed its instrumentations (index.ts), so neither imports the other.
 */

export interface InstrumentationTracer {
  startSpan(name: string, options?: SpanOptions): SpanImpl;
  extract(format: 'http_headers', carrier: Carrier): SpanContext | null;
}

export interface Instrumentation {
  readonly name: string;
  /** Starts tracing for `tracer`; a later call hands the instrumentation to another tracer. */
  enable(tracer: InstrumentationTracer): void;
  /** Stops tracing and restores what was patched; with `tracer`, only if that tracer has it. */
  disable(tracer?: InstrumentationTracer): void;
}
