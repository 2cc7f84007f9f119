import { Tracer } from './tracer.js';

/** The process's tracer: `import tracer from '@ecs-trace/tracer'; tracer.init({ service: 'checkout' })`. */
export const tracer = new Tracer();
export default tracer;

export { Tracer, TRACER_VERSION } from './tracer.js';
export { SpanImpl as Span, SpanContext, USER_KEEP, USER_REJECT, AUTO_KEEP, AUTO_REJECT, type SpanOptions } from './span.js';
export { TracerConfigError, type TracerOptions } from './config.js';
export type { Scope } from './scope.js';
