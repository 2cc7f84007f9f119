import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { componentsAvailable } from '../../../../e2e/components.js';
import { freePort } from '../../../../e2e/ports.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../store/postgres/test-server.js';
import { startAgent } from '../agent.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../runtime/index.js';
import { startTestAgent, type TestAgent } from '../testing.js';
import type { ApiRoute } from './server.js';
import { AttemptLimiter } from './attempt-limiter.js';

/*
 * The perimeter: every route but the public ones needs the token, however its path is spelled.
 * Paths are sent as raw bytes (node:http), since fetch would normalize the very spellings an
 * attacker uses.
 */

/** What routes with required parameters are given, so that with the token they answer as themselves. */
const REQUIRED_PARAMS: Record<string, string> = { '/api/v1/analytics': '?groupBy=service', '/api/v1/facets': '?keys=service' };
const TOKEN = 'a-token-of-at-least-16-chars';

interface Answer { status: number; type: string; body: string; headers: Record<string, string | string[] | undefined> }

function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, agent: false, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(parts).toString(), headers: res.headers }));
    });
    // A request the server refuses as malformed (a 400 with a body, to a HEAD) may not parse.
    req.on('error', (err) => (err.message.startsWith('Parse Error') ? resolve({ status: 0, type: '', body: err.message, headers: {} }) : reject(err)));
    req.end(body);
  });
}

/** A concrete path for a route pattern: parameters filled with values the handler accepts. */
const concrete = (url: string) => url.replace(/:traceId/g, '0000000000000000000000000000abcd').replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'x');

/** Spellings of one path that a router may take for it: encoded, doubled, dotted, cased, slashed. */
function spellings(path: string): string[] {
  const segs = path.split('/').slice(1);
  const enc = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
  const out = new Set<string>([
    path,
    `/${segs.map((s, i) => (i === 0 ? `%${s.charCodeAt(0).toString(16)}${s.slice(1)}` : s)).join('/')}`,
    `/${segs.map((s, i) => (i === 0 ? `%${s.charCodeAt(0).toString(16).toUpperCase()}${s.slice(1)}` : s)).join('/')}`,
    `/${segs.map(enc).join('/')}`,
    `/${segs.map((s) => s.replace(/^(.)/, (c) => enc(c))).join('/')}`,
    `/${segs.join('//')}`,
    `/${path}`,
    `/./${segs.join('/./')}`,
    `/x/..${path}`,
    `/${segs.join('/%2e/')}`,
    path.toUpperCase(),
    `${path}/`,
    `${path}?`,
    `${path}%00`,
    `${path};x`,
    `${path}#x`,
    path.replace(/\//g, '%2f'),
    path.replace(/\//g, '\\'),
  ]);
  return [...out];
}

async function walk(apiUrl: string, routes: readonly ApiRoute[]): Promise<void> {
  const guarded = routes.filter((r) => !r.public && r.method !== 'OPTIONS');
  expect(guarded.map((r) => r.url)).toEqual(expect.arrayContaining(['/api/v1/traces/:traceId', '/api/v1/services', '/api/v1/errors', '/api/v1/live', '/metrics']));
  for (const route of guarded) {
    const page = await raw(apiUrl, route.method, '/');
    const path = concrete(route.url);
    for (const spelled of spellings(path)) {
      const a = await raw(apiUrl, route.method, spelled);
      // Refused, not found, or the UI's own page (which holds no data): never the route's answer.
      const pageAgain = a.status === page.status && a.type === page.type && a.body === page.body;
      if (!([0, 400, 401, 404, 405].includes(a.status) || pageAgain)) {
        throw new Error(`${route.method} ${spelled} (the route ${route.url}) answered ${a.status} ${a.type} without the token: ${a.body.slice(0, 200)}`);
      }
    }
    // With the token the route answers as itself (the live view is a stream: its head is enough).
    if (route.url !== '/api/v1/live' && route.method === 'GET') {
      const ok = await raw(apiUrl, route.method, path + (REQUIRED_PARAMS[route.url] ?? ''), { authorization: `Bearer ${TOKEN}` });
      expect([200, 404, 503], `${route.method} ${path} with the token`).toContain(ok.status);
    }
  }
}

describe('authorization by route', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ ECS_TRACE_API_TOKEN: TOKEN }); });
  afterAll(async () => { await agent.close(); });

  it('walks every route of the agent with every spelling of its path: none answers without the token', async () => {
    expect(agent.apiRoutes.filter((r) => r.public).map((r) => `${r.method} ${r.url}`).sort()).toEqual(['DELETE /api/v1/session', 'GET /healthz', 'HEAD /healthz', 'POST /api/v1/session']);
    await walk(agent.apiUrl, agent.apiRoutes);
  }, 60_000);

  it('keeps the UI\'s files and /healthz public', async () => {
    expect((await raw(agent.apiUrl, 'GET', '/services/checkout')).status).toBe(200);
    expect(JSON.parse((await raw(agent.apiUrl, 'GET', '/healthz')).body)).toEqual({ status: 'ok' });
  });
});

const pgAvailable = componentsAvailable(postgresUnavailable(), 'the route walk of `ecs-trace ui`');
describe.runIf(pgAvailable)('authorization by route on ecs-trace ui', () => {
  let server: TestPostgres;
  beforeAll(async () => { server = startTestPostgres(await freePort()); }, 60_000);
  afterAll(() => server?.stop());

  it('walks every route of a UI replica with every spelling of its path', async () => {
    const config = loadConfig({ env: { ECS_TRACE_STORE: server.database('ui_walk'), ECS_TRACE_API_TOKEN: TOKEN, DD_LOG_LEVEL: 'off' } });
    const ui = await startAgent(config, { role: 'ui', ephemeralPorts: true, containerized: false, env: {}, log: createLogger('off') });
    try {
      await walk(`http://127.0.0.1:${ui.api.port}`, ui.apiRoutes);
    } finally {
      await ui.close();
    }
  }, 90_000);
});

describe('sessions', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ ECS_TRACE_API_TOKEN: TOKEN, ECS_TRACE_API_TRUST_PROXY: '127.0.0.1' }); });
  afterAll(async () => { await agent.close(); });
  const signIn = (headers: Record<string, string> = {}) => raw(agent.apiUrl, 'POST', '/api/v1/session', headers, JSON.stringify({ token: TOKEN }));
  const cookieOf = (a: Answer) => String(a.headers['set-cookie']).split(';')[0]!;

  it('keeps a signed, expiring session in the cookie, not the token', async () => {
    const a = await signIn();
    expect(a.status).toBe(200);
    const set = String(a.headers['set-cookie']);
    expect(set).toMatch(/^ecs_trace_session=[\w.-]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    expect(set).not.toContain(TOKEN);
    expect(set).not.toContain(encodeURIComponent(TOKEN));
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/services', { cookie: cookieOf(a) })).status).toBe(200);
    // The token itself in the cookie is no session; nor is a session with its signature changed.
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/services', { cookie: `ecs_trace_session=${TOKEN}` })).status).toBe(401);
    const [exp, id] = cookieOf(a).split('=')[1]!.split('.');
    const later = `ecs_trace_session=${(parseInt(exp!, 36) + 86_400_000).toString(36)}.${id}.${cookieOf(a).split('.')[2]}`;
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/services', { cookie: later })).status).toBe(401);
  });

  it('marks the cookie Secure when a trusted proxy says the browser came over TLS', async () => {
    expect(String((await signIn({ 'x-forwarded-proto': 'https' })).headers['set-cookie'])).toMatch(/; Secure$/);
    expect(String((await signIn()).headers['set-cookie'])).not.toContain('Secure');
  });

  it('ends the session on sign-out: the same cookie is refused after', async () => {
    const cookie = cookieOf(await signIn());
    const other = cookieOf(await signIn());
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/errors', { cookie })).status).toBe(200);
    const out = await raw(agent.apiUrl, 'DELETE', '/api/v1/session', { cookie });
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/errors', { cookie })).status).toBe(401);
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/errors', { cookie: other })).status).toBe(200);
  });

  it('does not believe X-Forwarded-Proto from an address it was not told to trust', async () => {
    const plain = await startTestAgent({ ECS_TRACE_API_TOKEN: TOKEN });
    try {
      const a = await raw(plain.apiUrl, 'POST', '/api/v1/session', { 'x-forwarded-proto': 'https' }, JSON.stringify({ token: TOKEN }));
      expect(String(a.headers['set-cookie'])).not.toContain('Secure');
    } finally {
      await plain.close();
    }
  });

  it('ends every session when the token changes', async () => {
    const cookie = cookieOf(await signIn());
    const next = await startTestAgent({ ECS_TRACE_API_TOKEN: `${TOKEN}-rotated` });
    try {
      expect((await raw(next.apiUrl, 'GET', '/api/v1/services', { cookie })).status).toBe(401);
    } finally {
      await next.close();
    }
  });
});

describe('guessing the token', () => {
  let agent: TestAgent;
  beforeEach(async () => { agent = await startTestAgent({ ECS_TRACE_API_TOKEN: TOKEN }); });
  afterEach(async () => { await agent.close(); });

  it('refuses an address with 429 and Retry-After after 10 wrong tokens, even the right one next', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await raw(agent.apiUrl, 'POST', '/api/v1/session', {}, JSON.stringify({ token: `guess-number-${i}-of-many` }))).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    const right = await raw(agent.apiUrl, 'POST', '/api/v1/session', {}, JSON.stringify({ token: TOKEN }));
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(right.body).error).toMatch(/^too many wrong tokens from this address: try again in \d+ s$/);
  });

  it('counts wrong Bearer tokens on data routes the same way', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await raw(agent.apiUrl, 'GET', '/api/v1/services', { authorization: `Bearer guess-number-${i}-of-many` })).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/services', { authorization: `Bearer ${TOKEN}` })).status).toBe(429);
    // A request that presents nothing is no guess: it is told to sign in.
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/services')).status).toBe(401);
  });

  it('counts guesses at /healthz too, whose fuller answer would tell a right token from a wrong one', async () => {
    for (let i = 0; i < 10; i++) expect(JSON.parse((await raw(agent.apiUrl, 'GET', '/healthz', { authorization: `Bearer guess-number-${i}-of-many` })).body)).toEqual({ status: 'ok' });
    // The right token now gets the short answer too, and data routes refuse the address.
    expect(JSON.parse((await raw(agent.apiUrl, 'GET', '/healthz', { authorization: `Bearer ${TOKEN}` })).body)).toEqual({ status: 'ok' });
    expect((await raw(agent.apiUrl, 'GET', '/api/v1/services', { authorization: `Bearer ${TOKEN}` })).status).toBe(429);
  });
});

describe('AttemptLimiter', () => {
  it('lets an address back in as its bucket refills, one wrong token per 6 s', () => {
    let now = 0;
    const l = new AttemptLimiter({ now: () => now });
    for (let i = 0; i < 10; i++) l.failed('a');
    expect(l.blockedFor('a')).toBe(6);
    expect(l.blockedFor('b')).toBe(0);
    now += 6_000;
    expect(l.blockedFor('a')).toBe(0);
    l.failed('a');
    expect(l.blockedFor('a')).toBe(6);
    now += 60_000;
    expect(l.blockedFor('a')).toBe(0);
  });

  it('bounds sign-ins from every address together', () => {
    let now = 0;
    const l = new AttemptLimiter({ now: () => now, signIns: 3 });
    expect([l.signIn(), l.signIn(), l.signIn(), l.signIn()]).toEqual([0, 0, 0, 20]);
    now += 20_000;
    expect(l.signIn()).toBe(0);
  });

  it('remembers a bounded number of addresses, forgetting the oldest', () => {
    const l = new AttemptLimiter({ now: () => 0, perAddress: 1, maxAddresses: 2 });
    l.failed('a'); l.failed('b'); l.failed('c');
    expect([l.blockedFor('a'), l.blockedFor('b'), l.blockedFor('c')]).toEqual([0, 60, 60]);
  });
});
