import diagnostics from 'node:diagnostics_channel';
import type { Instrumentation, InstrumentationTracer } from '../instrumentation.js';
import { inject } from '../propagation.js';
import type { SpanImpl } from '../span.js';
import { clientError, safeUrl } from './http-common.js';

/*
 * Global fetch, through the diagnostics channels of Node's bundled undici: a client span per
 * request, the trace headers added before it is sent, the status from the response headers.
 */

interface UndiciRequest { method: string; origin: string; path: string; addHeader(name: string, value: string): unknown }

const spans = new WeakMap<object, SpanImpl>();
/** The tracer the channels report to; undefined when disabled. */
let active: InstrumentationTracer | undefined;

function onCreate(message: unknown): void {
  const tracer = active;
  if (tracer === undefined) return;
  const { request } = message as { request: UndiciRequest };
  const method = request.method.toUpperCase();
  let host = '';
  try {
    host = new URL(request.origin).hostname;
  } catch {
    // Leave out.host empty.
  }
  const span = tracer.startSpan('http.request', {
    type: 'http',
    resource: method,
    tags: { 'span.kind': 'client', component: 'fetch', 'http.method': method, 'http.url': safeUrl(request.origin + request.path), 'out.host': host },
  });
  const headers: Record<string, string> = {};
  inject(span.context(), headers);
  for (const [k, v] of Object.entries(headers)) request.addHeader(k, v);
  spans.set(request, span);
}

function onHeaders(message: unknown): void {
  const { request, response } = message as { request: object; response: { statusCode: number } };
  const span = spans.get(request);
  if (!span) return;
  span.setTag('http.status_code', String(response.statusCode));
  if (clientError(response.statusCode)) span.error = 1;
}

function onTrailers(message: unknown): void {
  const { request } = message as { request: object };
  spans.get(request)?.finish();
  spans.delete(request);
}

function onError(message: unknown): void {
  const { request, error } = message as { request: object; error: unknown };
  const span = spans.get(request);
  if (!span) return;
  span.recordError(error);
  span.finish();
  spans.delete(request);
}

/** Channels that finish spans already started: they stay subscribed, so requests under way at disable() still end their spans. */
const FOLLOWERS: [string, (message: unknown) => void][] = [
  ['undici:request:headers', onHeaders],
  ['undici:request:trailers', onTrailers],
  ['undici:request:error', onError],
];
let followers = false;

export const fetchInstrumentation: Instrumentation = {
  name: 'fetch',
  enable(tracer) {
    if (!followers) for (const [name, fn] of FOLLOWERS) diagnostics.subscribe(name, fn);
    followers = true;
    if (active === undefined) diagnostics.subscribe('undici:request:create', onCreate);
    active = tracer;
  },
  disable(tracer) {
    if (active === undefined || (tracer !== undefined && tracer !== active)) return;
    active = undefined;
    diagnostics.unsubscribe('undici:request:create', onCreate);
  },
};
