"""A small WSGI service traced by the real OpenTelemetry SDK for Python, exporting over OTLP
(http/protobuf) to OTLP_URL: GET /work continues a W3C traceparent, makes a child span, and with
?fail records an exception and an ERROR status. Prints {"port": N}; SIGTERM flushes and exits."""
import json
import os
import signal
import sys
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("SERVICE", "otel-py"), "deployment.environment.name": "e2e"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=os.environ["OTLP_URL"] + "/v1/traces"), schedule_delay_millis=200))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("ecs-trace-e2e-python", "1.0.0")
propagator = TraceContextTextMapPropagator()


def app(environ, start_response):
    carrier = {"traceparent": environ.get("HTTP_TRACEPARENT", "")}
    fail = "fail" in parse_qs(environ.get("QUERY_STRING", ""))
    with tracer.start_as_current_span("GET /work", context=propagator.extract(carrier), kind=SpanKind.SERVER,
                                      attributes={"http.request.method": "GET", "http.route": "/work"}) as span:
        with tracer.start_as_current_span("work.compute", attributes={"custom.tag": "python", "custom.metric": 42}):
            pass
        if fail:
            span.record_exception(ValueError("boom python"))
            span.set_status(Status(StatusCode.ERROR, "failed on purpose"))
        span.set_attribute("http.response.status_code", 500 if fail else 200)
    start_response("500 Internal Server Error" if fail else "200 OK", [("Content-Type", "text/plain")])
    return [b"failed on purpose" if fail else b"ok"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def stop(*_):
    provider.shutdown()
    sys.exit(0)


server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
print(json.dumps({"port": server.server_port}), flush=True)
signal.signal(signal.SIGTERM, stop)
server.serve_forever()
