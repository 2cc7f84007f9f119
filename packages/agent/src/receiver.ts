import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  decodeJsonTraces, decodeV04, decodeV05, MsgpackReader, PayloadDecodeError, type TraceChunk,
} from '@ecs-trace/protocol';
import type { AgentConfig } from './config.js';
import { AGENT_VERSION, buildInfo } from './info.js';
import type { LogOnce, Logger } from './log.js';
import type { AgentMetrics } from './metrics.js';
import type { IntakePayload, Pipeline } from './pipeline.js';
import { Semaphore } from './semaphore.js';

/*
 * The trace intake on 8126: the Datadog Agent's endpoints, status codes, headers and refusal
 * rules (trace-agent spec sections 1, 2 and 12). Bodies are read only while a decoder slot is
 * held, so memory is bounded by decoders x max payload size however many tracers send at once.
 */

type TraceVersion = 'v0.3' | 'v0.4' | 'v0.5';
const TRACE_ROUTES: Record<string, TraceVersion> = { '/v0.3/traces': 'v0.3', '/v0.4/traces': 'v0.4', '/v0.5/traces': 'v0.5' };
const SERVICE_ROUTES = new Set(['/services', '/v0.1/services', '/v0.2/services', '/v0.3/services', '/v0.4/services']);
const STATS_ROUTE = '/v0.6/stats';
const DOGSTATSD_ROUTES = new Set(['/dogstatsd/v1/proxy', '/dogstatsd/v2/proxy']);

/** Go's strconv.ParseBool false values; anything else non-empty is true, as the agent reads headers. */
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'False', 'false']);
function headerTrue(v: string | string[] | undefined): boolean {
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && s !== '' && !FALSE_VALUES.has(s.trim());
}
function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** A body that could not be read: the status and the reason the agent gives for it. */
class BodyError extends Error {
  constructor(readonly status: number, readonly reason: 'too_large' | 'timeout' | 'unexpected_eof', message: string) {
    super(message);
  }
}


export interface ReceiverOptions {
  config: AgentConfig;
  pipeline: Pipeline;
  metrics: AgentMetrics;
  log: Logger;
  logOnce: LogOnce;
}

export class Receiver {
  readonly server: Server;
  private socketServer: Server | undefined;
  private readonly decoders: Semaphore;
  private readonly info: { body: string; state: string };
  private readonly always429: boolean;

  constructor(private readonly opts: ReceiverOptions) {
    const { config } = opts;
    this.decoders = new Semaphore(config.decoders);
    this.info = buildInfo(config);
    this.always429 = config.features.includes('429');
    this.server = this.newServer();
  }

  private newServer(): Server {
    const { config, log } = this.opts;
    const server = createServer({ keepAliveTimeout: 15_000, headersTimeout: config.receiverTimeoutMs || 5000, requestTimeout: 0 }, (req, res) => {
      this.route(req, res).catch((err: unknown) => {
        log.error({ err }, 'intake request failed unexpectedly');
        if (!res.headersSent) this.error(res, 500, 'internal error');
      });
    });
    server.maxConnections = config.maxConnections;
    return server;
  }

  /**
   * Also listens on a unix socket (DD_APM_RECEIVER_SOCKET), as the Datadog Agent does for
   * containers that share /var/run/datadog with it: a stale socket file is replaced, and the
   * socket is writable by every user, since apps run under their own users.
   */
  async listenSocket(path: string): Promise<void> {
    try {
      if (lstatSync(path).isSocket()) unlinkSync(path);
    } catch {
      // Nothing there yet.
    }
    mkdirSync(dirname(path), { recursive: true });
    const server = this.newServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o722);
    this.socketServer = server;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    const closing = [this.server, this.socketServer].filter((x): x is Server => x !== undefined).map((server) => new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeIdleConnections();
    }));
    return Promise.all(closing).then(() => undefined);
  }

  private versionHeaders(res: ServerResponse): void {
    res.setHeader('Datadog-Agent-Version', AGENT_VERSION);
    res.setHeader('Datadog-Agent-State', this.info.state);
  }

  /** An error as Go's http.Error writes it: plain text, nosniff, the message and a newline. */
  private error(res: ServerResponse, status: number, message: string, close = false): void {
    if (res.headersSent) return;
    const body = message + '\n';
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': Buffer.byteLength(body),
      ...(close ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/info') {
      drain(req);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(this.info.body) });
      res.end(this.info.body);
      return;
    }
    this.versionHeaders(res);
    const version = TRACE_ROUTES[path];
    if (version !== undefined) return this.traces(req, res, version, path);
    if (path === STATS_ROUTE) return this.stats(req, res);
    if (SERVICE_ROUTES.has(path)) {
      await drained(req);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('OK\n');
      return;
    }
    if (DOGSTATSD_ROUTES.has(path)) {
      await drained(req);
      return this.error(res, 503, 'DogStatsD is disabled: ecs-trace runs no DogStatsD server');
    }
    // Remote config, telemetry, profiling, EVP and the other proxies are features this agent does
    // not have; the Datadog Agent answers them with a 404 when they are off, and tracers stop.
    await drained(req);
    this.error(res, 404, '404 page not found');
  }

  private reject(res: ServerResponse, endpoint: string, status: number, reason: string, message: string, close = false): void {
    this.opts.metrics.payloadErrors.inc({ endpoint, reason });
    this.opts.logOnce.warn(`${endpoint}:${reason}`, { endpoint, status, reason, detail: message }, 'payload rejected');
    this.error(res, status, message, close);
  }

  /** Checks shared by every payload endpoint; answers and returns false when the request is refused. */
  private precheck(req: IncomingMessage, res: ServerResponse, endpoint: string): boolean {
    if (header(req, 'sec-fetch-site') === 'cross-site') {
      drain(req);
      this.reject(res, endpoint, 403, 'cross_site', 'cross-site request rejected');
      return false;
    }
    const length = header(req, 'content-length');
    if (length !== '' && Number(length) > this.opts.config.maxPayloadBytes) {
      // Refused before reading: the connection is closed rather than drained.
      this.reject(res, endpoint, 413, 'too_large', 'payload-too-large', true);
      req.destroy();
      return false;
    }
    return true;
  }

  private async traces(req: IncomingMessage, res: ServerResponse, version: TraceVersion, endpoint: string): Promise<void> {
    const { config, metrics, pipeline } = this.opts;
    if (!this.precheck(req, res, endpoint)) return;
    const arrived = Date.now();
    metrics.queueDepth.set(this.decoders.waiting + 1);
    const granted = await this.decoders.acquire(config.decoderTimeoutMs);
    metrics.queueDepth.set(this.decoders.waiting);
    if (!granted) return this.refuse(req, res, endpoint);
    metrics.inFlight.set(this.decoders.busy);
    try {
      let body: Buffer;
      try {
        body = await readBody(req, config.maxPayloadBytes, config.receiverTimeoutMs > 0 ? arrived + config.receiverTimeoutMs : 0);
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        const close = err.status !== 400;
        this.reject(res, endpoint, err.status, err.reason, err.message, close);
        if (close) req.destroy();
        return;
      }
      metrics.bytes.inc({ endpoint }, body.length);
      let chunks: TraceChunk[];
      try {
        chunks = decodeTraces(version, header(req, 'content-type'), body);
      } catch (err) {
        if (!(err instanceof PayloadDecodeError)) throw err;
        this.reject(res, endpoint, 400, 'decode', err.message);
        return;
      }
      const count = header(req, 'x-datadog-trace-count');
      if (count !== '' && !/^\d+$/.test(count)) {
        this.opts.logOnce.warn('trace-count', { value: count.slice(0, 64) }, 'X-Datadog-Trace-Count is not a number; ignored');
      }
      const payload = this.payloadFrom(req, chunks);
      try {
        await pipeline.process(payload);
      } catch (err) {
        this.opts.log.error({ err }, 'store write failed');
        this.reject(res, endpoint, 503, 'store', `store unavailable: ${(err as Error).message}`);
        return;
      }
      metrics.payloads.inc({ endpoint, lang: payload.lang, tracer_version: payload.tracerVersion });
      this.ok(req, res, version);
    } finally {
      this.decoders.release();
      metrics.inFlight.set(this.decoders.busy);
    }
  }

  private payloadFrom(req: IncomingMessage, chunks: TraceChunk[]): IntakePayload {
    let containerId = '';
    for (const item of header(req, 'datadog-entity-id').split(',')) {
      const v = item.trim();
      if (v.startsWith('cid-')) containerId = v.slice(4);
      else if (v.startsWith('ci-')) containerId = v.slice(3);
    }
    if (containerId === '') containerId = header(req, 'datadog-container-id');
    const dropped = Number(header(req, 'datadog-client-dropped-p0-traces'));
    return {
      chunks,
      lang: header(req, 'datadog-meta-lang'),
      langVersion: header(req, 'datadog-meta-lang-version'),
      tracerVersion: header(req, 'datadog-meta-tracer-version'),
      containerId,
      clientComputedStats: headerTrue(req.headers['datadog-client-computed-stats']),
      clientComputedTopLevel: headerTrue(req.headers['datadog-client-computed-top-level']),
      clientDroppedP0Traces: Number.isFinite(dropped) && dropped > 0 ? dropped : 0,
      receivedAt: BigInt(Date.now()) * 1_000_000n,
    };
  }

  private ok(req: IncomingMessage, res: ServerResponse, version: TraceVersion): void {
    if (version === 'v0.3') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('OK\n');
      return;
    }
    const { version: ratesVersion, rates } = this.opts.pipeline.sampler.ratesByService();
    const unchanged = header(req, 'datadog-rates-payload-version') === ratesVersion;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Datadog-Rates-Payload-Version': ratesVersion });
    // A tracer that already has this version of the rates gets an empty object, as from the Datadog Agent.
    res.end(unchanged ? '{}\n' : JSON.stringify({ rate_by_service: rates }) + '\n');
  }

  /**
   * No decoder came free in time. Like the Datadog Agent: the body is drained and dropped, and
   * the answer is 200 with the normal rates, or 429 for a tracer that asks for real statuses.
   */
  private async refuse(req: IncomingMessage, res: ServerResponse, endpoint: string): Promise<void> {
    this.opts.metrics.payloadRefused.inc({ endpoint });
    this.opts.logOnce.warn(`${endpoint}:refused`, { endpoint, decoders: this.decoders.size }, 'payload refused: all decoders busy (agent overloaded)');
    await drained(req);
    if (this.always429 || headerTrue(req.headers['datadog-send-real-http-status'])) {
      res.writeHead(429, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ rate_by_service: this.opts.pipeline.sampler.ratesByService().rates }) + '\n');
      return;
    }
    this.ok(req, res, TRACE_ROUTES[endpoint]!);
  }

  private async stats(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const endpoint = STATS_ROUTE;
    const { config, metrics } = this.opts;
    if (!this.precheck(req, res, endpoint)) return;
    let body: Buffer;
    try {
      body = await readBody(req, config.maxPayloadBytes, config.receiverTimeoutMs > 0 ? Date.now() + config.receiverTimeoutMs : 0);
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      this.reject(res, endpoint, err.status, err.reason, err.message, err.status !== 400);
      return;
    }
    let payload: unknown;
    try {
      const r = new MsgpackReader(body);
      if (r.readMapHeader('stats payload') < 0) throw new PayloadDecodeError('stats payload: expected a map, got nil');
      r.pos = 0;
      payload = r.readAny();
    } catch (err) {
      if (!(err instanceof PayloadDecodeError)) throw err;
      this.reject(res, endpoint, 400, 'decode', err.message);
      return;
    }
    const lang = header(req, 'datadog-meta-lang');
    const tracerVersion = header(req, 'datadog-meta-tracer-version');
    const skipped = this.opts.pipeline.stats.addClientPayload(payload);
    if (skipped > 0) metrics.statsGroupsSkipped.inc({ lang }, skipped);
    metrics.statsPayloads.inc({ lang, tracer_version: tracerVersion });
    metrics.bytes.inc({ endpoint }, body.length);
    res.writeHead(200);
    res.end();
  }
}

/** v0.5 is always msgpack; v0.3/v0.4 follow Content-Type as the agent reads it. */
export function decodeTraces(version: TraceVersion, contentType: string, body: Buffer): TraceChunk[] {
  if (version === 'v0.5') return decodeV05(body);
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  if (media === 'application/msgpack') return decodeV04(body);
  if (media === 'application/json' || media === 'text/json' || media === '') return decodeJsonTraces(body);
  try {
    return decodeJsonTraces(body);
  } catch {
    return decodeV04(body);
  }
}

function drain(req: IncomingMessage): void {
  req.resume();
}

function drained(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.complete) return Promise.resolve();
  return new Promise((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}

/** Reads a body up to `limit` bytes before `deadline` (ms epoch; 0 for none). */
function readBody(req: IncomingMessage, limit: number, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: BodyError | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish(new BodyError(413, 'too_large', 'payload-too-large'));
      parts.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onClose = () => finish(new BodyError(400, 'unexpected_eof', 'unexpected-eof'));
    const remaining = deadline > 0 ? Math.max(0, deadline - Date.now()) : 0;
    const timer = deadline > 0 ? setTimeout(() => finish(new BodyError(408, 'timeout', 'timeout')), remaining) : undefined;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}
