import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeOtlpJson, decodeOtlpProtobuf, limitOtlpRequest, type OtlpLimits, PayloadDecodeError, type OtlpTraceRequest } from '@ecs-trace/protocol';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import type { ByteBudget } from './byte-budget.js';
import { BodyError, drain, gunzipBounded, header, readBody } from './http.js';
import { deliverOtlp } from './otlp-deliver.js';
import type { TraceSink } from './receiver.js';
import { Semaphore } from './semaphore.js';

/*
 * OTLP/HTTP trace intake (`POST /v1/traces`), as the OTLP specification has a server answer:
 * protobuf or JSON chosen by Content-Type and answered in kind, gzip or not, errors as a
 * google.rpc.Status (400 never to be retried; 413 too large; 503 with Retry-After when the store
 * cannot take it). Spans are mapped to Datadog spans (protocol's otlpToDatadog) and go through
 * the same pipeline as a tracer's: stats, sampling, obfuscation, ECS tags. Bodies take bytes from
 * a budget and a decoder slot, as the Datadog endpoints do, so memory stays bounded.
 */

export interface OtlpHttpOptions {
  traces: TraceSink;
  metrics: AgentMetrics;
  logOnce: LogOnce;
  maxPayloadBytes: number;
  receiverTimeoutMs: number;
  decoders: number;
  decoderTimeoutMs: number;
  /** Bytes of bodies in memory, shared by every intake (agent.ts). */
  bodies: ByteBudget;
  /** Attributes kept, and what a request may map to (protocol's otlp/limits.ts). */
  limits: OtlpLimits;
}

type Format = 'protobuf' | 'json';

/** google.rpc.Status codes used here. */
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const ENDPOINT = 'otlp /v1/traces';

function statusProtobuf(code: number, message: string): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const len: number[] = [];
  for (let n = msg.length; ; n = Math.floor(n / 128)) {
    if (n < 128) { len.push(n); break; }
    len.push((n % 128) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x08, code, 0x12, ...len]), msg]);
}

export class OtlpHttpReceiver {
  readonly server: Server;
  private readonly decoders: Semaphore;
  private readonly bodies: ByteBudget;

  constructor(private readonly o: OtlpHttpOptions) {
    this.decoders = new Semaphore(o.decoders);
    this.bodies = o.bodies;
    this.server = createServer((req, res) => { void this.handle(req, res); });
    this.server.requestTimeout = 0;
  }

  private answer(res: ServerResponse, format: Format, status: number, code: number | undefined, message: string, extra: Record<string, string> = {}): void {
    if (res.headersSent) return;
    const body = code === undefined
      ? (format === 'json' ? Buffer.from('{}') : Buffer.alloc(0))
      : (format === 'json' ? Buffer.from(JSON.stringify({ code, message })) : statusProtobuf(code, message));
    res.writeHead(status, { 'Content-Type': format === 'json' ? 'application/json' : 'application/x-protobuf', 'Content-Length': body.length, ...extra });
    res.end(body);
  }

  private reject(res: ServerResponse, format: Format, status: number, code: number, reason: string, message: string, extra: Record<string, string> = {}): void {
    this.o.metrics.payloadErrors.inc({ endpoint: ENDPOINT, reason });
    this.o.logOnce.warn(`otlp-${reason}`, { status, reason: message }, 'OTLP request rejected');
    this.answer(res, format, status, code, message, extra);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    const type = header(req, 'content-type').split(';')[0]!.trim().toLowerCase();
    const format: Format = type === 'application/json' ? 'json' : 'protobuf';
    if (url !== '/v1/traces') {
      drain(req);
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'POST') {
      drain(req);
      this.reject(res, format, 405, INVALID_ARGUMENT, 'method', `${req.method ?? ''} is not allowed; send POST /v1/traces`, { Allow: 'POST' });
      return;
    }
    if (type !== 'application/x-protobuf' && type !== 'application/json') {
      drain(req);
      this.reject(res, format, 415, INVALID_ARGUMENT, 'content_type', `Content-Type ${JSON.stringify(type)} is not OTLP: use application/x-protobuf or application/json`);
      return;
    }
    const declared = Number(header(req, 'content-length'));
    if (Number.isFinite(declared) && declared > this.o.maxPayloadBytes) {
      drain(req);
      this.reject(res, format, 413, RESOURCE_EXHAUSTED, 'too_large', `the body (${declared} bytes) is over the ${this.o.maxPayloadBytes}-byte limit`, { Connection: 'close' });
      return;
    }
    let read;
    try {
      read = await readBody(req, { limit: this.o.maxPayloadBytes, deadline: this.o.receiverTimeoutMs > 0 ? Date.now() + this.o.receiverTimeoutMs : 0, budget: this.bodies, budgetWaitMs: this.o.decoderTimeoutMs });
    } catch (err) {
      const e = err as BodyError;
      if (e.status === 429) this.reject(res, format, 503, UNAVAILABLE, 'overloaded', 'too many bytes of requests in flight; retry later', { 'Retry-After': '1' });
      else this.reject(res, format, e.status, e.status === 413 ? RESOURCE_EXHAUSTED : INVALID_ARGUMENT, e.reason, e.message, e.status === 413 ? { Connection: 'close' } : {});
      return;
    }
    if (!(await this.decoders.acquire(this.o.decoderTimeoutMs))) {
      read.release();
      this.o.metrics.payloadRefused.inc({ endpoint: ENDPOINT });
      this.reject(res, format, 503, UNAVAILABLE, 'overloaded', 'no decoder free; retry later', { 'Retry-After': '1' });
      return;
    }
    try {
      this.o.metrics.bytes.inc({ endpoint: ENDPOINT }, read.body.length);
      let body = read.body;
      const encoding = header(req, 'content-encoding').trim().toLowerCase();
      if (encoding === 'gzip') {
        try {
          body = await gunzipBounded(body, this.o.maxPayloadBytes);
        } catch (err) {
          const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
          this.reject(res, format, tooLarge ? 413 : 400, tooLarge ? RESOURCE_EXHAUSTED : INVALID_ARGUMENT, tooLarge ? 'too_large' : 'decode',
            tooLarge ? `the body is over the ${this.o.maxPayloadBytes}-byte limit once decompressed` : `gzip: ${(err as Error).message}`);
          return;
        }
      } else if (encoding !== '' && encoding !== 'identity') {
        this.reject(res, format, 415, INVALID_ARGUMENT, 'content_encoding', `Content-Encoding ${JSON.stringify(encoding)} is not supported: use gzip or none`);
        return;
      }
      let request: OtlpTraceRequest;
      try {
        request = format === 'json' ? decodeOtlpJson(body) : decodeOtlpProtobuf(body);
        limitOtlpRequest(request, this.o.limits);
      } catch (err) {
        if (!(err instanceof PayloadDecodeError)) throw err;
        this.reject(res, format, 400, INVALID_ARGUMENT, 'decode', err.message);
        return;
      }
      const refused = await deliverOtlp(request, this.o, ENDPOINT);
      if (refused !== undefined) {
        this.reject(res, format, 503, UNAVAILABLE, 'store', refused, { 'Retry-After': '5' });
        return;
      }
      this.answer(res, format, 200, undefined, '');
    } finally {
      this.decoders.release();
      read.release();
    }
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
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }
}
