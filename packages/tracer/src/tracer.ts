import { randomUUID } from 'node:crypto';
import { resolveAgentHost } from '@ecs-trace/discovery';
import { agentUrl, resolveConfig, type ResolvedConfig, type TracerOptions } from './config.js';
import { Exporter, type ExporterStats } from './exporter.js';
import type { Instrumentation, InstrumentationTracer } from './instrumentation.js';
import { ChunkProcessor } from './processor.js';
import { extract, inject, type Carrier } from './propagation.js';
import { PrioritySampler } from './sampler.js';
import { scope, storage, type Scope } from './scope.js';
import { SpanContext, SpanImpl, type SpanOptions, type SpanSink } from './span.js';

export const TRACER_VERSION = '0.2.0';
const RUNTIME_ID = randomUUID();

export interface TracerDeps {
  /** Enabled by init() unless `plugins: false` (index.ts hands the process's tracer http and fetch). */
  instrumentations?: Instrumentation[];
}

/**
 * The tracer. One per process (`tracer` in index.ts), configured with init(); until then, and
 * when disabled, spans are created but never sent, so instrumented code runs the same either way.
 */
export class Tracer implements SpanSink, InstrumentationTracer {
  private config: ResolvedConfig = resolveConfig({ enabled: false }, {});
  private readonly processor = new ChunkProcessor();
  private readonly instrumentations: Instrumentation[];
  private exporter: Exporter | undefined;
  private sampler = new PrioritySampler(undefined);
  private discovery: Promise<void> | undefined;
  private errors = 0;
  private exitHook: (() => void) | undefined;

  constructor(deps: TracerDeps = {}) {
    this.instrumentations = deps.instrumentations ?? [];
  }

  init(options: TracerOptions = {}): this {
    this.exporter?.close();
    this.config = resolveConfig(options);
    this.sampler = new PrioritySampler(this.config.sampleRate);
    if (!this.config.enabled) {
      this.exporter = undefined;
      return this;
    }
    this.exporter = new Exporter({
      flushIntervalMs: this.config.flushInterval,
      maxBufferedSpans: this.config.maxBufferedSpans,
      flushAtSpans: 1000,
      protocol: this.config.protocol,
      timeoutMs: 2000,
      tracerVersion: TRACER_VERSION,
      onRates: (r) => this.sampler.updateRates(r),
      onError: () => { this.errors++; },
    });
    this.applyAgent();
    // When the app has nothing left to do, send what is buffered before the process exits.
    if (!this.exitHook) {
      this.exitHook = () => { if (this.exporter && this.exporter.bufferedSpans > 0) void this.flush(); };
      process.on('beforeExit', this.exitHook);
    }
    // Synchronously: a server created right after init() must already be traced.
    for (const i of this.instrumentations) {
      if (this.config.plugins) i.enable(this);
      else i.disable(this);
    }
    return this;
  }

  /** Changes where traces go, at run time: `{ hostname }` as the seed's `tracer.configure(hostname=...)`. */
  configure(o: { hostname?: string; port?: number; url?: string }): this {
    if (o.url !== undefined) this.config = { ...this.config, agent: { kind: 'url', url: new URL(o.url) } };
    else if (o.hostname !== undefined || o.port !== undefined) {
      const port = o.port ?? this.config.port;
      const host = o.hostname ?? (this.config.agent.kind === 'url' ? this.config.agent.url.hostname.replace(/^\[|\]$/g, '') : 'auto');
      this.config = { ...this.config, port, agent: host === 'auto' ? { kind: 'auto' } : { kind: 'url', url: agentUrl(host, port) } };
    }
    this.applyAgent();
    return this;
  }

  private applyAgent(): void {
    const exporter = this.exporter;
    if (!exporter) return;
    if (this.config.agent.kind === 'url') {
      exporter.setUrl(this.config.agent.url);
      return;
    }
    // Discovery runs in the background: the app starts at once, spans wait (bounded) meanwhile.
    exporter.setUrl(undefined);
    const port = this.config.port;
    const run = resolveAgentHost({ port }).then((r) => {
      if (this.exporter === exporter && this.discovery === run) exporter.setUrl(new URL(r.url));
    }, () => {
      if (this.exporter === exporter && this.discovery === run) exporter.setUrl(agentUrl('127.0.0.1', port));
    });
    this.discovery = run;
  }

  /** Resolves once agent discovery (hostname 'auto') has settled. */
  async ready(): Promise<void> {
    await this.discovery;
  }

  /** Where traces are sent now (undefined while discovery runs, or when disabled). */
  agentUrl(): string | undefined {
    return this.exporter?.getUrl()?.href;
  }

  scope(): Scope {
    return scope;
  }

  startSpan(name: string, options: SpanOptions = {}): SpanImpl {
    let parent: SpanContext | null;
    if (options.childOf === null) parent = null;
    else if (options.childOf instanceof SpanContext) parent = options.childOf;
    else if (options.childOf instanceof SpanImpl) parent = options.childOf.context();
    else parent = scope.active()?.context() ?? null;
    const span = new SpanImpl(name, this.config.service, parent, options, this);
    const c = this.config;
    for (const [k, v] of Object.entries(c.tags)) if (span.meta[k] === undefined) span.meta[k] = v;
    if (c.env) span.meta['env'] ??= c.env;
    if (c.version && span.service === c.service) span.meta['version'] ??= c.version;
    if (parent === null || parent.remote) {
      span.meta['language'] = 'javascript';
      span.meta['runtime-id'] = RUNTIME_ID;
      span.metrics['process_id'] = process.pid;
      this.sampler.sample(span, c.env);
    }
    return span;
  }

  /** Runs `fn` in a new active span, finished when `fn` returns or its promise settles; errors are recorded. */
  trace<T>(name: string, fn: (span: SpanImpl) => T): T;
  trace<T>(name: string, options: SpanOptions, fn: (span: SpanImpl) => T): T;
  trace<T>(name: string, a: SpanOptions | ((span: SpanImpl) => T), b?: (span: SpanImpl) => T): T {
    const options = typeof a === 'function' ? {} : a;
    const fn = (typeof a === 'function' ? a : b)!;
    const span = this.startSpan(name, options);
    return storage.run(span, () => {
      let result: T;
      try {
        result = fn(span);
      } catch (err) {
        span.recordError(err);
        span.finish();
        throw err;
      }
      if (result instanceof Promise) {
        return result.then((v) => { span.finish(); return v; }, (err: unknown) => { span.recordError(err); span.finish(); throw err; }) as T;
      }
      span.finish();
      return result;
    });
  }

  /** `fn` wrapped so that each call runs in a new span. */
  wrap<A extends unknown[], R>(name: string, options: SpanOptions, fn: (...args: A) => R): (...args: A) => R;
  wrap<A extends unknown[], R>(name: string, fn: (...args: A) => R): (...args: A) => R;
  wrap<A extends unknown[], R>(name: string, a: SpanOptions | ((...args: A) => R), b?: (...args: A) => R): (...args: A) => R {
    const options = typeof a === 'function' ? {} : a;
    const fn = (typeof a === 'function' ? a : b)!;
    const run = <T>(f: () => T): T => this.trace(name, options, f);
    return function (this: unknown, ...args: A): R {
      return run(() => fn.apply(this, args));
    };
  }

  inject(ctx: SpanContext | SpanImpl, format: 'http_headers', carrier: Record<string, string>): void {
    if (format !== 'http_headers') return;
    const c = ctx instanceof SpanImpl ? ctx.context() : ctx;
    inject(c, carrier);
  }

  extract(format: 'http_headers', carrier: Carrier): SpanContext | null {
    return format === 'http_headers' ? extract(carrier) ?? null : null;
  }

  onFinish(span: SpanImpl): void {
    this.processor.onEnd(span, this.exporter);
  }

  /** Sends what is buffered now. */
  async flush(): Promise<void> {
    await this.exporter?.flush();
  }

  stats(): ExporterStats & { bufferedSpans: number; errors: number } {
    const s = this.exporter?.stats ?? { sentSpans: 0, sentPayloads: 0, droppedSpans: 0, failedPayloads: 0 };
    return { ...s, bufferedSpans: this.exporter?.bufferedSpans ?? 0, errors: this.errors };
  }

  get service(): string {
    return this.config.service;
  }
}
