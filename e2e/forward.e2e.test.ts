import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { runDdTraceApp, until } from './dd-trace-app.js';

/*
 * Forwarding to Datadog, against a stand-in of the Datadog intake that decodes what it receives
 * with the Datadog schemas (agent_payload.proto and span.proto, read here by protobufjs, not by
 * the agent's own encoder; stats as msgpack with the Go field names) and checks the fields. The
 * traces come from the real dd-trace.
 */

const API_KEY = 'forward-test-key-0123456789abcdef';

// The proto JSON of the Datadog schema (maps as keyType fields, which IField does not type).
const descriptor: Record<string, unknown> = {
  nested: {
    datadog: { nested: { trace: { nested: {
      AgentPayload: { fields: {
        hostName: { type: 'string', id: 1 }, env: { type: 'string', id: 2 }, tracerPayloads: { rule: 'repeated', type: 'TracerPayload', id: 5 },
        tags: { keyType: 'string', type: 'string', id: 6 }, agentVersion: { type: 'string', id: 7 }, targetTPS: { type: 'double', id: 8 }, errorTPS: { type: 'double', id: 9 },
        rareSamplerEnabled: { type: 'bool', id: 10 },
      } },
      TracerPayload: { fields: {
        containerID: { type: 'string', id: 1 }, languageName: { type: 'string', id: 2 }, languageVersion: { type: 'string', id: 3 }, tracerVersion: { type: 'string', id: 4 },
        runtimeID: { type: 'string', id: 5 }, chunks: { rule: 'repeated', type: 'TraceChunk', id: 6 }, tags: { keyType: 'string', type: 'string', id: 7 },
        env: { type: 'string', id: 8 }, hostname: { type: 'string', id: 9 }, appVersion: { type: 'string', id: 10 },
      } },
      TraceChunk: { fields: {
        priority: { type: 'int32', id: 1 }, origin: { type: 'string', id: 2 }, spans: { rule: 'repeated', type: 'Span', id: 3 },
        tags: { keyType: 'string', type: 'string', id: 4 }, droppedTrace: { type: 'bool', id: 5 },
      } },
      Span: { fields: {
        service: { type: 'string', id: 1 }, name: { type: 'string', id: 2 }, resource: { type: 'string', id: 3 }, traceID: { type: 'uint64', id: 4 },
        spanID: { type: 'uint64', id: 5 }, parentID: { type: 'uint64', id: 6 }, start: { type: 'int64', id: 7 }, duration: { type: 'int64', id: 8 },
        error: { type: 'int32', id: 9 }, meta: { keyType: 'string', type: 'string', id: 10 }, metrics: { keyType: 'string', type: 'double', id: 11 },
        type: { type: 'string', id: 12 }, metaStruct: { keyType: 'string', type: 'bytes', id: 13 },
      } },
    } } } },
  },
};
const schema = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const AgentPayload = schema.lookupType('datadog.trace.AgentPayload');

interface Received { path: string; headers: IncomingHttpHeaders; body: Buffer }
interface DecodedSpan { service: string; name: string; resource: string; traceID: string; spanID: string; parentID: string; error: number; meta: Record<string, string>; metrics: Record<string, number>; start: string; duration: string }
interface DecodedPayload { hostName: string; env: string; agentVersion: string; targetTPS: number; tracerPayloads: { languageName: string; tracerVersion: string; env: string; chunks: { priority: number; spans: DecodedSpan[] }[] }[] }

class Intake {
  readonly received: Received[] = [];
  /** Statuses to answer before the normal 202s. */
  failures: number[] = [];
  private server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const failure = this.failures.shift();
        if (failure !== undefined) { res.writeHead(failure).end('{"errors":["try later"]}'); return; }
        this.received.push({ path: req.url ?? '', headers: req.headers, body: gunzipSync(Buffer.concat(parts)) });
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  traces(): DecodedPayload[] {
    return this.received.filter((r) => r.path === '/api/v0.2/traces').map((r) => AgentPayload.toObject(AgentPayload.decode(r.body), { longs: String, defaults: true }) as unknown as DecodedPayload);
  }
  stats(): Record<string, unknown>[] {
    const unpacker = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });
    return this.received.filter((r) => r.path === '/api/v0.2/stats').map((r) => unpacker.unpack(r.body) as Record<string, unknown>);
  }
  close(): Promise<void> {
    return new Promise((r) => { this.server.close(() => r()); this.server.closeAllConnections(); });
  }
}

const runApp = (agent: TestAgent) => runDdTraceApp(agent.intake);

describe('forwarding to Datadog (DD_API_KEY)', () => {
  let intake: Intake;
  let agent: TestAgent | undefined;
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await intake.close();
  });

  it('sends the real dd-trace\'s kept traces as an AgentPayload, and the agent\'s stats, as the trace-agent does', async () => {
    intake = new Intake();
    await intake.start();
    agent = await startTestAgent({ DD_API_KEY: API_KEY, DD_APM_DD_URL: intake.url, DD_HOSTNAME: 'ecs-host-1', DD_ENV: 'prod' });
    const app = await runApp(agent);
    const traceLow = BigInt('0x' + app.traceId.slice(-16)).toString();
    const payload = await until(() => intake.traces().find((p) => p.tracerPayloads.some((tp) => tp.chunks.some((c) => c.spans.some((s) => s.traceID === traceLow)))));
    const request = intake.received.find((r) => r.path === '/api/v0.2/traces')!;
    expect(request.headers).toMatchObject({
      'dd-api-key': API_KEY, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', 'x-datadog-reported-languages': 'nodejs',
      'user-agent': expect.stringMatching(/^Datadog Trace Agent\/7\.65\.0\//),
    });
    expect(payload).toMatchObject({ hostName: 'ecs-host-1', env: 'prod', agentVersion: '7.65.0', targetTPS: 10 });
    const tp = payload.tracerPayloads.find((t) => t.chunks.some((c) => c.spans.some((s) => s.traceID === traceLow)))!;
    expect(tp).toMatchObject({ languageName: 'nodejs', tracerVersion: expect.stringMatching(/^\d+\.\d+/) });
    const spans = tp.chunks.flatMap((c) => c.spans).filter((s) => s.traceID === traceLow);
    expect(spans).toHaveLength(6);
    expect(tp.chunks.find((c) => c.spans.some((s) => s.traceID === traceLow))!.priority).toBe(1);
    const byName = new Map(spans.map((s) => [s.name, s]));
    expect(byName.get('e2e.root')).toMatchObject({ service: 'e2e-checkout', resource: 'checkout-flow', parentID: '0' });
    expect(byName.get('inner.compute')!.meta['custom.tag']).toBe('v');
    const failing = byName.get('failing.op')!;
    expect(failing).toMatchObject({ error: 1 });
    expect(failing.meta['error.message']).toBe('boom e2e');
    expect(BigInt(failing.spanID).toString(16).padStart(16, '0')).toBe(app.failingSpanId);
    expect(Number(failing.duration)).toBeGreaterThan(0);
    // The trace is stored locally too.
    expect((await fetch(`${agent.apiUrl}/api/v1/traces/${app.traceId}`)).status).toBe(200);

    // Stats buckets are sent when they close, or when the agent stops.
    await agent.close();
    agent = undefined;
    const stats = await until(() => intake.stats().find((s) => JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes('e2e-checkout')));
    expect(stats).toMatchObject({ AgentHostname: 'ecs-host-1', AgentEnv: 'prod', AgentVersion: '7.65.0', ClientComputed: false });
    const groups = (stats['Stats'] as { Stats: { Start: bigint; Duration: bigint; Stats: Record<string, unknown>[] }[] }[]).flatMap((p) => p.Stats.flatMap((b) => b.Stats));
    const root = groups.find((g) => g['Name'] === 'e2e.root')!;
    expect(root).toMatchObject({ Service: 'e2e-checkout', Resource: 'checkout-flow', Hits: 1n, TopLevelHits: 1n, Errors: 0n, IsTraceRoot: 1 });
    expect(root['OkSummary']).toBeInstanceOf(Uint8Array);
    expect(intake.received.find((r) => r.path === '/api/v0.2/stats')!.headers['content-type']).toBe('application/msgpack');
  }, 60_000);

  it("forwards the real dd-trace's telemetry as the Datadog Agent proxies it: its body and headers, the API key, the agent's hostname and env; and keeps it too", async () => {
    intake = new Intake();
    await intake.start();
    agent = await startTestAgent({ DD_API_KEY: API_KEY, DD_APM_DD_URL: intake.url, DD_APM_TELEMETRY_DD_URL: intake.url, DD_HOSTNAME: 'ecs-host-1', DD_ENV: 'prod' });
    await runDdTraceApp(agent.intake, { DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'true', DD_TELEMETRY_HEARTBEAT_INTERVAL: '1' });
    const started = await until(() => intake.received.find((r) => r.path === '/api/v2/apmtelemetry' && r.headers['dd-telemetry-request-type'] === 'app-started'), 20_000);
    expect(started.headers).toMatchObject({
      'dd-api-key': API_KEY, 'dd-agent-hostname': 'ecs-host-1', 'dd-agent-env': 'prod', 'content-type': expect.stringMatching(/^application\/json/),
      'dd-telemetry-api-version': 'v2', 'dd-client-library-language': 'nodejs', 'content-encoding': 'gzip',
    });
    const body = JSON.parse(started.body.toString()) as { request_type: string; runtime_id: string; application: { service_name: string } };
    expect(body).toMatchObject({ request_type: 'app-started', application: { service_name: 'e2e-checkout' } });
    // Kept here as well: the service's instance.
    const listed = (await (await fetch(`${agent.apiUrl}/api/v1/services/e2e-checkout/instances`)).json()) as { instances: { runtimeId: string }[] };
    expect(listed.instances.map((i) => i.runtimeId)).toContain(body.runtime_id);
  }, 60_000);

  it('ECS_TRACE_STORE=none forwards and keeps nothing, and refuses to start without DD_API_KEY', async () => {
    intake = new Intake();
    await intake.start();
    await expect(startTestAgent({ ECS_TRACE_STORE: 'none' })).rejects.toThrow('ECS_TRACE_STORE=none keeps nothing: set DD_API_KEY');
    agent = await startTestAgent({ ECS_TRACE_STORE: 'none', DD_API_KEY: API_KEY, DD_APM_DD_URL: intake.url });
    const app = await runApp(agent);
    const traceLow = BigInt('0x' + app.traceId.slice(-16)).toString();
    await until(() => intake.traces().find((p) => p.tracerPayloads.some((tp) => tp.chunks.some((c) => c.spans.some((s) => s.traceID === traceLow)))));
    expect((await fetch(`${agent.apiUrl}/api/v1/traces/${app.traceId}`)).status).toBe(404);
  }, 60_000);

  it('retries through an intake outage (503s) and loses nothing; a refusal (403) is dropped and counted', async () => {
    intake = new Intake();
    await intake.start();
    intake.failures = [503, 503, 500];
    agent = await startTestAgent({ DD_API_KEY: API_KEY, DD_APM_DD_URL: intake.url });
    const app = await runApp(agent);
    const traceLow = BigInt('0x' + app.traceId.slice(-16)).toString();
    await until(() => intake.traces().find((p) => p.tracerPayloads.some((tp) => tp.chunks.some((c) => c.spans.some((s) => s.traceID === traceLow)))), 40_000);
    let metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/ecs_trace_forward_payloads_total\{kind="traces",outcome="retried"\} [3-9]/);
    expect(metrics).toMatch(/ecs_trace_forward_payloads_total\{kind="traces",outcome="sent"\} [1-9]/);
    intake.failures = [403];
    await runApp(agent);
    for (let i = 0; i < 100 && !metrics.includes('outcome="rejected"'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    }
    expect(metrics).toMatch(/ecs_trace_forward_payloads_total\{kind="traces",outcome="rejected"\} 1/);
  }, 60_000);
});
