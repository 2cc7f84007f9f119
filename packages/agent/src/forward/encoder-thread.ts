import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EncodeJob } from './encode-job.js';

/*
 * The outlets' encoding on a thread of its own: decoding the kept spans back from their segment
 * blobs, writing an AgentPayload or an OTLP request and gzipping it take about as long as intake
 * spends on a span, and on the intake thread they cost forwarding 1.4-1.7x its time per span
 * (bench/forward.bench.js). Jobs run in order; the bytes waiting for the thread are bounded, and
 * a job past the bound is refused (the outlet counts it dropped, as its Sender counts a full queue).
 */

// The compiled worker, also when this module runs from its TypeScript source (tests).
const WORKER = fileURLToPath(new URL('../../dist/forward/encoder-worker.js', import.meta.url));

export interface EncoderRequest { id: number; job: EncodeJob }
export type EncoderResponse = { id: number; ok: true; body: Uint8Array } | { id: number; ok: false; message: string };

export class EncoderBusyError extends Error {
  constructor(maxBytes: number) {
    super(`the forwarding encoder is ${maxBytes} bytes behind; the batch is dropped`);
  }
}

interface Pending { resolve: (b: Buffer) => void; reject: (e: Error) => void; bytes: number }

export class EncoderThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private pendingBytes = 0;
  /** Settles once every job given so far has (they finish in order). */
  private last: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly maxPendingBytes: number) {}

  private spawn(): Worker {
    const worker = new Worker(WORKER);
    worker.on('message', (m: EncoderResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settle(m.id, p);
      if (m.ok) p.resolve(Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength));
      else p.reject(new Error(`forwarded traces could not be encoded: ${m.message}`));
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [id, p] of this.pending) {
        this.settle(id, p);
        p.reject(err);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the forwarding encoder stopped (exit ${code})`)));
    worker.unref();
    return worker;
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    this.pendingBytes -= p.bytes;
  }

  /** The job's body, gzip-compressed. */
  encode(job: EncodeJob): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('the forwarding encoder is closed'));
    let bytes = 0;
    for (const b of job.batches) bytes += b.blob.byteLength;
    // One job always goes, however large: a bound below one batch would forward nothing.
    if (this.pending.size > 0 && this.pendingBytes + bytes > this.maxPendingBytes) return Promise.reject(new EncoderBusyError(this.maxPendingBytes));
    this.worker ??= this.spawn();
    const id = this.nextId++;
    const body = new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, bytes });
      this.pendingBytes += bytes;
      this.worker!.postMessage({ id, job } satisfies EncoderRequest, job.batches.map((b) => b.blob.buffer as ArrayBuffer));
    });
    this.last = body.catch(() => undefined);
    return body;
  }

  /** Waits for the jobs already given, then ends the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await this.last;
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
