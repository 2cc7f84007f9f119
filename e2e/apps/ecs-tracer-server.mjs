// A small service instrumented with ecs-trace's tracer, as a user would write it. It listens on
// an ephemeral port and prints {"port": N}. GET /call?to=URL calls URL with fetch and with
// http.get, then answers; GET /leaf answers; GET /fail answers 500; GET /stats tells the
// tracer's counters and the heap.
import tracer from '@ecs-trace/tracer';
import http from 'node:http';

tracer.init({
  service: process.env.APP_SERVICE ?? 'ecs-app',
  hostname: process.env.APP_HOSTNAME,
  flushInterval: 100,
  ...(process.env.APP_MAX_BUFFER ? { maxBufferedSpans: Number(process.env.APP_MAX_BUFFER) } : {}),
});

const get = (url) => new Promise((resolve, reject) => {
  http.get(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/call') {
    const to = url.searchParams.get('to');
    const a = await fetch(to);
    await a.text();
    const b = await get(to);
    res.end(JSON.stringify({ fetch: a.status, http: b }));
    return;
  }
  if (url.pathname === '/stats') {
    res.end(JSON.stringify({ heapUsed: process.memoryUsage().heapUsed, tracer: tracer.stats() }));
    return;
  }
  if (url.pathname === '/fail') {
    res.statusCode = 500;
    res.end('fail');
    return;
  }
  tracer.trace('leaf.work', { resource: 'leaf' }, () => undefined);
  res.end('leaf');
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', async () => { server.close(); await tracer.flush(); process.exit(0); });
