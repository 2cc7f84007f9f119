import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '@ecs-trace/agent/testing';
import { componentsAvailable } from './components.js';
import { runDdTraceApp, until } from './dd-trace-app.js';
import { BUILD } from './languages.js';
import { freePort } from './ports.js';

/*
 * OTLP export (ECS_TRACE_OTLP_EXPORT_ENDPOINT) into a real OpenTelemetry Collector: its OTLP
 * receiver takes what the agent sends, and its file exporter writes what it received as OTLP
 * JSON, which the test reads. The traces come from the real dd-trace.
 */

const OTELCOL = join(BUILD, 'otelcol/otelcol');
const ready = componentsAvailable(existsSync(OTELCOL) ? undefined : `the OpenTelemetry Collector is not built (${OTELCOL}): bash e2e/apps/prepare.sh otelcol`, 'OTLP export tests');

type AnyValue = { stringValue?: string; doubleValue?: number; intValue?: string; boolValue?: boolean };
interface KeyValue { key: string; value: AnyValue }
interface OtlpJsonSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes?: KeyValue[]; status?: { code?: number } }
interface OtlpJsonRequest { resourceSpans: { resource: { attributes: KeyValue[] }; scopeSpans: { scope: { name: string; version?: string }; spans: OtlpJsonSpan[] }[]; schemaUrl?: string }[] }

const attrs = (list: KeyValue[] | undefined): Record<string, AnyValue> => Object.fromEntries((list ?? []).map((a) => [a.key, a.value]));

class Collector {
  private child: ChildProcess | undefined;
  private log = '';
  readonly dir = mkdtempSync(join(tmpdir(), 'ecs-trace-otelcol-'));
  readonly out = join(this.dir, 'traces.json');
  constructor(readonly port: number) {
    writeFileSync(join(this.dir, 'config.yaml'), [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${this.out}`,
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'));
  }

  async start(): Promise<void> {
    const child = spawn(OTELCOL, ['--config', join(this.dir, 'config.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
    await until(() => {
      if (child.exitCode !== null) throw new Error(`the collector exited: ${this.log}`);
      return this.log.includes('Everything is ready') ? true : undefined;
    }, 30_000);
  }

  /** Every request the collector received, as its file exporter wrote them. */
  requests(): OtlpJsonRequest[] {
    if (!existsSync(this.out)) return [];
    return readFileSync(this.out, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as OtlpJsonRequest);
  }

  spansOf(traceId: string): { resource: Record<string, AnyValue>; scope: string; span: OtlpJsonSpan }[] {
    return this.requests().flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans
      .filter((s) => s.traceId === traceId)
      .map((span) => ({ resource: attrs(rs.resource.attributes), scope: ss.scope.name, span })))));
  }

  async close(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.runIf(ready)('OTLP export to a real OpenTelemetry Collector', () => {
  let collector: Collector | undefined;
  let agent: TestAgent | undefined;
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await collector?.close();
    collector = undefined;
  });

  it('sends the real dd-trace\'s kept traces, with their ids, parentage, kinds, errors and attributes', async () => {
    collector = new Collector(await freePort());
    await collector.start();
    agent = await startTestAgent({ ECS_TRACE_OTLP_EXPORT_ENDPOINT: `http://127.0.0.1:${collector.port}`, ECS_TRACE_OTLP_EXPORT_HEADERS: 'x-scope-orgid=e2e', DD_HOSTNAME: 'ecs-host-1' });
    const app = await runDdTraceApp(agent.intake);
    const c = collector;
    // dd-trace's app makes six spans or more (a tcp.connect span when the connection is new).
    const spans = await until(() => { const s = c.spansOf(app.traceId); return s.length >= 6 ? s : undefined; }, 30_000);
    const byName = new Map(spans.map((s) => [s.span.name, s]));

    const root = byName.get('e2e.root')!;
    expect(root.span.spanId).toBe(app.rootSpanId);
    expect(root.span.parentSpanId ?? '').toBe('');
    expect(root.scope).toBe('Datadog');
    expect(root.resource).toMatchObject({
      'service.name': { stringValue: 'e2e-checkout' }, 'telemetry.sdk.name': { stringValue: 'Datadog' }, 'telemetry.sdk.language': { stringValue: 'nodejs' },
      'host.name': { stringValue: 'ecs-host-1' }, 'service.version': { stringValue: '1.2.3' }, 'deployment.environment': { stringValue: 'e2e' },
    });
    expect(attrs(root.span.attributes)).toMatchObject({
      'dd.span.Resource': { stringValue: 'checkout-flow' }, 'deployment.environment.name': { stringValue: 'e2e' }, 'service.version': { stringValue: '1.2.3' },
      'sampling.priority': { stringValue: '1.000000' }, 'datadog.span.id': { stringValue: BigInt(`0x${app.rootSpanId}`).toString() },
    });
    expect(BigInt(root.span.endTimeUnixNano) - BigInt(root.span.startTimeUnixNano)).toBeGreaterThan(0n);

    // Parentage holds: every span but the root has its parent among the exported spans.
    const ids = new Set(spans.map((s) => s.span.spanId));
    for (const s of spans) if (s !== root) expect(ids.has(s.span.parentSpanId!)).toBe(true);

    const failing = byName.get('failing.op')!;
    expect(failing.span.spanId).toBe(app.failingSpanId);
    expect(failing.span.status?.code).toBe(2);
    expect(attrs(failing.span.attributes)['error.message']).toEqual({ stringValue: 'boom e2e' });
    expect(byName.get('inner.compute')!.span.status?.code ?? 0).toBe(0);
    expect(attrs(byName.get('inner.compute')!.span.attributes)['custom.tag']).toEqual({ stringValue: 'v' });

    // dd-trace's http spans: the request out is a CLIENT span, the one it served a SERVER span.
    const http = spans.filter((s) => attrs(s.span.attributes)['http.request.method']);
    expect(http.map((s) => s.span.kind).sort()).toEqual([2, 3]);
    expect(http.every((s) => attrs(s.span.attributes)['http.response.status_code']?.stringValue === '200')).toBe(true);

    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    expect(metrics).toContain('ecs_trace_forward_enabled{destination="otlp"} 1');
    expect(metrics).toMatch(/ecs_trace_forward_payloads_total\{kind="otlp_traces",outcome="sent"\} [1-9]/);
    const info = (await (await fetch(`${agent.intake}/info`)).json()) as { ecs_trace: { forwarding: Record<string, boolean> } };
    expect(info.ecs_trace.forwarding).toEqual({ datadog: false, otlp_export: true });
    // Still stored locally.
    expect((await fetch(`${agent.apiUrl}/api/v1/traces/${app.traceId}`)).status).toBe(200);
  }, 90_000);

  it('as a pure forwarder (ECS_TRACE_STORE=none), holds traces through the collector being down and delivers them when it comes up', async () => {
    const port = await freePort();
    agent = await startTestAgent({ ECS_TRACE_STORE: 'none', ECS_TRACE_OTLP_EXPORT_ENDPOINT: `http://127.0.0.1:${port}/v1/traces` });
    const app = await runDdTraceApp(agent.intake);
    const a = agent;
    // The first attempt fails (nothing listens yet), and is retried.
    let metrics = '';
    for (let i = 0; i < 150 && !/kind="otlp_traces",outcome="retried"\} [1-9]/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await (await fetch(`${a.apiUrl}/metrics`)).text();
    }
    expect(metrics).toMatch(/kind="otlp_traces",outcome="retried"\} [1-9]/);
    collector = new Collector(port);
    await collector.start();
    const c = collector;
    const spans = await until(() => { const s = c.spansOf(app.traceId); return s.length >= 6 ? s : undefined; }, 40_000);
    expect(spans.map((s) => s.span.name)).toEqual(expect.arrayContaining(['e2e.root', 'failing.op', 'inner.compute']));
    expect((await fetch(`${agent.apiUrl}/api/v1/traces/${app.traceId}`)).status).toBe(404);
  }, 90_000);

  it('refuses an endpoint that is not an http(s) URL, naming the setting', async () => {
    await expect(startTestAgent({ ECS_TRACE_OTLP_EXPORT_ENDPOINT: 'otel-collector:4317' })).rejects.toThrow(/ECS_TRACE_OTLP_EXPORT_ENDPOINT="otel-collector:4317" is not/);
    await expect(startTestAgent({ ECS_TRACE_OTLP_EXPORT_ENDPOINT: 'http://c:4318', ECS_TRACE_OTLP_EXPORT_HEADERS: 'authorization' })).rejects.toThrow(/ECS_TRACE_OTLP_EXPORT_HEADERS: entry 1/);
  });
});
