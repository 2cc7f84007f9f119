import * as grpc from '@grpc/grpc-js';
import { decodeOtlpProtobuf, limitOtlpRequest, PayloadDecodeError, type OtlpLimits } from '@ecs-trace/protocol';
import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import { deliverOtlp } from './otlp-deliver.js';
import type { TraceSink } from './receiver.js';
import type { ByteBudget } from './byte-budget.js';
import { budgetInterceptor } from './grpc-budget.js';
import { Semaphore } from './semaphore.js';

/*
 * OTLP/gRPC trace intake: the unary TraceService/Export. Messages arrive as bytes (no generated
 * code: the protocol package's bounded decoder reads them, as for OTLP/HTTP) and answer with an
 * empty ExportTraceServiceResponse, or INVALID_ARGUMENT (never retried), RESOURCE_EXHAUSTED for
 * a message over the limit (grpc-js refuses it before it is read) or a call the byte budget
 * cannot take (grpc-budget.ts: before any of it is buffered), UNAVAILABLE when no decoder is
 * free or the store cannot take it (both retried by the SDKs).
 */

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const ENDPOINT = 'otlp grpc';

export interface OtlpGrpcOptions {
  traces: TraceSink;
  metrics: AgentMetrics;
  logOnce: LogOnce;
  maxPayloadBytes: number;
  decoders: number;
  decoderTimeoutMs: number;
  /** Bytes of bodies in memory, shared by every intake (agent.ts). */
  bodies: ByteBudget;
  /** Attributes kept, and what a request may map to (protocol's otlp/limits.ts). */
  limits: OtlpLimits;
}

/** Streams one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
const MAX_STREAMS = 32;

const identity = (b: Buffer): Buffer => b;

export class OtlpGrpcReceiver {
  private readonly server: grpc.Server;
  private readonly decoders: Semaphore;

  constructor(private readonly o: OtlpGrpcOptions) {
    this.decoders = new Semaphore(o.decoders);
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': o.maxPayloadBytes,
      'grpc.max_concurrent_streams': MAX_STREAMS,
      interceptors: [budgetInterceptor({
        budget: o.bodies, maxMessageBytes: o.maxPayloadBytes, waitMs: o.decoderTimeoutMs,
        onRefused: () => { o.metrics.payloadRefused.inc({ endpoint: ENDPOINT }); o.metrics.payloadErrors.inc({ endpoint: ENDPOINT, reason: 'overloaded' }); },
      })],
    });
    const service: grpc.ServiceDefinition = {
      Export: { path: EXPORT_PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
    };
    this.server.addService(service, { Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => { void this.export(call.request, done); } });
  }

  private fail(done: grpc.sendUnaryData<Buffer>, code: grpc.status, reason: string, details: string): void {
    this.o.metrics.payloadErrors.inc({ endpoint: ENDPOINT, reason });
    this.o.logOnce.warn(`otlp-grpc-${reason}`, { code, reason: details }, 'OTLP export rejected');
    done({ code, details });
  }

  private async export(body: Buffer, done: grpc.sendUnaryData<Buffer>): Promise<void> {
    if (!(await this.decoders.acquire(this.o.decoderTimeoutMs))) {
      this.o.metrics.payloadRefused.inc({ endpoint: ENDPOINT });
      this.fail(done, grpc.status.UNAVAILABLE, 'overloaded', 'no decoder free; retry later');
      return;
    }
    try {
      this.o.metrics.bytes.inc({ endpoint: ENDPOINT }, body.length);
      let request;
      try {
        request = decodeOtlpProtobuf(body);
        limitOtlpRequest(request, this.o.limits);
      } catch (err) {
        if (!(err instanceof PayloadDecodeError)) throw err;
        this.fail(done, grpc.status.INVALID_ARGUMENT, 'decode', err.message);
        return;
      }
      const refused = await deliverOtlp(request, this.o, ENDPOINT);
      if (refused !== undefined) {
        this.fail(done, grpc.status.UNAVAILABLE, 'store', refused);
        return;
      }
      done(null, Buffer.alloc(0));
    } finally {
      this.decoders.release();
    }
  }

  /** Listens on host:port; resolves the port bound. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.server.forceShutdown(); resolve(); }, 2000);
      timer.unref();
      this.server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
  }
}
