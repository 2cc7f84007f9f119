import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeV04, type Span as WireSpan } from '@ecs-trace/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultInstrumentations, httpInstrumentation } from './instrument/index.js';
import { Tracer } from './tracer.js';

/*
 * Instrumentations are handed to a tracer and can change hands or be turned off: the first
 * tracer does not keep them forever, and a disabled instrumentation leaves node:http as it was.
 */

let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  servers = [];
  httpInstrumentation.disable();
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function agentStandIn(): Promise<{ url: string; spans: WireSpan[] }> {
  const spans: WireSpan[] = [];
  const { url } = await listen((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      for (const c of decodeV04(Buffer.concat(parts))) spans.push(...c);
      res.end('{}');
    });
  });
  return { url, spans };
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject).end();
  });
}

describe('instrumentations', () => {
  it('report to the tracer that enabled them last, and stop when disabled', async () => {
    const agentA = await agentStandIn();
    const agentB = await agentStandIn();
    const app = await listen((_req, res) => res.end('ok'));
    const a = new Tracer({ instrumentations: [httpInstrumentation] }).init({ service: 'a', url: agentA.url, flushInterval: 60_000 });
    expect(await get(app.url + '/one')).toBe(200);
    await a.flush();
    const b = new Tracer({ instrumentations: defaultInstrumentations() }).init({ service: 'b', url: agentB.url, flushInterval: 60_000 });
    expect(await get(app.url + '/two')).toBe(200);
    await b.flush();
    httpInstrumentation.disable();
    expect(await get(app.url + '/three')).toBe(200);
    await a.flush();
    await b.flush();
    // The stand-ins run in this process too, so their own requests are traced: only the app's count.
    const urls = (spans: WireSpan[]) => spans.filter((s) => s.name === 'web.request' && s.meta['http.url']!.startsWith(app.url)).map((s) => s.meta['http.url']);
    expect(urls(agentA.spans)).toEqual([app.url + '/one']);
    expect(urls(agentB.spans)).toEqual([app.url + '/two']);
    expect(agentB.spans.filter((s) => s.name === 'http.request').every((s) => s.service === 'b')).toBe(true);
  });

  it('init({ plugins: false }) turns off only the instrumentations that tracer has', async () => {
    const agentA = await agentStandIn();
    const app = await listen((_req, res) => res.end('ok'));
    const a = new Tracer({ instrumentations: [httpInstrumentation] }).init({ service: 'a', url: agentA.url, flushInterval: 60_000 });
    new Tracer({ instrumentations: [httpInstrumentation] }).init({ service: 'quiet', url: agentA.url, plugins: false });
    expect(await get(app.url + '/still-traced')).toBe(200);
    await a.flush();
    a.init({ service: 'a', url: agentA.url, plugins: false, flushInterval: 60_000 });
    expect(await get(app.url + '/untraced')).toBe(200);
    await a.flush();
    expect(agentA.spans.filter((s) => s.name === 'web.request' && s.meta['http.url']!.startsWith(app.url)).map((s) => s.meta['http.url'])).toEqual([app.url + '/still-traced']);
  });
});
