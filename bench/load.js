// The load the end-to-end benchmarks put on an agent: v0.4 payloads PUT over keep-alive
// connections, as dd-trace sends them.
import { Agent, request } from 'node:http';

/**
 * A function that sends the next body from `nextBody` to the agent's intake on `port` and
 * resolves once it is answered 200; `connections` keep-alive sockets at most.
 */
export function v04Sender(port, nextBody, traces, connections = 4) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const send = () => new Promise((resolve, reject) => {
    const body = nextBody();
    const req = request({ host: '127.0.0.1', port, path: '/v0.4/traces', method: 'PUT', agent, headers: { 'Content-Type': 'application/msgpack', 'Content-Length': body.length, 'Datadog-Meta-Lang': 'nodejs', 'X-Datadog-Trace-Count': traces } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
  send.close = () => agent.destroy();
  return send;
}
