import type { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import type { StoredChunk } from '../process/index.js';
import { toApiLiveChunk } from './json.js';

/*
 * GET /api/v1/live: server-sent events of stored chunks. At most MAX_LIVE_CLIENTS viewers; a slow
 * viewer loses events (and is told how many) rather than growing the agent's memory.
 */

const MAX_LIVE_CLIENTS = 20;
const MAX_BUFFERED_BYTES = 256 * 1024;

export function serveLive(app: FastifyInstance, live: EventEmitter | undefined): void {
  let liveClients = 0;
  app.get('/api/v1/live', (req, reply) => {
    if (!live) return reply.code(503).send({ error: 'intake is off (DD_APM_ENABLED=false): nothing arrives' });
    if (liveClients >= MAX_LIVE_CLIENTS) return reply.code(429).send({ error: `at most ${MAX_LIVE_CLIENTS} live views at once` });
    liveClients++;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(': connected\n\n');
    let dropped = 0;
    const onChunks = (chunks: StoredChunk[]) => {
      if (res.writableLength > MAX_BUFFERED_BYTES) { dropped += chunks.length; return; }
      if (dropped > 0) { res.write(`event: dropped\ndata: ${dropped}\n\n`); dropped = 0; }
      res.write(`data: ${JSON.stringify(chunks.map(toApiLiveChunk))}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    live.on('chunks', onChunks);
    req.raw.on('close', () => {
      clearInterval(heartbeat);
      live.off('chunks', onChunks);
      liveClients--;
    });
    return reply;
  });
}
