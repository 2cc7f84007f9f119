// The server the tracer benchmark loads: bare, traced by ecs-trace, or traced by dd-trace
// (BENCH_MODE), answering a small JSON body after one manual span, as a typical handler would.
import { createRequire } from 'node:module';

const mode = process.env.BENCH_MODE;
let tracer;
if (mode === 'ecs-trace') {
  tracer = (await import('@ecs-trace/tracer')).default.init({ service: 'bench', flushInterval: 1000 });
} else if (mode === 'dd-trace') {
  tracer = createRequire(import.meta.url)('dd-trace').init({ service: 'bench', startupLogs: false, telemetry: { enabled: false }, remoteConfig: { enabled: false } });
}
// Through require, as CommonJS apps load it, so that dd-trace's require hooks see it too.
const http = createRequire(import.meta.url)('node:http');
const body = JSON.stringify({ ok: true, items: [1, 2, 3] });
const handle = (res) => { res.setHeader('Content-Type', 'application/json'); res.end(body); };
const server = http.createServer((req, res) => {
  if (tracer) tracer.trace('handler.work', () => handle(res));
  else handle(res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.on('SIGINT', () => process.exit(0));
