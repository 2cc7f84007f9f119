import type { IncomingMessage, ServerResponse } from 'node:http';

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

/** A body that could not be read: the status and the reason the agent gives for it. */
export class BodyError extends Error {
  constructor(readonly status: number, readonly reason: 'too_large' | 'timeout' | 'unexpected_eof', message: string) {
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

/** Reads a body up to `limit` bytes before `deadline` (ms epoch; 0 for none). */
export function readBody(req: IncomingMessage, limit: number, deadline: number): Promise<Buffer> {
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
