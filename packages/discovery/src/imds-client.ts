import { request } from 'node:http';

/*
 * A minimal IMDS client with the fallback rules of AWS's own SDKs (ecs-spec 1.9): a token PUT
 * answered 403/404/405, refused or timed out means "IMDSv2 unavailable, try IMDSv1"; a 400 is a
 * hard error. Only node:http: discovery runs before the app and must not pull in the AWS SDK.
 */

export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';
export const DEFAULT_IMDS_IPV6_ENDPOINT = 'http://[fd00:ec2::254]';
export const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
export const TOKEN_HEADER = 'x-aws-ec2-metadata-token';

/** How an HTTP exchange with IMDS ended when it produced no usable answer. */
export type ImdsFailure =
  | { kind: 'status'; status: number; body: string }
  /** Nothing accepted the connection in time (no IMDS here, or a firewall drops it). */
  | { kind: 'connect-timeout' }
  /** Connected, but no response came: for a token PUT, the hop-limit-1 symptom. */
  | { kind: 'response-timeout' }
  | { kind: 'network'; code: string; message: string };

export type ImdsResult = { ok: true; body: string; headers: Record<string, string | string[] | undefined> } | { ok: false; failure: ImdsFailure };

export interface ImdsRequest {
  endpoint: string;
  method: 'GET' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** One request to IMDS, bounded by `timeoutMs` from start to last byte. Never throws. */
export function imdsRequest(r: ImdsRequest): Promise<ImdsResult> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(r.path, r.endpoint);
    } catch {
      resolve({ ok: false, failure: { kind: 'network', code: 'EINVAL', message: `invalid IMDS endpoint ${JSON.stringify(r.endpoint)}` } });
      return;
    }
    let connected = false;
    let settled = false;
    const done = (result: ImdsResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request({
      // Node wants IPv6 literals without brackets.
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 80,
      path: url.pathname,
      method: r.method,
      headers: r.headers,
      agent: false,
    }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        const status = res.statusCode ?? 0;
        done(status === 200 ? { ok: true, body, headers: res.headers } : { ok: false, failure: { kind: 'status', status, body } });
      });
      res.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, failure: { kind: 'network', code: err.code ?? 'EIO', message: err.message } }));
    });
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => { connected = true; });
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, failure: { kind: 'network', code: err.code ?? 'EIO', message: err.message } }));
    const timer = setTimeout(() => done({ ok: false, failure: { kind: connected ? 'response-timeout' : 'connect-timeout' } }), Math.max(1, r.timeoutMs));
    req.end();
  });
}

/** A failure as a sentence a user can act on. */
export function describeFailure(f: ImdsFailure, what: string, timeoutMs: number): string {
  switch (f.kind) {
    case 'status': return `${what} answered HTTP ${f.status}`;
    case 'connect-timeout': return `${what}: no connection within ${timeoutMs} ms (no IMDS reachable at this endpoint)`;
    case 'response-timeout': return `${what}: connected, but no answer within ${timeoutMs} ms`;
    case 'network': return `${what}: ${f.code === 'ECONNREFUSED' ? 'connection refused' : f.message}`;
  }
}
