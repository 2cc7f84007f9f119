'use strict';
// A small app instrumented with the real dd-trace, as a user would write it. It makes an http
// call to itself (a server and a client span), nested manual spans and a recorded error, then
// prints the ids it saw so the test can find the trace in the agent. With E2E_LINK=1 its root
// links to a span of another trace.
const tracer = require('dd-trace').init({ service: 'e2e-checkout', env: 'e2e', version: '1.2.3', flushInterval: 100, startupLogs: false });
const http = require('node:http');

const server = http.createServer((req, res) => {
  tracer.trace('inner.compute', { resource: 'compute' }, (span) => span.setTag('custom.tag', 'v'));
  res.end('ok');
});

server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const out = {};
  // E2E_LINK=1: a batch produced in a trace of its own, which the root links to (a span link).
  let batch;
  if (process.env.E2E_LINK === '1') {
    batch = tracer.startSpan('batch.produce', { tags: { 'resource.name': 'nightly-batch' } });
    batch.finish();
    out.linkedTraceId = batch.context().toTraceId(true);
    out.linkedSpanId = batch.context().toSpanId(true);
  }
  await tracer.trace('e2e.root', { resource: 'checkout-flow' }, async (root) => {
    out.traceId = root.context().toTraceId(true);
    out.rootSpanId = root.context().toSpanId(true);
    if (batch) root.addLink({ context: batch.context(), attributes: { 'link.reason': 'consumes the batch' } });
    await new Promise((resolve, reject) => {
      http.get(`http://127.0.0.1:${port}/cart?session=secret`, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
    // E2E_NO_FAILURE=1: the same flow without its failing step (a second shape to compare with).
    if (process.env.E2E_NO_FAILURE !== '1') {
      try {
        tracer.trace('failing.op', { resource: 'failing' }, (span) => {
          out.failingSpanId = span.context().toSpanId(true);
          throw new TypeError('boom e2e');
        });
      } catch { /* recorded on the span */ }
    }
  });
  server.close();
  process.stdout.write(JSON.stringify(out) + '\n');
  // dd-trace flushes every flushInterval ms; give it a few rounds, then leave.
  setTimeout(() => process.exit(0), 1500);
});
