import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentMetrics, LogOnce, createLogger } from '../runtime/index.js';
import { Sender, type OutgoingPayload } from './sender.js';

const payload = (n: number): OutgoingPayload => ({ kind: 'traces', path: '/api/v0.2/traces', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.alloc(100, n) });

describe('the forwarding queue', () => {
  const held: ServerResponse[] = [];
  let close: () => void = () => undefined;
  afterEach(() => close());

  it('drops the oldest waiting payload past its bound, counted, and sends the rest in order', async () => {
    const got: number[] = [];
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => { got.push(Buffer.concat(parts)[0]!); held.push(res); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    close = () => { server.close(); server.closeAllConnections(); };
    const metrics = agentMetrics();
    const sender = new Sender({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers: { 'DD-Api-Key': 'k' }, destination: 'Datadog', label: 'datadog', rejectedHint: '', retryable: (s) => s >= 500, maxQueueBytes: 250,
      metrics, logOnce: new LogOnce(createLogger('off')), connections: 1,
    });
    sender.push(payload(1));
    // The first is on its way (the intake holds its answer); the next three wait, and only two fit.
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    sender.push(payload(2));
    sender.push(payload(3));
    sender.push(payload(4));
    expect(metrics.registry.render()).toContain('ecs_trace_forward_payloads_total{kind="traces",outcome="dropped"} 1');
    const release = setInterval(() => { for (const res of held.splice(0)) res.writeHead(202).end(); }, 20);
    await sender.idle();
    clearInterval(release);
    expect(got).toEqual([1, 3, 4]);
    await sender.close();
  });
});
