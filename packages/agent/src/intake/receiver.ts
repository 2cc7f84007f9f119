import { setImmediate as nextTurn } from 'node:timers/promises';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { decodeClientStats, PayloadDecodeError, type ClientStatsPayload, type TraceApiVersion, type TraceChunk } from '@ecs-trace/protocol';
import type { IntakePayload } from '../process/index.js';
import { AGENT_VERSION, type AgentMetrics, type LogOnce, type Logger } from '../runtime/index.js';
import { decodeTraces } from './content-type.js';
import { findEndpoint } from './endpoints.js';
import { Admission } from './admission.js';
import type { ByteBudget } from './byte-budget.js';
import { CgroupInodes, defaultCgroupRoot, entityInode } from './cgroup-inodes.js';
import { BodyError, drain, drained, gunzipBounded, header, headerTrue, readBody, writeError, type ReadBody } from './http.js';
import { buildInfo, type InfoFacts } from './info.js';
import { Semaphore } from './semaphore.js';
import type { IntakeConfig } from './settings.js';

/*
 * The trace intake on 8126: the Datadog Agent's endpoints, status codes, headers and refusal
 * rules (trace-agent spec sections 1, 2 and 12). Bodies are read only while a decoder slot is
 * held, so memory is bounded by decoders x max payload size however many tracers send at once.
 */

/** Content types a browser may send cross-origin without asking first (CORS "simple" requests). */
const FORM_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

/**
 * Why a request looks like it comes from a web page rather than a tracer (empty for the Datadog
 * Agent's own rule), or undefined. The
 * Datadog Agent refuses `Sec-Fetch-Site: cross-site`; tracers send none of these, so the other
 * marks of a browser (an Origin, a same-site fetch from another port, a form's content type)
 * are refused too: a page could otherwise post traces into a local agent.
 */
function browserRequest(req: IncomingMessage): string | undefined {
  const site = header(req, 'sec-fetch-site');
  // The Datadog Agent's own rule, answered in its words.
  if (site === 'cross-site') return '';
  if (site === 'same-site') return 'Sec-Fetch-Site: same-site';
  if (header(req, 'origin') !== '') return 'a browser Origin header';
  const media = header(req, 'content-type').split(';')[0]!.trim().toLowerCase();
  if (FORM_TYPES.has(media)) return `Content-Type ${media}`;
  return undefined;
}

/** Where decoded payloads go: resolves once the payload's kept traces are durable. */
export interface TraceSink {
  process(payload: IntakePayload): Promise<unknown>;
}

/** Where the sampling rates returned to tracers come from. */
export interface RateSource {
  ratesByService(): { version: string; rates: Record<string, number> };
}

/** Where client-computed stats go; returns the number of groups it could not use. */
export interface ClientStatsSink {
  addClientPayload(payload: ClientStatsPayload, o: { obfuscationVersion: string }): number;
}

export interface ReceiverOptions {
  config: IntakeConfig & InfoFacts;
  traces: TraceSink;
  rates: RateSource;
  clientStats: ClientStatsSink;
  metrics: AgentMetrics;
  log: Logger;
  logOnce: LogOnce;
  /** Bytes of bodies in memory, shared by every intake (agent.ts). */
  bodies: ByteBudget;
  /** Where tracers' telemetry goes (their instances, integrations, configuration, dependencies). */
  telemetry?: TelemetrySink;
  /** Told each telemetry body taken (as it came, gzipped or not) and its request's headers: forwarding to Datadog. */
  forwardTelemetry?: (body: Buffer, gzip: boolean, headers: IncomingMessage['headers']) => void;
  /** Where tracers' remote-config polls are answered; absent (or DD_REMOTE_CONFIGURATION_ENABLED=false): 404, as an agent without it. */
  remoteConfig?: RemoteConfigSink;
}

/** Answers a tracer's remote-config poll (JSON in, JSON text out); throws (with why) for one it cannot read. */
export interface RemoteConfigSink {
  answer(body: unknown): string;
}

/** Takes a telemetry request's JSON; throws (with why) for one it cannot read. */
export interface TelemetrySink {
  add(body: unknown): void;
}

export class Receiver {
  readonly server: Server;
  private socketServer: Server | undefined;
  private readonly decoders: Semaphore;
  /** Containers of tracers that name themselves by cgroup inode (cgroup v2, private cgroupns). */
  private readonly cgroupInodes: CgroupInodes;
  private readonly bodies: ByteBudget;
  private readonly admission: Admission;
  private readonly info: { body: string; state: string };
  private readonly always429: boolean;

  constructor(private readonly opts: ReceiverOptions) {
    const { config } = opts;
    this.decoders = new Semaphore(config.decoders);
    this.cgroupInodes = new CgroupInodes(config.cgroupRoot ?? defaultCgroupRoot());
    this.bodies = opts.bodies;
    this.admission = new Admission(config.decoders, config.decoderTimeoutMs);
    this.info = buildInfo(config);
    this.always429 = config.features.includes('429');
    this.server = this.newServer();
  }

  private newServer(): Server {
    const { config } = this.opts;
    const server = createServer({ keepAliveTimeout: 15_000, headersTimeout: config.receiverTimeoutMs || 5000, requestTimeout: 0 }, (req, res) => {
      this.route(req, res).catch((err: unknown) => {
        this.opts.logOnce.error('intake-unexpected', { err }, 'intake request failed unexpectedly');
        if (!res.headersSent) writeError(res, 500, 'internal error');
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
    const handler = findEndpoint(path)?.handler;
    switch (handler?.kind) {
      case 'traces': return this.traces(req, res, handler.version, path);
      case 'stats': return this.stats(req, res, path);
      case 'telemetry': return this.telemetry(req, res, path);
      case 'remote-config':
        if (this.opts.remoteConfig && this.opts.config.remoteConfig) return this.remoteConfig(req, res, path, this.opts.remoteConfig);
        await drained(req);
        return writeError(res, 404, '404 page not found');
      case 'services':
        await drained(req);
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('OK\n');
        return;
      case 'off':
        await drained(req);
        return writeError(res, handler.status, handler.message);
      case undefined:
        // Remote config, telemetry, profiling, EVP and the other proxies are features this agent
        // does not have; the Datadog Agent answers them with a 404 when they are off, and tracers stop.
        await drained(req);
        return writeError(res, 404, '404 page not found');
    }
  }

  private reject(res: ServerResponse, endpoint: string, status: number, reason: string, message: string, close = false): void {
    this.opts.metrics.payloadErrors.inc({ endpoint, reason });
    this.opts.logOnce.warn(`${endpoint}:${reason}`, { endpoint, status, reason, detail: message }, 'payload rejected');
    writeError(res, status, message, close);
  }

  /** Checks shared by every payload endpoint; answers and returns false when the request is refused. */
  private precheck(req: IncomingMessage, res: ServerResponse, endpoint: string): boolean {
    const browser = browserRequest(req);
    if (browser !== undefined) {
      drain(req);
      this.reject(res, endpoint, 403, 'cross_site', browser === '' ? 'cross-site request rejected' : `cross-site request rejected: ${browser}`);
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

  /**
   * Reads a payload's body under the receiver timeout and the bytes budget, before it takes a
   * decoder: a slow sender holds only the bytes it has sent. Answers and returns undefined when
   * the body cannot be had.
   */
  private async body(req: IncomingMessage, res: ServerResponse, endpoint: string, version: TraceApiVersion | undefined): Promise<ReadBody | undefined> {
    const { config } = this.opts;
    try {
      return await readBody(req, {
        limit: config.maxPayloadBytes,
        deadline: config.receiverTimeoutMs > 0 ? Date.now() + config.receiverTimeoutMs : 0,
        budget: this.bodies,
        budgetWaitMs: config.decoderTimeoutMs,
      });
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      if (err.reason === 'overloaded') {
        this.refuse(req, res, endpoint, version);
        return undefined;
      }
      const close = err.status !== 400;
      this.reject(res, endpoint, err.status, err.reason, err.message, close);
      if (close) req.destroy();
      return undefined;
    }
  }

  /** Runs `work` holding a decoder; refuses the payload when none comes free in time. */
  private async withDecoder(req: IncomingMessage, res: ServerResponse, endpoint: string, version: TraceApiVersion | undefined, work: () => Promise<void>): Promise<void> {
    const { config, metrics } = this.opts;
    metrics.queueDepth.set(this.decoders.waiting + 1);
    const granted = await this.decoders.acquire(config.decoderTimeoutMs);
    metrics.queueDepth.set(this.decoders.waiting);
    if (!granted) return this.refuse(req, res, endpoint, version);
    metrics.inFlight.set(this.decoders.busy);
    const started = performance.now();
    try {
      // A decoder handed on by the payload before resolves in a microtask: without a turn of the
      // event loop here, payloads waiting in line are processed back to back and no socket is
      // accepted or read, nor /healthz answered, until the line is empty.
      await nextTurn();
      await work();
    } finally {
      this.admission.held(performance.now() - started);
      this.decoders.release();
      metrics.inFlight.set(this.decoders.busy);
    }
  }

  /**
   * What every payload endpoint does around its own work: the shared checks, the body read under
   * the budget, a decoder held while `work` runs, and the body's bytes given back after.
   */
  private async payload(req: IncomingMessage, res: ServerResponse, endpoint: string, version: TraceApiVersion | undefined, work: (body: Buffer) => Promise<void>): Promise<void> {
    if (!this.precheck(req, res, endpoint)) return;
    // Shed before reading: the line already waits longer than the decoder timeout.
    if (!this.admission.admit()) return this.refuse(req, res, endpoint, version);
    let inLine = true;
    const leave = () => { if (inLine) { inLine = false; this.admission.leave(); } };
    try {
      const read = await this.body(req, res, endpoint, version);
      if (!read) return;
      try {
        await this.withDecoder(req, res, endpoint, version, () => { leave(); return work(read.body); });
      } finally {
        read.release();
      }
    } finally {
      leave();
    }
  }

  private traces(req: IncomingMessage, res: ServerResponse, version: TraceApiVersion, endpoint: string): Promise<void> {
    const { metrics, traces } = this.opts;
    return this.payload(req, res, endpoint, version, async (body) => {
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
      // Decoding and processing a large payload each hold the thread: a turn of the loop between.
      await nextTurn();
      const payload = this.payloadFrom(req, chunks);
      if (payload.containerId === '') {
        const inode = entityInode(header(req, 'datadog-entity-id'));
        if (inode !== undefined) payload.containerId = (await this.cgroupInodes.containerId(inode)) ?? '';
      }
      try {
        await traces.process(payload);
      } catch (err) {
        this.opts.logOnce.error('store-write', { err }, 'store write failed');
        this.reject(res, endpoint, 503, 'store', `store unavailable: ${(err as Error).message}`);
        return;
      }
      metrics.payloads.inc({ endpoint, lang: payload.lang, tracer_version: payload.tracerVersion });
      this.ok(req, res, version);
    });
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

  private ok(req: IncomingMessage, res: ServerResponse, version: TraceApiVersion): void {
    if (version === 'v0.3') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('OK\n');
      return;
    }
    const { version: ratesVersion, rates } = this.opts.rates.ratesByService();
    const unchanged = header(req, 'datadog-rates-payload-version') === ratesVersion;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Datadog-Rates-Payload-Version': ratesVersion });
    // A tracer that already has this version of the rates gets an empty object, as from the Datadog Agent.
    res.end(unchanged ? '{}\n' : JSON.stringify({ rate_by_service: rates }) + '\n');
  }

  /**
   * No decoder (or no room for the body) came free in time. Like the Datadog Agent: the payload is
   * dropped and answered 200 with the normal rates, or 429 for a tracer that asks for real
   * statuses. A body not yet read whole is not waited for: once answered, the rest of a body of
   * known length is read and thrown away (Node does it when the answer ends), so the connection
   * stays open: under load Node accepts one connection per turn of its event loop (libuv), and a
   * tracer reconnecting after each refusal would wait in the accept backlog. A body of unknown
   * length (chunked) closes the connection instead.
   */
  private refuse(req: IncomingMessage, res: ServerResponse, endpoint: string, version: TraceApiVersion | undefined): void {
    this.opts.metrics.payloadRefused.inc({ endpoint });
    this.opts.logOnce.warn(`${endpoint}:refused`, { endpoint, decoders: this.decoders.size, bodyBytes: this.bodies.inUse }, 'payload refused: agent overloaded');
    const lengthKnown = header(req, 'content-length') !== '';
    if (!req.complete && !lengthKnown) res.setHeader('Connection', 'close');
    if (this.always429 || headerTrue(req.headers['datadog-send-real-http-status'])) {
      res.writeHead(429, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ rate_by_service: this.opts.rates.ratesByService().rates }) + '\n');
    } else if (version === undefined) {
      res.writeHead(200);
      res.end();
    } else this.ok(req, res, version);
    if (!req.complete) res.once('finish', () => (lengthKnown ? this.discardRest(req) : req.destroy()));
  }

  /** Reads what is left of a refused body and throws it away, within the receiver timeout. */
  private discardRest(req: IncomingMessage): void {
    if (req.complete) return;
    const timer = setTimeout(() => req.destroy(), this.opts.config.receiverTimeoutMs || 5000);
    timer.unref();
    req.once('close', () => clearTimeout(timer));
    req.once('end', () => clearTimeout(timer));
    // A body read in part was paused with its listener gone: flowing again, its bytes are dropped.
    req.resume();
  }

  /** Stats payloads take a decoder like traces: decoding is what costs memory. */
  /** A tracer's telemetry (JSON, perhaps gzipped), bounded as every payload is; 202 once taken. */
  private telemetry(req: IncomingMessage, res: ServerResponse, endpoint: string): Promise<void> {
    return this.payload(req, res, endpoint, undefined, async (raw) => {
      let body: unknown;
      const gzip = header(req, 'content-encoding').trim().toLowerCase() === 'gzip';
      try {
        const text = gzip ? await gunzipBounded(raw, this.opts.config.maxPayloadBytes) : raw;
        body = JSON.parse(text.toString('utf8'));
        if (!this.opts.telemetry) throw new Error('telemetry is not kept here');
        this.opts.telemetry.add(body);
      } catch (err) {
        const message = (err as Error).message;
        this.reject(res, endpoint, 400, 'decode', message.startsWith('not a telemetry request') ? message : `not a telemetry request: ${message}`);
        return;
      }
      this.opts.metrics.bytes.inc({ endpoint }, raw.length);
      // Held from here by the forwarding queue, which its own bound (ECS_TRACE_FORWARD_QUEUE) holds.
      this.opts.forwardTelemetry?.(raw, gzip, req.headers);
      res.writeHead(202);
      res.end();
    });
  }

  /** A tracer's remote-config poll (JSON), bounded as every payload is; answered with what it should hold. */
  private remoteConfig(req: IncomingMessage, res: ServerResponse, endpoint: string, sink: RemoteConfigSink): Promise<void> {
    return this.payload(req, res, endpoint, undefined, async (raw) => {
      let answer: string;
      try {
        answer = sink.answer(JSON.parse(raw.toString('utf8')));
      } catch (err) {
        const message = (err as Error).message;
        this.reject(res, endpoint, 400, 'decode', `not a remote-config request: ${message}`);
        return;
      }
      this.opts.metrics.bytes.inc({ endpoint }, raw.length);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  }

  private stats(req: IncomingMessage, res: ServerResponse, endpoint: string): Promise<void> {
    const { metrics } = this.opts;
    return this.payload(req, res, endpoint, undefined, async (body) => {
      let payload: ClientStatsPayload;
      try {
        payload = decodeClientStats(body);
      } catch (err) {
        if (!(err instanceof PayloadDecodeError)) throw err;
        this.reject(res, endpoint, 400, 'decode', err.message);
        return;
      }
      const lang = header(req, 'datadog-meta-lang');
      const tracerVersion = header(req, 'datadog-meta-tracer-version');
      const skipped = this.opts.clientStats.addClientPayload(payload, { obfuscationVersion: header(req, 'datadog-obfuscation-version') });
      if (skipped > 0) {
        metrics.statsGroupsSkipped.inc({ lang }, skipped);
        this.opts.logOnce.warn(`${endpoint}:skipped`, { endpoint, lang, tracerVersion, skipped }, 'client stats groups skipped: missing service or name, broken sketch, or counts and times out of range');
      }
      metrics.statsPayloads.inc({ lang, tracer_version: tracerVersion });
      metrics.bytes.inc({ endpoint }, body.length);
      res.writeHead(200);
      res.end();
    });
  }
}
