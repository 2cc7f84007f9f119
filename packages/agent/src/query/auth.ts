import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/*
 * The API token. With ECS_TRACE_API_TOKEN set, every API call carries it, as
 * `Authorization: Bearer <token>` or in the HttpOnly, SameSite=Strict cookie the UI's sign-in
 * sets (POST /api/v1/session); without it the answer is 401. The UI's own files load without it
 * (they hold no data: the sign-in form is one of them), and /healthz answers a load balancer,
 * saying nothing but whether the agent is well. Tokens are compared in constant time.
 */

export const SESSION_COOKIE = 'ecs_trace_token';

/** Hashed first, so that the comparison takes the same time whatever the lengths. */
function sameToken(given: string, expected: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), expected);
}

function presented(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Whether a request may see data: always without a token; with one, when it carries it. */
export type Authorizer = (req: FastifyRequest) => boolean;

export function installAuth(app: FastifyInstance, token: string | undefined): Authorizer {
  if (!token) return () => true;
  const expected = createHash('sha256').update(token).digest();
  const authorized: Authorizer = (req) => {
    const t = presented(req);
    return t !== undefined && sameToken(t, expected);
  };
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const data = path.startsWith('/api/') || path === '/metrics';
    if (!data || path === '/api/v1/session' || authorized(req)) return;
    return reply.code(401).header('WWW-Authenticate', 'Bearer realm="ecs-trace"').send({ error: 'this API needs its token: Authorization: Bearer <ECS_TRACE_API_TOKEN>, or sign in on the web UI' });
  });
  app.post<{ Body: { token?: unknown } }>('/api/v1/session', async (req, reply) => {
    const given = typeof req.body?.token === 'string' ? req.body.token : '';
    if (!sameToken(given, expected)) return reply.code(401).send({ error: 'wrong token' });
    void reply.header('Set-Cookie', `${SESSION_COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/`);
    return { ok: true };
  });
  app.delete('/api/v1/session', async (_req, reply) => {
    void reply.header('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return { ok: true };
  });
  return authorized;
}
