// A small http service traced by the real OpenTelemetry SDK for Node, exporting over OTLP with
// the exporter OTLP_PROTOCOL names (`proto`: http/protobuf, `json`: http/json, `grpc`: gRPC to
// OTLP_GRPC, host:port) to OTLP_URL. It
// continues a W3C traceparent it receives, makes a child span and, with ?fail, records an
// exception and an ERROR status; with ?db, a PostgreSQL client span with a literal-laden statement. Prints {"port": N}; SIGTERM flushes and exits.
import http from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';

const url = `${process.env.OTLP_URL}/v1/traces`;
const exporter = process.env.OTLP_PROTOCOL === 'json' ? new JsonExporter({ url })
  : process.env.OTLP_PROTOCOL === 'grpc' ? new GrpcExporter({ url: `http://${process.env.OTLP_GRPC}` })
  : new ProtoExporter({ url });
const provider = new NodeTracerProvider({
  resource: defaultResource().merge(resourceFromAttributes({
    'service.name': process.env.SERVICE ?? 'otel-web',
    'service.version': '2.0.1',
    'deployment.environment.name': 'e2e',
    ...(process.env.CONTAINER_ID ? { 'container.id': process.env.CONTAINER_ID } : {}),
  })),
  spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 200 })],
});
provider.register({ propagator: new W3CTraceContextPropagator() });
const tracer = trace.getTracer('ecs-trace-e2e', '1.0.0');

const server = http.createServer((req, res) => {
  const parent = propagation.extract(context.active(), req.headers);
  const path = new URL(req.url, 'http://x');
  const fail = path.searchParams.has('fail');
  tracer.startActiveSpan('GET /work', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'http.route': '/work', 'url.full': `http://127.0.0.1${req.url}`, 'user_agent.original': req.headers['user-agent'] ?? '' },
  }, parent, (span) => {
    tracer.startActiveSpan('work.compute', { attributes: { 'custom.tag': 'otel', 'custom.metric': 42 } }, (child) => {
      child.addEvent('step', { 'step.number': 1 });
      child.end();
    });
    // ?db: a database call as an instrumentation of pg records it, literals and all.
    if (path.searchParams.has('db')) {
      tracer.startActiveSpan('SELECT shop', {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system': 'postgresql', 'db.name': 'shop', 'db.statement': "SELECT * FROM users WHERE email = 'ann@example.com' AND id = 42" },
      }, (db) => db.end());
    }
    if (fail) {
      span.recordException(new TypeError('boom otel'));
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed on purpose' });
    }
    span.setAttribute('http.response.status_code', fail ? 500 : 200);
    res.statusCode = fail ? 500 : 200;
    res.end(fail ? 'failed on purpose' : 'ok');
    span.end();
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => {
  server.close();
  void provider.shutdown().finally(() => process.exit(0));
});
