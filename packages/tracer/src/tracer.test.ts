import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeV04, type Span as WireSpan } from '@ecs-trace/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig, TracerConfigError } from './config.js';
import { extract, inject } from './propagation.js';
import { keepByRate } from './sampler.js';
import { SpanContext, USER_KEEP } from './span.js';
import { Tracer } from './tracer.js';

/* The tracer's API, its propagation and its sampling, against an agent stand-in that decodes what it gets. */

interface Received { chunks: WireSpan[][]; headers: Record<string, string | string[] | undefined> }
let servers: Server[] = [];
afterEach(() => { for (const s of servers) { s.closeAllConnections(); s.close(); } servers = []; });

async function agent(rates: Record<string, number> = {}): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const s = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      received.push({ chunks: decodeV04(Buffer.concat(parts)), headers: req.headers });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ rate_by_service: rates }));
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, received };
}

function tracerFor(url: string, extra: Parameters<Tracer['init']>[0] = {}): Tracer {
  return new Tracer().init({ service: 'svc', env: 'test', version: '1.0', url, plugins: false, flushInterval: 60_000, ...extra });
}

describe('spans', () => {
  it('nests through trace() and async work, records errors, and sends one chunk per finished trace', async () => {
    const a = await agent();
    const t = tracerFor(a.url);
    let innerParent: bigint | undefined;
    await t.trace('outer', { resource: 'job' }, async (outer) => {
      outer.setTag('count', 3).setTag('user', { id: 'u1', plan: 'pro' }).setTag('resource.name', 'job-1');
      await new Promise((r) => setTimeout(r, 5));
      expect(t.scope().active()).toBe(outer);
      t.trace('inner', (inner) => { innerParent = inner.context().parentId; });
      expect(() => t.trace('failing', () => { throw new TypeError('boom'); })).toThrow('boom');
    });
    await t.flush();
    expect(a.received).toHaveLength(1);
    const [chunk] = a.received[0]!.chunks;
    const byName = new Map(chunk!.map((s) => [s.name, s]));
    const outer = byName.get('outer')!;
    expect(innerParent).toBe(outer.spanId);
    expect(outer).toMatchObject({ resource: 'job-1', service: 'svc', parentId: 0n, metrics: { count: 3, process_id: process.pid }, meta: { 'user.id': 'u1', 'user.plan': 'pro', env: 'test', version: '1.0', language: 'javascript' } });
    expect(byName.get('failing')).toMatchObject({ error: 1, meta: { 'error.type': 'TypeError', 'error.message': 'boom' } });
    expect(byName.get('failing')!.meta['error.stack']).toContain('TypeError: boom');
    expect(chunk![0]!.metrics['_sampling_priority_v1']).toBe(1);
    expect(chunk![0]!.meta['_dd.p.tid']).toMatch(/^[0-9a-f]{8}00000000$/);
    expect(a.received[0]!.headers).toMatchObject({ 'datadog-meta-lang': 'nodejs', 'x-datadog-trace-count': '1' });
  });

  it('sends a long trace in parts while its root is still open (bounded memory)', async () => {
    const a = await agent();
    const t = tracerFor(a.url);
    await t.trace('batch', async () => {
      for (let i = 0; i < 2500; i++) t.trace('item', () => undefined);
      await t.flush();
      // Two parts of 1000 are out before the root ends; the rest waits for it.
      expect(a.received.flatMap((r) => r.chunks).map((c) => c.length)).toEqual([1000, 1000]);
    });
    await t.flush();
    const parts = a.received.flatMap((r) => r.chunks);
    expect(parts.map((c) => c.length)).toEqual([1000, 1000, 501]);
    expect(new Set(parts.flat().map((s) => s.traceId)).size).toBe(1);
    expect(parts[2]!.find((s) => s.name === 'batch')!.parentId).toBe(0n);
  });

  it('wraps functions, keeping this and arguments', async () => {
    const a = await agent();
    const t = tracerFor(a.url);
    const obj = { n: 2, twice: t.wrap('twice', function (this: { n: number }, x: number) { return x * this.n; }) };
    expect(obj.twice(21)).toBe(42);
    await t.flush();
    expect(a.received[0]!.chunks[0]![0]!.name).toBe('twice');
  });

  it('applies the agent\'s rate for its service and env, and a sampling rule over it', async () => {
    const a = await agent({ 'service:svc,env:test': 0 });
    const t = tracerFor(a.url);
    t.trace('first', () => undefined);
    await t.flush();
    const dropped = t.startSpan('second');
    expect(dropped.context().trace.priority).toBe(0);
    expect(dropped.metrics['_dd.agent_psr']).toBe(0);
    const kept = tracerFor(a.url, { sampleRate: 1 }).startSpan('ruled');
    expect(kept.context().trace.priority).toBe(USER_KEEP);
    expect(kept.metrics['_dd.rule_psr']).toBe(1);
  });

  it('changes the agent at run time with configure({ hostname })', async () => {
    const a = await agent();
    const b = await agent();
    const t = tracerFor(a.url);
    const port = Number(new URL(b.url).port);
    t.configure({ hostname: '127.0.0.1', port });
    expect(t.agentUrl()).toBe(`${b.url}/`);
    t.trace('moved', () => undefined);
    await t.flush();
    expect(a.received).toHaveLength(0);
    expect(b.received).toHaveLength(1);
  });
});

describe('propagation', () => {
  const ctx = () => {
    const t = new Tracer().init({ enabled: false, plugins: false });
    const s = t.startSpan('x', { childOf: null });
    s.context().trace.priority = 1;
    s.context().trace.tags['_dd.p.dm'] = '-1';
    return s.context();
  };

  it('writes Datadog and W3C headers that read back to the same trace', () => {
    const c = ctx();
    const h: Record<string, string> = {};
    inject(c, h);
    expect(h['x-datadog-trace-id']).toBe(c.traceId.toString());
    expect(h['x-datadog-tags']).toContain('_dd.p.dm=-1');
    expect(h['traceparent']).toBe(`00-${c.toTraceId(true)}-${c.toSpanId(true)}-01`);
    expect(h['tracestate']).toMatch(/^dd=s:1;p:[0-9a-f]{16};t.tid:[0-9a-f]{16};t.dm:-1$/);
    const back = extract(h)!;
    expect([back.traceId, back.spanId, back.trace.priority, back.trace.tags['_dd.p.tid'], back.remote]).toEqual([c.traceId, c.spanId, 1, c.trace.tags['_dd.p.tid'], true]);
  });

  it('reads W3C alone, keeps other vendors\' tracestate, and ignores invalid traceparents', () => {
    const w3c = extract({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'dd=s:2;o:rum,congo=t61rcWkgMzE' })!;
    expect(w3c.traceId).toBe(0xa3ce929d0e0e4736n);
    expect(w3c.spanId).toBe(0x00f067aa0ba902b7n);
    expect(w3c.trace).toMatchObject({ priority: 2, origin: 'rum', tags: { '_dd.p.tid': '4bf92f3577b34da6' } });
    const h: Record<string, string> = {};
    inject(new SpanContext(w3c.traceId, 7n, w3c.spanId, w3c.trace), h);
    expect(h['tracestate']).toContain('congo=t61rcWkgMzE');
    expect(extract({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' })).toBeUndefined();
    expect(extract({ traceparent: 'garbage' })).toBeUndefined();
    expect(extract({ 'x-datadog-trace-id': 'abc', 'x-datadog-parent-id': '1' })).toBeUndefined();
  });

  it('takes the sampled flag over a disagreeing dd priority', () => {
    expect(extract({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', tracestate: 'dd=s:1' })!.trace.priority).toBe(0);
  });
});

describe('keepByRate', () => {
  it('keeps about rate x n of trace ids, deterministically', () => {
    let kept = 0;
    for (let i = 1n; i <= 20_000n; i++) if (keepByRate(i * 7919n, 0.3)) kept++;
    expect(kept / 20_000).toBeCloseTo(0.3, 1);
  });
});

describe('configuration from the environment (dd-trace\'s variables)', () => {
  it('reads service, env, version, tags, rate and the agent address', () => {
    const c = resolveConfig({}, { DD_SERVICE: 'api', DD_ENV: 'prod', DD_VERSION: '2', DD_TAGS: 'team:a,tier:web', DD_TRACE_SAMPLE_RATE: '0.5', DD_AGENT_HOST: '10.0.0.8', DD_TRACE_AGENT_PORT: '9126' });
    expect(c).toMatchObject({ service: 'api', env: 'prod', version: '2', tags: { team: 'a', tier: 'web' }, sampleRate: 0.5, enabled: true });
    expect(c.agent).toEqual({ kind: 'url', url: new URL('http://10.0.0.8:9126') });
  });

  it('prefers DD_TRACE_AGENT_URL, discovers on ECS, and defaults to loopback elsewhere', () => {
    expect(resolveConfig({}, { DD_TRACE_AGENT_URL: 'unix:///var/run/datadog/apm.socket', DD_AGENT_HOST: 'x' }).agent).toEqual({ kind: 'url', url: new URL('unix:///var/run/datadog/apm.socket') });
    expect(resolveConfig({}, { AWS_EXECUTION_ENV: 'AWS_ECS_EC2' }).agent).toEqual({ kind: 'auto' });
    expect(resolveConfig({ hostname: 'auto' }, {}).agent).toEqual({ kind: 'auto' });
    expect(resolveConfig({}, {}).agent).toEqual({ kind: 'url', url: new URL('http://127.0.0.1:8126') });
    expect(resolveConfig({}, { DD_TRACE_ENABLED: 'false' }).enabled).toBe(false);
  });

  it('names the setting when a value is wrong', () => {
    expect(() => resolveConfig({}, { DD_TRACE_AGENT_PORT: 'x' })).toThrow(new TracerConfigError('port: "x" is not a port number'));
    expect(() => resolveConfig({ sampleRate: 2 }, {})).toThrow('sampleRate: 2 is not between 0 and 1');
  });
});
