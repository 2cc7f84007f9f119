import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { Agent, request } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/*
 * An app traced by ecs-trace keeps answering exactly as without tracing when the agent is down,
 * hangs, or refuses with 429, and the spans it cannot send stay bounded in memory.
 */

const APP = fileURLToPath(new URL('./apps/ecs-tracer-server.mjs', import.meta.url));
const MAX_BUFFER = 500;
let closers: (() => void)[] = [];
afterEach(() => { for (const c of closers) c(); closers = []; });

function startApp(agentUrl: string): Promise<{ port: number; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: agentUrl, APP_MAX_BUFFER: String(MAX_BUFFER) }, stdio: ['ignore', 'pipe', 'pipe'] });
    closers.push(() => child.kill('SIGKILL'));
    child.stdout!.once('data', (d: Buffer) => resolve({ port: (JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port, child }));
    child.on('exit', (code) => reject(new Error(`app exited ${code}`)));
  });
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

async function agentThat(kind: 'down' | 'hangs' | '429'): Promise<string> {
  if (kind === 'down') {
    const s = createTcpServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return `http://127.0.0.1:${port}`;
  }
  if (kind === 'hangs') {
    const sockets: Socket[] = [];
    const s = createTcpServer((c) => { sockets.push(c); c.resume(); });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closers.push(() => { for (const c of sockets) c.destroy(); s.close(); });
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
  const s: Server = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(429, { 'Content-Type': 'application/json' }); res.end('{"rate_by_service":{}}'); }); });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => { s.closeAllConnections(); s.close(); });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe.each([['down'], ['hangs'], ['429']] as const)('the agent %s', (kind) => {
  it('never changes the app\'s answers, and unsent spans stay bounded', async () => {
    const app = await startApp(await agentThat(kind));
    const statuses = new Map<string, number>();
    // A long loop: 3000 requests (6000 spans: server span and a manual one each).
    for (let i = 0; i < 300; i++) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => get(app.port, '/leaf')));
      for (const r of batch) statuses.set(`${r.status} ${r.body}`, (statuses.get(`${r.status} ${r.body}`) ?? 0) + 1);
    }
    expect([...statuses]).toEqual([['200 leaf', 3000]]);
    const stats = JSON.parse((await get(app.port, '/stats')).body) as { tracer: { bufferedSpans: number; droppedSpans: number; sentSpans: number } };
    expect(stats.tracer.bufferedSpans).toBeLessThanOrEqual(MAX_BUFFER);
    expect(stats.tracer.sentSpans).toBe(0);
    // Every span was either dropped (and counted) or is still waiting within the bound.
    expect(stats.tracer.droppedSpans + stats.tracer.bufferedSpans).toBeGreaterThan(0);
    expect(stats.tracer.droppedSpans).toBeGreaterThanOrEqual(6000 - MAX_BUFFER - 1000);
  });
});
