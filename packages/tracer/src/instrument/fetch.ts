import diagnostics from 'node:diagnostics_channel';
import { inject } from '../propagation.js';
import type { SpanImpl } from '../span.js';
import type { Tracer } from '../tracer.js';
import { clientError, safeUrl } from './http-common.js';

/*
 * Global fetch, through the diagnostics channels of Node's bundled undici: a client span per
 * request, the trace headers added before it is sent, the status from the response headers.
 */

interface UndiciRequest { method: string; origin: string; path: string; addHeader(name: string, value: string): unknown }

const spans = new WeakMap<object, SpanImpl>();
let subscribed = false;

export function instrumentFetch(tracer: Tracer): void {
  if (subscribed) return;
  subscribed = true;
  diagnostics.subscribe('undici:request:create', (message) => {
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
  });
  diagnostics.subscribe('undici:request:headers', (message) => {
    const { request, response } = message as { request: object; response: { statusCode: number } };
    const span = spans.get(request);
    if (!span) return;
    span.setTag('http.status_code', String(response.statusCode));
    if (clientError(response.statusCode)) span.error = 1;
  });
  diagnostics.subscribe('undici:request:trailers', (message) => {
    const { request } = message as { request: object };
    spans.get(request)?.finish();
    spans.delete(request);
  });
  diagnostics.subscribe('undici:request:error', (message) => {
    const { request, error } = message as { request: object; error: unknown };
    const span = spans.get(request);
    if (!span) return;
    span.recordError(error);
    span.finish();
    spans.delete(request);
  });
}
