import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, RequestOptions, ServerResponse } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import type { Instrumentation, InstrumentationTracer } from '../instrumentation.js';
import { inject } from '../propagation.js';
import { storage } from '../scope.js';
import type { SpanImpl } from '../span.js';
import { clientError, safeUrl, serverError } from './http-common.js';

/*
 * node:http and node:https, server and client. Servers: every 'request' event runs in a
 * `web.request` span continued from the caller's Datadog or W3C headers. Clients: `http.request`
 * spans that inject those headers. The tracer's own requests to the agent use the original
 * http.request and are never traced.
 */

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** The tracer the patches report to; undefined when disabled. */
let active: InstrumentationTracer | undefined;
/** Puts back what was patched; set while patched. */
let restore: (() => void) | undefined;

function patchServer(proto: { emit: Emit }, scheme: string): () => void {
  const original = proto.emit;
  proto.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    const tracer = active;
    if (event !== 'request' || tracer === undefined) return original.call(this, event, ...args);
    const req = args[0] as IncomingMessage;
    const res = args[1] as ServerResponse;
    const parent = tracer.extract('http_headers', req.headers);
    const method = req.method ?? 'GET';
    const span = tracer.startSpan('web.request', {
      childOf: parent ?? null,
      type: 'web',
      resource: method,
      tags: {
        'span.kind': 'server',
        component: 'http',
        'http.method': method,
        'http.url': safeUrl(`${scheme}://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`),
        ...(req.headers['user-agent'] ? { 'http.useragent': req.headers['user-agent'] } : {}),
      },
    });
    const done = () => {
      if (span.finished) return;
      const status = res.statusCode;
      span.setTag('http.status_code', String(status));
      const route = span.meta['http.route'] ?? (req as IncomingMessage & { route?: { path?: string } }).route?.path;
      if (route) {
        span.meta['http.route'] = route;
        span.resource = `${method} ${route}`;
      }
      if (serverError(status)) span.error = 1;
      span.finish();
    };
    res.once('finish', done);
    res.once('close', done);
    return storage.run(span, () => original.call(this, event, ...args));
  };
  return () => { proto.emit = original; };
}

/** Normalizes request(url, options, cb) / request(options, cb) to what we need. */
function describe(args: unknown[], defaultProtocol: string): { url: string; method: string; host: string; headers: Record<string, unknown> | undefined; optionsIndex: number } {
  let url: URL | undefined;
  let optionsIndex = -1;
  let opts: RequestOptions = {};
  if (typeof args[0] === 'string' || args[0] instanceof URL) {
    try {
      url = new URL(String(args[0]));
    } catch {
      url = undefined;
    }
    if (args[1] !== null && typeof args[1] === 'object') { opts = args[1] as RequestOptions; optionsIndex = 1; }
  } else if (args[0] !== null && typeof args[0] === 'object') {
    opts = args[0] as RequestOptions;
    optionsIndex = 0;
  }
  const protocol = opts.protocol ?? url?.protocol ?? defaultProtocol;
  const host = opts.hostname ?? opts.host ?? url?.hostname ?? 'localhost';
  const port = opts.port ?? url?.port ?? '';
  const path = opts.path ?? (url ? url.pathname + url.search : '/');
  return {
    url: safeUrl(`${protocol}//${host}${port ? `:${port}` : ''}${path}`),
    method: (opts.method ?? 'GET').toUpperCase(),
    host: String(host),
    headers: opts.headers as Record<string, unknown> | undefined,
    optionsIndex,
  };
}

function patchClient(mod: typeof http | typeof https, defaultProtocol: string): () => void {
  const originalRequest = mod.request;
  const originalGet = mod.get;
  const traced = function (this: unknown, ...args: unknown[]): http.ClientRequest {
    const tracer = active;
    if (tracer === undefined) return (originalRequest as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const d = describe(args, defaultProtocol);
    const span: SpanImpl = tracer.startSpan('http.request', {
      type: 'http',
      resource: d.method,
      tags: { 'span.kind': 'client', component: 'http', 'http.method': d.method, 'http.url': d.url, 'out.host': d.host },
    });
    const headers: Record<string, string> = {};
    inject(span.context(), headers);
    // Add our headers without changing the caller's objects.
    if (d.optionsIndex >= 0) {
      const opts = { ...(args[d.optionsIndex] as RequestOptions) };
      opts.headers = Array.isArray(opts.headers) ? opts.headers : { ...opts.headers, ...headers };
      args[d.optionsIndex] = opts;
    } else {
      args.splice(1, 0, { headers });
    }
    let req: http.ClientRequest;
    try {
      req = storage.run(span, () => (originalRequest as (...a: unknown[]) => http.ClientRequest).apply(this, args));
    } catch (err) {
      span.recordError(err);
      span.finish();
      throw err;
    }
    const finish = () => span.finish();
    let responded = false;
    req.once('response', (res: IncomingMessage) => {
      responded = true;
      const status = res.statusCode ?? 0;
      span.setTag('http.status_code', String(status));
      if (clientError(status)) span.error = 1;
      res.once('end', finish);
      res.once('close', finish);
    });
    req.once('error', (err) => { span.recordError(err); finish(); });
    req.once('close', () => { if (!responded) finish(); });
    return req;
  };
  (mod as { request: unknown }).request = traced;
  (mod as { get: unknown }).get = function (this: unknown, ...args: unknown[]): http.ClientRequest {
    const req = traced.apply(this, args);
    req.end();
    return req;
  };
  return () => {
    (mod as { request: unknown }).request = originalRequest;
    (mod as { get: unknown }).get = originalGet;
  };
}

export const httpInstrumentation: Instrumentation = {
  name: 'http',
  enable(tracer) {
    active = tracer;
    if (restore) return;
    const undo = [
      patchServer(http.Server.prototype as unknown as { emit: Emit }, 'http'),
      patchServer(https.Server.prototype as unknown as { emit: Emit }, 'https'),
      patchClient(http, 'http:'),
      patchClient(https, 'https:'),
    ];
    restore = () => { for (const u of undo) u(); };
    // ESM named imports of builtins (import { request } from 'node:http') see the patch too.
    syncBuiltinESMExports();
  },
  disable(tracer) {
    if (tracer !== undefined && tracer !== active) return;
    active = undefined;
    restore?.();
    restore = undefined;
    syncBuiltinESMExports();
  },
};
