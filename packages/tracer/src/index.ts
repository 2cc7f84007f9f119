import { defaultInstrumentations } from './instrument/index.js';
import { Tracer } from './tracer.js';

/** The process's tracer: `import tracer from '@ecs-trace/tracer'; tracer.init({ service: 'checkout' })`. */
export const tracer = new Tracer({ instrumentations: defaultInstrumentations() });
export default tracer;

export { Tracer, TRACER_VERSION, type TracerDeps } from './tracer.js';
export { SpanImpl as Span, SpanContext, USER_KEEP, USER_REJECT, AUTO_KEEP, AUTO_REJECT, type SpanOptions } from './span.js';
export { TracerConfigError, type TracerOptions } from './config.js';
export type { Scope } from './scope.js';
export type { Instrumentation, InstrumentationTracer } from './instrumentation.js';
export { httpInstrumentation, fetchInstrumentation, defaultInstrumentations } from './instrument/index.js';
export { ChunkProcessor, PARTIAL_FLUSH_SPANS, type ChunkExporter } from './processor.js';
