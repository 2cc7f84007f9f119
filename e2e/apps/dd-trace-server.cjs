'use strict';
// The same small service, instrumented with the real dd-trace.
const tracer = require('dd-trace').init({ service: process.env.APP_SERVICE || 'dd-app', flushInterval: 100, startupLogs: false });
const http = require('node:http');

const get = (url) => new Promise((resolve, reject) => {
  http.get(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/call') {
    const to = url.searchParams.get('to');
    const b = await get(to);
    res.end(JSON.stringify({ http: b }));
    return;
  }
  tracer.trace('leaf.work', { resource: 'leaf' }, () => undefined);
  res.end('leaf');
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => { server.close(); tracer._tracer._exporter.flush(() => process.exit(0)); setTimeout(() => process.exit(0), 1000).unref(); });
