import type { Span as WireSpan } from '@ecs-trace/protocol';
import { hex16, randomId, traceIdHigh } from './ids.js';

/*
 * Spans and their context. Names and behaviour follow dd-trace's where they overlap (setTag,
 * addTags, finish, context().toTraceId()), so code moves between the two.
 */

export const USER_REJECT = -1;
export const AUTO_REJECT = 0;
export const AUTO_KEEP = 1;
export const USER_KEEP = 2;

/** What a trace carries across spans and processes. */
export class TraceState {
  /** Sampling priority, once decided for the whole trace. */
  priority: number | undefined;
  origin = '';
  /** `_dd.p.*` propagated tags (the decision maker, the upper trace id). */
  readonly tags: Record<string, string> = {};
  /** Spans started and not yet finished, and finished ones waiting for their chunk to close. */
  started = 0;
  readonly finished: SpanImpl[] = [];
  /** W3C tracestate members of other vendors, passed through. */
  tracestate = '';
}

export class SpanContext {
  /** Extracted from another process's headers. */
  remote = false;

  constructor(
    readonly traceId: bigint,
    readonly spanId: bigint,
    readonly parentId: bigint,
    readonly trace: TraceState,
  ) {}

  /** Decimal 64-bit trace id, as dd-trace logs it; `true` for 32 hex characters (128 bits). */
  toTraceId(get128bitId = false): string {
    if (!get128bitId) return this.traceId.toString(10);
    return (this.trace.tags['_dd.p.tid'] ?? '0000000000000000') + hex16(this.traceId);
  }

  /** Decimal span id; `true` for 16 hex characters. */
  toSpanId(hex = false): string {
    return hex ? hex16(this.spanId) : this.spanId.toString(10);
  }
}

export interface SpanOptions {
  service?: string;
  resource?: string;
  type?: string;
  tags?: Record<string, unknown>;
  /** Parent span or context; the active span when absent; `null` for a new trace. */
  childOf?: SpanImpl | SpanContext | null;
  /** Start time, ms since the epoch (fractions allowed). */
  startTime?: number;
}

/** Monotonic nanoseconds since the epoch: hrtime anchored once to the wall clock. */
const ANCHOR_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export const nowNs = (): bigint => ANCHOR_NS + process.hrtime.bigint();

export interface SpanSink {
  /** Called when a span finishes; the sink decides when its chunk is complete. */
  onFinish(span: SpanImpl): void;
}

export class SpanImpl {
  name: string;
  service: string;
  resource: string;
  type: string;
  readonly meta: Record<string, string> = {};
  readonly metrics: Record<string, number> = {};
  error = 0;
  readonly start: bigint;
  duration = -1;
  private readonly ctx: SpanContext;

  constructor(name: string, service: string, parent: SpanContext | null, o: SpanOptions, private readonly sink: SpanSink) {
    this.name = name;
    this.service = o.service ?? service;
    this.resource = o.resource ?? name;
    this.type = o.type ?? '';
    this.start = o.startTime !== undefined ? BigInt(Math.round(o.startTime * 1e6)) : nowNs();
    if (parent) {
      this.ctx = new SpanContext(parent.traceId, randomId(), parent.spanId, parent.trace);
    } else {
      const trace = new TraceState();
      trace.tags['_dd.p.tid'] = traceIdHigh();
      const id = randomId();
      this.ctx = new SpanContext(id, id, 0n, trace);
    }
    this.ctx.trace.started++;
    if (o.tags) this.addTags(o.tags);
  }

  context(): SpanContext {
    return this.ctx;
  }

  get finished(): boolean {
    return this.duration >= 0;
  }

  /** dd-trace's tag semantics: numbers go to metrics, errors are recorded, special keys set fields. */
  setTag(key: string, value: unknown): this {
    if (value === undefined || value === null) return this;
    switch (key) {
      case 'service.name': this.service = String(value); return this;
      case 'resource.name': this.resource = String(value); return this;
      case 'span.type': this.type = String(value); return this;
      case 'error':
        if (value instanceof Error) this.recordError(value);
        else this.error = value ? 1 : 0;
        return this;
      case 'manual.keep': if (value !== false) this.ctx.trace.priority = USER_KEEP; return this;
      case 'manual.drop': if (value !== false) this.ctx.trace.priority = USER_REJECT; return this;
      case 'sampling.priority': this.ctx.trace.priority = Number(value); return this;
    }
    if (typeof value === 'number') this.metrics[key] = value;
    else if (typeof value === 'boolean') this.meta[key] = String(value);
    else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) this.setTag(`${key}.${k}`, v);
    } else this.meta[key] = String(value);
    return this;
  }

  addTags(tags: Record<string, unknown>): this {
    for (const [k, v] of Object.entries(tags)) this.setTag(k, v);
    return this;
  }

  recordError(err: unknown): this {
    this.error = 1;
    if (err instanceof Error) {
      this.meta['error.type'] = err.name;
      this.meta['error.message'] = err.message;
      if (err.stack) this.meta['error.stack'] = err.stack;
    } else if (err !== undefined) {
      this.meta['error.message'] = String(err);
    }
    return this;
  }

  /** Ends the span; `finishTime` in ms since the epoch. A second call does nothing. */
  finish(finishTime?: number): void {
    if (this.finished) return;
    const end = finishTime !== undefined ? BigInt(Math.round(finishTime * 1e6)) : nowNs();
    this.duration = Math.max(0, Number(end - this.start));
    this.ctx.trace.started--;
    this.ctx.trace.finished.push(this);
    this.sink.onFinish(this);
  }

  toWire(): WireSpan {
    return {
      service: this.service, name: this.name, resource: this.resource, type: this.type,
      traceId: this.ctx.traceId, spanId: this.ctx.spanId, parentId: this.ctx.parentId,
      start: this.start, duration: this.duration, error: this.error,
      // The span is finished: its maps are handed over as they are, not copied.
      meta: this.meta, metrics: this.metrics,
    };
  }
}
