import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { BUILD, randomId, startApp } from './languages.js';
import { waitForTrace } from './traces.js';

/*
 * OTLP intake with the real OpenTelemetry SDK for Node, over http/protobuf and http/json: the
 * spans come back as Datadog spans mapped as the Datadog Agent maps them; a trace that starts in
 * a dd-trace service and continues in an OTel one (W3C traceparent) comes back whole.
 */

const OTEL_APP = fileURLToPath(new URL('./apps/otel-app.mjs', import.meta.url));
const DD_APP = fileURLToPath(new URL('./apps/dd-trace-server.cjs', import.meta.url));
const PY_OTEL_APP = fileURLToPath(new URL('./apps/python/otel_app.py', import.meta.url));
const PY_OTEL = join(BUILD, 'python-otel/bin/python');
const GO_OTEL = join(BUILD, 'go/otel-app');
const goReady = componentsAvailable(existsSync(GO_OTEL) ? undefined : `the OpenTelemetry SDK for Go app is not built (${GO_OTEL}): bash e2e/apps/prepare.sh go`, 'OTLP tests with the Go SDK');
const pythonReady = componentsAvailable(existsSync(PY_OTEL) ? undefined : `the OpenTelemetry SDK for Python is not installed (${PY_OTEL}): bash e2e/apps/prepare.sh python-otel`, 'OTLP tests with the Python SDK');

interface ApiSpan { traceId: string; spanId: string; parentId: string; service: string; name: string; resource: string; type: string; error: number; env: string; meta: Record<string, string>; metrics: Record<string, number> }
interface ApiTrace { summary: { services: string[]; spanCount: number }; spans: ApiSpan[] }

/** A W3C traceparent with a known id, as an upstream service would send it. */
function traceparent(): { header: string; traceHex: string; low: string; parent: string } {
  const high = randomId().hex;
  const low = randomId().hex;
  const parent = randomId().hex;
  return { header: `00-${high}${low}-${parent}-01`, traceHex: `${high}${low}`, low, parent };
}

describe('OTLP intake with the real OpenTelemetry SDKs', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent({ ECS_TRACE_OTLP: 'true' }); });
  afterAll(async () => { await agent?.close(); });

  it.each(['proto', 'json', 'grpc'])('over %s: spans mapped as the Datadog Agent maps them', async (protocol) => {
    const app = await startApp([process.execPath, OTEL_APP], { OTLP_URL: agent.otlpUrl, OTLP_GRPC: agent.otlpGrpc, OTLP_PROTOCOL: protocol, SERVICE: `otel-${protocol}` });
    const ok = traceparent();
    const bad = traceparent();
    let trace: ApiTrace;
    let failed: ApiTrace;
    try {
      expect((await fetch(`http://127.0.0.1:${app.port}/work`, { headers: { traceparent: ok.header } })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${app.port}/work?fail=1`, { headers: { traceparent: bad.header } })).status).toBe(500);
      trace = await waitForTrace<ApiTrace>(agent.apiUrl, ok.traceHex, 2, 30_000);
      failed = await waitForTrace<ApiTrace>(agent.apiUrl, bad.traceHex, 2, 30_000);
    } finally {
      await app.stop();
    }
    const server = trace.spans.find((s) => s.name === 'http.server.request')!;
    expect(server).toMatchObject({ traceId: ok.traceHex, parentId: ok.parent, service: `otel-${protocol}`, resource: 'GET /work', type: 'web', error: 0, env: 'e2e' });
    expect(server.meta).toMatchObject({ 'span.kind': 'server', 'http.method': 'GET', 'otel.trace_id': ok.traceHex, 'otel.library.name': 'ecs-trace-e2e', version: '2.0.1', 'otel.status_code': 'Unset' });
    expect(server.metrics['http.status_code']).toBe(200);
    const child = trace.spans.find((s) => s.resource === 'work.compute')!;
    expect(child).toMatchObject({ parentId: server.spanId, name: 'Internal', type: 'custom' });
    expect(child.meta['custom.tag']).toBe('otel');
    expect(child.metrics['custom.metric']).toBe(42);
    expect(JSON.parse(child.meta['events']!)).toEqual([expect.objectContaining({ name: 'step', attributes: { 'step.number': 1 } })]);
    const failing = failed.spans.find((s) => s.name === 'http.server.request')!;
    expect(failing).toMatchObject({ error: 1 });
    expect(failing.meta).toMatchObject({ 'error.msg': 'boom otel', 'error.type': 'TypeError', 'otel.status_code': 'Error', 'otel.status_description': 'failed on purpose' });
    expect(failing.meta['error.stack']).toMatch(/^TypeError: boom otel\n\s+at /);
    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    const endpoint = protocol === 'grpc' ? 'otlp grpc' : 'otlp \\/v1\\/traces';
    // /metrics says which OTLP intakes are on.
    expect(metrics).toContain('ecs_trace_receiver_otlp_listening{protocol="http"} 1');
    expect(metrics).toContain('ecs_trace_receiver_otlp_listening{protocol="grpc"} 1');
    expect(metrics).toMatch(new RegExp(`ecs_trace_receiver_payloads_total\\{endpoint="${endpoint}",lang="nodejs",tracer_version="otlp-2\\.[^"]+"\\} [1-9]`));
  }, 60_000);

  it('obfuscates a SQL span from the SDK as a tracer\'s: db.system names its type, as the Agent\'s table does', async () => {
    const app = await startApp([process.execPath, OTEL_APP], { OTLP_URL: agent.otlpUrl, OTLP_PROTOCOL: 'proto', SERVICE: 'otel-db' });
    const tp = traceparent();
    let trace: ApiTrace;
    try {
      expect((await fetch(`http://127.0.0.1:${app.port}/work?db=1`, { headers: { traceparent: tp.header } })).status).toBe(200);
      trace = await waitForTrace<ApiTrace>(agent.apiUrl, tp.traceHex, 3, 30_000);
    } finally {
      await app.stop();
    }
    const db = trace.spans.find((s) => s.name === 'postgresql.query')!;
    expect(db).toMatchObject({ type: 'sql', resource: 'SELECT * FROM users WHERE email = ? AND id = ?' });
    expect(JSON.stringify(db)).not.toContain('ann@example.com');
    expect(db.meta['db.system']).toBe('postgresql');
  }, 60_000);

  it.runIf(pythonReady)('the real OpenTelemetry SDK for Python (http/protobuf)', async () => {
    const app = await startApp([PY_OTEL, PY_OTEL_APP], { OTLP_URL: agent.otlpUrl, SERVICE: 'otel-python' });
    const ok = traceparent();
    const bad = traceparent();
    let trace: ApiTrace;
    let failed: ApiTrace;
    try {
      expect((await fetch(`http://127.0.0.1:${app.port}/work`, { headers: { traceparent: ok.header } })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${app.port}/work?fail=1`, { headers: { traceparent: bad.header } })).status).toBe(500);
      trace = await waitForTrace<ApiTrace>(agent.apiUrl, ok.traceHex, 2, 30_000);
      failed = await waitForTrace<ApiTrace>(agent.apiUrl, bad.traceHex, 1, 30_000);
    } finally {
      await app.stop();
    }
    const server = trace.spans.find((s) => s.name === 'http.server.request')!;
    expect(server).toMatchObject({ parentId: ok.parent, service: 'otel-python', resource: 'GET /work', type: 'web', env: 'e2e' });
    const child = trace.spans.find((s) => s.resource === 'work.compute')!;
    expect(child).toMatchObject({ parentId: server.spanId });
    expect(child.meta['custom.tag']).toBe('python');
    expect(child.metrics['custom.metric']).toBe(42);
    expect(failed.spans.find((s) => s.name === 'http.server.request')!.meta).toMatchObject({ 'error.msg': 'boom python', 'error.type': 'ValueError' });
    expect(await (await fetch(`${agent.apiUrl}/metrics`)).text()).toMatch(/ecs_trace_receiver_payloads_total\{endpoint="otlp \/v1\/traces",lang="python",tracer_version="otlp-1\.45\.2"\} [1-9]/);
  }, 60_000);

  it.runIf(goReady)('the real OpenTelemetry SDK for Go (otlptracehttp)', async () => {
    const app = await startApp([GO_OTEL], { OTLP_ENDPOINT: agent.otlpUrl.replace('http://', ''), SERVICE: 'otel-go' });
    const ok = traceparent();
    const bad = traceparent();
    let trace: ApiTrace;
    let failed: ApiTrace;
    try {
      expect((await fetch(`http://127.0.0.1:${app.port}/work`, { headers: { traceparent: ok.header } })).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${app.port}/work?fail=1`, { headers: { traceparent: bad.header } })).status).toBe(500);
      trace = await waitForTrace<ApiTrace>(agent.apiUrl, ok.traceHex, 2, 30_000);
      failed = await waitForTrace<ApiTrace>(agent.apiUrl, bad.traceHex, 1, 30_000);
    } finally {
      await app.stop();
    }
    const server = trace.spans.find((s) => s.name === 'http.server.request')!;
    expect(server).toMatchObject({ parentId: ok.parent, service: 'otel-go', resource: 'GET /work', type: 'web', env: 'e2e' });
    const child = trace.spans.find((s) => s.resource === 'work.compute')!;
    expect(child).toMatchObject({ parentId: server.spanId });
    expect(child.meta['custom.tag']).toBe('go');
    expect(child.metrics['custom.metric']).toBe(42);
    expect(failed.spans.find((s) => s.name === 'http.server.request')!).toMatchObject({ error: 1, meta: expect.objectContaining({ 'error.msg': 'boom go' }) });
    expect(await (await fetch(`${agent.apiUrl}/metrics`)).text()).toMatch(/ecs_trace_receiver_payloads_total\{endpoint="otlp \/v1\/traces",lang="go",tracer_version="otlp-1\.[^"]+"\} [1-9]/);
  }, 60_000);

  it('a trace from dd-trace into an OTel service (W3C traceparent) comes back whole', async () => {
    const otel = await startApp([process.execPath, OTEL_APP], { OTLP_URL: agent.otlpUrl, OTLP_PROTOCOL: 'proto', SERVICE: 'otel-back' });
    const dd = await startApp([process.execPath, DD_APP], { DD_TRACE_AGENT_URL: agent.intake, APP_SERVICE: 'dd-front' });
    try {
      expect((await fetch(`http://127.0.0.1:${dd.port}/call?to=${encodeURIComponent(`http://127.0.0.1:${otel.port}/work`)}`)).status).toBe(200);
      let trace: ApiTrace | undefined;
      for (let i = 0; i < 150 && (trace?.summary.services.length ?? 0) < 2; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const list = (await (await fetch(`${agent.apiUrl}/api/v1/traces?service=dd-front&limit=1`)).json()) as { traces: { traceId: string }[] };
        if (list.traces[0]) trace = await waitForTrace<ApiTrace>(agent.apiUrl, list.traces[0].traceId, 1);
      }
      expect([...trace!.summary.services].sort()).toEqual(['dd-front', 'otel-back']);
      const byId = new Map(trace!.spans.map((s) => [s.spanId, s]));
      const otelServer = trace!.spans.find((s) => s.service === 'otel-back' && s.name === 'http.server.request')!;
      expect(byId.get(otelServer.parentId)).toMatchObject({ service: 'dd-front', name: 'http.request' });
    } finally {
      await dd.stop();
      await otel.stop();
    }
  }, 60_000);

  it('answers bad input as the OTLP specification says, and never decodes more than a bounded multiple of the body', async () => {
    const post = (body: Uint8Array | string, headers: Record<string, string>) => fetch(`${agent.otlpUrl}/v1/traces`, { method: 'POST', headers, body });
    const badProto = await post(Uint8Array.from([0x0a, 0xff, 0x01]), { 'Content-Type': 'application/x-protobuf' });
    expect(badProto.status).toBe(400);
    expect(badProto.headers.get('content-type')).toBe('application/x-protobuf');
    const badJson = await post('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}', { 'Content-Type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toEqual({ code: 3, message: 'resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits, got "xyz"' });
    // A trace id of 20 bytes, as the Collector refuses it: 400 naming the field, nothing stored.
    const span = Buffer.concat([Buffer.from([0x0a, 20]), Buffer.alloc(20, 7), Buffer.from([0x12, 8]), Buffer.alloc(8, 9)]);
    const scope = Buffer.concat([Buffer.from([0x12, span.length]), span]);
    const rs = Buffer.concat([Buffer.from([0x12, scope.length]), scope]);
    const longId = await post(Buffer.concat([Buffer.from([0x0a, rs.length]), rs]), { 'Content-Type': 'application/x-protobuf' });
    expect(longId.status).toBe(400);
    expect(Buffer.from(await longId.arrayBuffer()).toString()).toContain('spans[0]: traceId is 20 bytes; an id is 16 bytes (or empty)');
    expect((await fetch(`${agent.apiUrl}/api/v1/traces/${'07'.repeat(16)}`)).status).toBe(404);
    expect((await post('{}', { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await fetch(`${agent.otlpUrl}/v1/traces`)).status).toBe(405);
    // A gzip bomb: small on the wire, over the limit once inflated.
    const bomb = gzipSync(Buffer.alloc(30 * 1024 * 1024));
    const big = await post(bomb, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' });
    expect(big.status).toBe(413);
    // Empty spans, 2 bytes each on the wire: refused before they fill memory.
    const spans = Buffer.alloc(4_000_000 * 2).fill(Buffer.from([0x12, 0x00]));
    const scopeSpans = Buffer.concat([Buffer.from([0x12]), varint(spans.length), spans]);
    const empties = Buffer.concat([Buffer.from([0x0a]), varint(scopeSpans.length), scopeSpans]);
    const flood = await post(empties, { 'Content-Type': 'application/x-protobuf' });
    expect(flood.status).toBe(400);
    expect(Buffer.from(await flood.arrayBuffer()).toString()).toContain('times the payload\'s size in memory');
    expect(await (await post('{"resourceSpans":[]}', { 'Content-Type': 'application/json' })).json()).toEqual({});
    // gRPC: a message that is not OTLP is INVALID_ARGUMENT, with the place it stopped.
    const grpc = await import('@grpc/grpc-js');
    const client = new grpc.Client(agent.otlpGrpc, grpc.credentials.createInsecure());
    const err = await new Promise<{ code: number; details: string } | null>((resolve) => {
      client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0xff, 0x01]), (e) => resolve(e as { code: number; details: string } | null));
    });
    client.close();
    expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('truncated') });
  }, 60_000);
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 128) { out.push((n % 128) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}
