"""A small WSGI service traced by the real ddtrace, as its users write one (run it with
ddtrace-run): GET /work makes a manual child span, calls DOWNSTREAM (if set) with http.client
(traced with DD_TRACE_HTTPLIB_ENABLED=true) and answers 500 with ?fail; with ?raise=CUSTOMER it
raises in a traced step (charge, or refund with &in=refund) and answers 500. Prints {"port": N}."""
import http.client
import json
import os
import signal
import sys
from urllib.parse import parse_qs, urlparse
from wsgiref.simple_server import WSGIRequestHandler, make_server

from ddtrace.contrib.wsgi import DDWSGIMiddleware
from ddtrace.trace import tracer

DOWNSTREAM = os.environ.get("DOWNSTREAM")


def charge(customer):
    raise ValueError(f"card declined for customer {customer}")


def refund(customer):
    raise ValueError(f"card declined for customer {customer}")


def app(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    fail = "fail" in query
    if "raise" in query:
        step = refund if query.get("in") == ["refund"] else charge
        try:
            # The exception leaves the span: ddtrace records its type, message and stack on it.
            with tracer.trace("work." + step.__name__, resource=step.__name__):
                step(query["raise"][0])
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"declined"]
    with tracer.trace("work.compute", resource="compute") as span:
        span.set_tag("custom.tag", "python")
        span.set_metric("custom.metric", 42)
    if DOWNSTREAM:
        url = urlparse(DOWNSTREAM)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("GET", url.path + ("?fail=1" if fail else ""))
        conn.getresponse().read()
        conn.close()
    if fail:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"failed on purpose"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    server = make_server("127.0.0.1", 0, DDWSGIMiddleware(app), handler_class=QuietHandler)
    print(json.dumps({"port": server.server_port}), flush=True)
    # SIGTERM ends serve_forever; ddtrace flushes at exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
