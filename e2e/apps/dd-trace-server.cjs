'use strict';
// The same small service, instrumented with the real dd-trace.
const tracer = require('dd-trace').init({ service: process.env.APP_SERVICE || 'dd-app', flushInterval: 100, startupLogs: false });
const http = require('node:http');
// APP_LOG=1: a JSON log line per request on stderr through pino, which dd-trace injects
// `dd.trace_id` into (DD_LOGS_INJECTION, on by default in dd-trace 5).
const logger = process.env.APP_LOG === '1' ? require('pino')(require('pino').destination(2)) : undefined;

const get = (url) => new Promise((resolve, reject) => {
  http.get(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/call') {
    const to = url.searchParams.get('to');
    const b = await get(to);
    res.statusCode = b;
    res.end(JSON.stringify({ http: b }));
    return;
  }
  tracer.trace('leaf.work', { resource: 'leaf' }, () => undefined);
  // A query as a database integration records it (a client span naming its database); ?fail=1
  // makes it fail, and the request with it.
  let failed = false;
  try {
    tracer.trace('pg.query', { type: 'sql', resource: 'SELECT * FROM orders WHERE id = ?', tags: { 'db.system': 'postgresql', 'db.instance': 'orders', 'span.kind': 'client' } }, () => {
      if (url.searchParams.get('fail') === '1') throw new Error('relation "orders" is locked');
    });
  } catch {
    failed = true;
  }
  res.statusCode = failed ? 500 : 200;
  logger?.info({ path: url.pathname }, 'handled');
  res.end('leaf');
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => { server.close(); tracer._tracer._exporter.flush(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); });
