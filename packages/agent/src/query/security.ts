import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';

/*
 * What keeps a browser from turning the API against its user. Bound to loopback, the API answers
 * only requests whose Host is a loopback name or one the operator allowed: a page on another site
 * that rebinds its DNS name to 127.0.0.1 sends its own name as Host, and is refused. Every answer
 * carries headers that forbid framing and sniffing, and pages get a CSP that loads only our files.
 */

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** The host name of a Host header, without its port (IPv6 literals keep their brackets). */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

export interface HardeningOptions {
  /** The address the API is bound to. */
  bindHost: string;
  /** Host names allowed besides loopback ones (ECS_TRACE_API_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
}

export function hardenApi(app: FastifyInstance, o: HardeningOptions): void {
  const checkHost = isLoopback(o.bindHost);
  const allowed = new Set([...LOOPBACK_NAMES, o.bindHost.toLowerCase(), ...o.allowedHosts.map((h) => h.toLowerCase())]);
  app.addHook('onRequest', async (req, reply) => {
    if (!checkHost) return;
    const name = hostName(req.headers.host ?? '');
    if (allowed.has(name) || (isIP(name) === 4 && name.startsWith('127.'))) return;
    return reply.code(403).send({ error: `Host "${name}" is not a name this API answers to (it listens on loopback, and a foreign Host is how DNS rebinding reaches it): add the name to ECS_TRACE_API_ALLOWED_HOSTS to use it` });
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('X-Content-Type-Options', 'nosniff');
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Referrer-Policy', 'no-referrer');
    void reply.header('Content-Security-Policy', CSP);
    return payload;
  });
}
