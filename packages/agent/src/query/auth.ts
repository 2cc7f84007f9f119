import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AttemptLimiter } from './attempt-limiter.js';

/*
 * The API token. With ECS_TRACE_API_TOKEN set, every route needs it unless the route itself says
 * `config: { public: true }` (deny by default): the decision is made on the route the router
 * matched, never on the raw URL, so `/%61pi/...`, `//api/...` or `/api/./...` reach a route only
 * as that route, with its rule. Public are the web UI's files (the not-found handler serves
 * them, and they hold no data), the sign-in call and /healthz.
 *
 * A call carries the token as `Authorization: Bearer <token>`, or the session cookie the UI's
 * sign-in sets. The cookie is not the token: it is an expiring session signed with a key derived
 * from the token (so any replica of `ecs-trace ui` behind a load balancer accepts it, and changing
 * the token ends every session), revoked by sign-out. Failed attempts are limited per client
 * address, and sign-ins globally, with 429 and Retry-After. Tokens and signatures are compared in
 * constant time.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the token. Everything else needs it. */
    public?: boolean;
  }
}

export const SESSION_COOKIE = 'ecs_trace_session';

export interface AuthOptions {
  /** The API token; undefined: none asked (the API is on loopback, or opened on purpose). */
  token: string | undefined;
  /** How long a sign-in lasts. */
  sessionTtlMs: number;
  /** Mark the cookie Secure even when the request did not come over TLS (TLS ends before us). */
  secureCookie: boolean;
  now?: () => number;
}

/** Whether a request may see data: always without a token; with one, when it carries it. */
export type Authorizer = (req: FastifyRequest) => boolean;

/** Sign-outs remembered until their session would have expired anyway; bounded. */
const MAX_REVOKED = 10_000;

const b64url = (b: Buffer): string => b.toString('base64url');

class Sessions {
  private readonly key: Buffer;
  /** Revoked session ids, by when they expire (insertion order: oldest sign-out first). */
  private readonly revoked = new Map<string, number>();

  constructor(token: string, private readonly ttlMs: number, private readonly now: () => number) {
    this.key = createHmac('sha256', token).update('ecs-trace session key v1').digest();
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }

  create(): { value: string; maxAgeS: number } {
    const body = `${(this.now() + this.ttlMs).toString(36)}.${b64url(randomBytes(18))}`;
    return { value: `${body}.${b64url(this.mac(body))}`, maxAgeS: Math.floor(this.ttlMs / 1000) };
  }

  /** The session's id and expiry when the value is one we signed, unexpired and not revoked. */
  verify(value: string): { id: string; expires: number } | undefined {
    const [exp, id, sig, extra] = value.split('.');
    if (exp === undefined || id === undefined || sig === undefined || extra !== undefined) return undefined;
    const given = Buffer.from(sig, 'base64url');
    const want = this.mac(`${exp}.${id}`);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
    const expires = parseInt(exp, 36);
    if (!(expires > this.now()) || this.revoked.has(id)) return undefined;
    return { id, expires };
  }

  revoke(id: string, expires: number): void {
    const now = this.now();
    for (const [k, e] of this.revoked) {
      if (e > now && this.revoked.size < MAX_REVOKED) break;
      this.revoked.delete(k);
    }
    this.revoked.set(id, expires);
  }
}

function cookieValue(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function bearer(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  return auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
}

const UNAUTHORIZED = { error: 'this API needs its token: Authorization: Bearer <ECS_TRACE_API_TOKEN>, or sign in on the web UI' };

export function installAuth(app: FastifyInstance, o: AuthOptions): Authorizer {
  const token = o.token;
  if (!token) return () => true;
  const now = o.now ?? Date.now;
  const expected = createHash('sha256').update(token).digest();
  /** Hashed first, so that the comparison takes the same time whatever the lengths. */
  const sameToken = (given: string): boolean => timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  const sessions = new Sessions(token, o.sessionTtlMs, now);
  const limiter = new AttemptLimiter({ now });

  const refuse = (reply: FastifyReply, retryAfterS: number, what: string) =>
    reply.code(429).header('Retry-After', String(retryAfterS)).send({ error: `too many ${what}: try again in ${retryAfterS} s` });

  /**
   * What the request's credential says, counted: `none` when it presents none, `blocked` when its
   * address has spent its wrong tokens (the credential is not even checked), else whether it is
   * right (a wrong one counts against the address).
   */
  const judge = (req: FastifyRequest): 'ok' | 'wrong' | 'none' | { blocked: number } => {
    const b = bearer(req);
    const c = b === undefined ? cookieValue(req, SESSION_COOKIE) : undefined;
    if (b === undefined && c === undefined) return 'none';
    const blocked = limiter.blockedFor(req.ip);
    if (blocked > 0) return { blocked };
    if (b !== undefined ? sameToken(b) : c !== undefined && sessions.verify(c) !== undefined) return 'ok';
    limiter.failed(req.ip);
    return 'wrong';
  };
  // /healthz's fuller answer is a route's answer too: a guess there counts as anywhere.
  const authorized: Authorizer = (req) => judge(req) === 'ok';

  app.addHook('onRequest', async (req, reply) => {
    // The UI's files come from the not-found handler; every route not marked public needs the token.
    if (req.is404 || req.routeOptions.config.public === true) return;
    const verdict = judge(req);
    if (verdict === 'ok') return;
    if (typeof verdict === 'object') return refuse(reply, verdict.blocked, 'wrong tokens from this address');
    return reply.code(401).header('WWW-Authenticate', 'Bearer realm="ecs-trace"').send(UNAUTHORIZED);
  });

  app.post<{ Body: { token?: unknown } }>('/api/v1/session', { config: { public: true } }, async (req, reply) => {
    const blocked = limiter.blockedFor(req.ip);
    if (blocked > 0) return refuse(reply, blocked, 'wrong tokens from this address');
    const wait = limiter.signIn();
    if (wait > 0) return refuse(reply, wait, 'sign-in attempts');
    const given = typeof req.body?.token === 'string' ? req.body.token : '';
    if (!sameToken(given)) {
      limiter.failed(req.ip);
      return reply.code(401).send({ error: 'wrong token' });
    }
    const s = sessions.create();
    // Secure when the browser reached us over TLS (req.protocol believes X-Forwarded-Proto only
    // from a trusted proxy: ECS_TRACE_API_TRUST_PROXY) or when told to.
    const secure = o.secureCookie || req.protocol === 'https' ? '; Secure' : '';
    void reply.header('Set-Cookie', `${SESSION_COOKIE}=${s.value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${s.maxAgeS}${secure}`);
    return { ok: true };
  });

  app.delete('/api/v1/session', { config: { public: true } }, async (req, reply) => {
    const c = cookieValue(req, SESSION_COOKIE);
    const s = c === undefined ? undefined : sessions.verify(c);
    if (s) sessions.revoke(s.id, s.expires);
    void reply.header('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return { ok: true };
  });
  return authorized;
}
