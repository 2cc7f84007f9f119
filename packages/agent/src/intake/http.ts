import { gunzip } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ByteBudget } from './byte-budget.js';

/*
 * Reading requests and writing answers the way the Datadog Agent's Go server does: header
 * booleans as strconv.ParseBool reads them, errors as http.Error writes them, bodies read up to
 * a limit and a deadline.
 */

/** Go's strconv.ParseBool false values; anything else non-empty is true, as the agent reads headers. */
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'False', 'false']);

export function headerTrue(v: string | string[] | undefined): boolean {
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && s !== '' && !FALSE_VALUES.has(s.trim());
}

export function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** An error as Go's http.Error writes it: plain text, nosniff, the message and a newline. */
export function writeError(res: ServerResponse, status: number, message: string, close = false): void {
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

/**
 * A body that could not be read: the status and the reason the agent gives for it. `overloaded`:
 * the bytes of bodies in flight stayed over their budget until the deadline.
 */
export class BodyError extends Error {
  constructor(readonly status: number, readonly reason: 'too_large' | 'timeout' | 'unexpected_eof' | 'overloaded', message: string) {
    super(message);
  }
}

export function drain(req: IncomingMessage): void {
  req.resume();
}

export function drained(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.complete) return Promise.resolve();
  return new Promise((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}

/** A body read into memory, with the bytes it holds of the budget until `release()`. */
export interface ReadBody {
  body: Buffer;
  release(): void;
}

export interface ReadBodyOptions {
  /** Largest body, in bytes. */
  limit: number;
  /** ms since the epoch; 0 for none. */
  deadline: number;
  budget: ByteBudget;
  /** How long a chunk may wait for room in the budget before the body is refused as overload. */
  budgetWaitMs: number;
}

/**
 * Reads a body up to `limit` bytes before `deadline`, taking each chunk's bytes from `budget` as
 * it arrives (the socket is paused while a chunk waits for room). On failure the bytes taken are
 * given back; on success the caller gives them back with `release()` once done with the body.
 */
export function readBody(req: IncomingMessage, o: ReadBodyOptions): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let taken = 0;
    let done = false;
    let waiting = false;
    let ended = false;
    const release = () => { o.budget.release(taken); taken = 0; };
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
        release();
        reject(err);
      } else resolve({ body: parts.length === 1 ? parts[0]! : Buffer.concat(parts, size), release });
    };
    const accept = (chunk: Buffer) => {
      taken += chunk.length;
      parts.push(chunk);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > o.limit) return finish(new BodyError(413, 'too_large', 'payload-too-large'));
      if (o.budget.tryTake(chunk.length)) return accept(chunk);
      req.pause();
      waiting = true;
      const wait = o.deadline > 0 ? Math.min(o.budgetWaitMs, o.deadline - Date.now()) : o.budgetWaitMs;
      void o.budget.take(chunk.length, wait).then((ok) => {
        waiting = false;
        if (done) { if (ok) o.budget.release(chunk.length); return; }
        if (!ok) return finish(new BodyError(429, 'overloaded', 'too many bytes of payloads in flight'));
        accept(chunk);
        if (ended) finish(undefined);
        else req.resume();
      });
    };
    const onEnd = () => {
      ended = true;
      if (!waiting) finish(undefined);
    };
    const onClose = () => { if (!ended) finish(new BodyError(400, 'unexpected_eof', 'unexpected-eof')); };
    const remaining = o.deadline > 0 ? Math.max(0, o.deadline - Date.now()) : 0;
    const timer = o.deadline > 0 ? setTimeout(() => finish(new BodyError(408, 'timeout', 'timeout')), remaining) : undefined;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

/** A gzipped body decompressed off the event loop (zlib's thread pool), at most `limit` bytes out (else ERR_BUFFER_TOO_LARGE). */
export function gunzipBounded(body: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: limit }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}
