import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeOtlpProtobuf, emptySpan } from '@ecs-trace/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { agentMetrics, createLogger, LogOnce } from '../runtime/index.js';
import { EncoderThread } from './encoder-thread.js';
import { OtlpExporter } from './otlp-exporter.js';
import { otlpExportUrl, parseOtlpHeaders } from './otlp-settings.js';

/* The OTLP exporter's requests and its retry rule, against a plain HTTP server (the real Collector is in e2e). */

const batch = (spanId: bigint) => ({
  chunks: [[{ ...emptySpan(), service: 'web', name: 'op', traceId: 1n, spanId, start: 1n, duration: 1 }]],
  env: 'e', hostname: 'h', containerId: '', lang: 'go', tracerVersion: '2.0.0', receivedAt: 0n,
});

describe('the OTLP exporter', () => {
  let close: () => void = () => undefined;
  afterEach(() => close());

  it('posts gzipped protobuf with the configured headers; retries 503, drops 400 counted', async () => {
    const answers = [503, 200, 400];
    const got: { path: string; headers: IncomingHttpHeaders; spans: number; status: number }[] = [];
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const status = answers.shift() ?? 200;
        const req2 = decodeOtlpProtobuf(gunzipSync(Buffer.concat(parts)));
        got.push({ path: req.url ?? '', headers: req.headers, spans: req2.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length, status });
        res.writeHead(status, { 'Content-Type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    close = () => { server.close(); server.closeAllConnections(); };
    const metrics = agentMetrics();
    const encoder = new EncoderThread(1 << 20);
    const exporter = new OtlpExporter({
      url: otlpExportUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/otlp`), headers: parseOtlpHeaders('authorization=Bearer%20t0k,x-scope-orgid=acme'),
      userAgent: 'ecs-trace/test', maxQueueBytes: 1 << 20, metrics, logOnce: new LogOnce(createLogger('off')), flushMs: 60_000, encoder,
    });
    exporter.traces(batch(2n));
    await exporter.drained();
    exporter.traces(batch(3n));
    await exporter.drained();
    await exporter.close();
    await encoder.close();
    expect(got.map((g) => [g.path, g.status, g.spans])).toEqual([['/otlp/v1/traces', 503, 1], ['/otlp/v1/traces', 200, 1], ['/otlp/v1/traces', 400, 1]]);
    expect(got[0]!.headers).toMatchObject({ 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', authorization: 'Bearer t0k', 'x-scope-orgid': 'acme', 'user-agent': 'ecs-trace/test' });
    const text = metrics.registry.render();
    expect(text).toContain('ecs_trace_forward_payloads_total{kind="otlp_traces",outcome="retried"} 1');
    expect(text).toContain('ecs_trace_forward_payloads_total{kind="otlp_traces",outcome="sent"} 1');
    expect(text).toContain('ecs_trace_forward_payloads_total{kind="otlp_traces",outcome="rejected"} 1');
  });
});

describe('OTLP export settings', () => {
  it('appends /v1/traces to a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT does, and keeps a full one', () => {
    expect(otlpExportUrl('http://collector:4318').href).toBe('http://collector:4318/v1/traces');
    expect(otlpExportUrl('https://tempo.example/otlp/').href).toBe('https://tempo.example/otlp/v1/traces');
    expect(otlpExportUrl('http://c:4318/v1/traces').href).toBe('http://c:4318/v1/traces');
  });

  it('names the setting, and never echoes a header value, when something is wrong', () => {
    expect(() => otlpExportUrl('grpc://c:4317')).toThrow(/ECS_TRACE_OTLP_EXPORT_ENDPOINT="grpc:\/\/c:4317" is not an http\(s\) URL/);
    expect(() => otlpExportUrl('http://user:secret@c:4318')).toThrow(/credentials in it: put them in ECS_TRACE_OTLP_EXPORT_HEADERS/);
    expect(() => otlpExportUrl('http://user:secret@c:4318')).not.toThrow(/secret/);
    expect(() => parseOtlpHeaders('a=1,bad header=s3cret')).toThrow(/entry 2 is not key=value/);
    expect(() => parseOtlpHeaders('a=1,bad header=s3cret')).not.toThrow(/s3cret/);
    expect(() => parseOtlpHeaders('a=%E0%A4%A')).toThrow(/the value of "a" has a broken percent-encoding/);
    expect(parseOtlpHeaders(' api-key = k1 , ,x=a%3Db ')).toEqual({ 'api-key': 'k1', x: 'a=b' });
  });
});
