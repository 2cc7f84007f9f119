import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeV04, type Span } from '@ecs-trace/protocol';
import { startTestAgent } from '@ecs-trace/agent/testing';
import { postgresUnavailable, startTestPostgres } from '../packages/agent/src/store/postgres/test-server.js';
import { componentsAvailable } from './components.js';
import { startWebhook } from './webhook.js';
import { freePort } from './ports.js';

/*
 * Monitors of a cluster: two `ecs-trace ui` replicas on one PostgreSQL with the same monitors
 * file send one notification for an alert, not two; killed with -9, the evaluating replica hands
 * over to the other, which takes up the state it kept in the store and says nothing twice.
 */

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const run = componentsAvailable(postgresUnavailable(), 'monitors of a cluster on PostgreSQL');

type Monitors = { monitors: { id: string; state: string | null; elsewhere?: boolean }[] };

describe.runIf(run)('monitors with two ecs-trace ui replicas on one PostgreSQL', () => {
  it('notify once, and hand over when the evaluating replica is killed', async () => {
    const pg = startTestPostgres(await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-monitors-cluster-'));
    const hook = await startWebhook();
    type Post = { state: string; monitor: { id: string } };
    /** What the webhook has been posted so far, read as JSON. */
    const posts = () => hook.posts.map((b) => JSON.parse(b) as Post);
    const replicas: { child: ChildProcess; api: string }[] = [];
    try {
      const url = pg.database('cluster');
      // An agent stores 10 requests of `checkout`, 4 failing; its stats reach the store as it stops.
      const agent = await startTestAgent({ ECS_TRACE_STORE: url });
      const now = BigInt(Date.now()) * 1_000_000n;
      const chunks: Span[][] = Array.from({ length: 10 }, (_, i) => [{ service: 'checkout', name: 'web.request', resource: 'POST /pay', type: 'web', traceId: 0xc0de0n + BigInt(i), spanId: 1n, parentId: 0n,
        start: now - BigInt(i) * 1_000_000_000n, duration: 5_000_000, error: i < 4 ? 1 : 0, meta: { 'span.kind': 'server' }, metrics: { _sampling_priority_v1: 1 } }]);
      expect((await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
      // Shipped from its spool once PostgreSQL is open (migrations first): then its stats follow as it stops.
      for (let i = 0; i < 200; i++) {
        const listed = (await (await fetch(`${agent.apiUrl}/api/v1/traces?service=checkout&limit=20&start=${Date.now() - 600_000}`)).json()) as { traces: unknown[] };
        if (listed.traces.length === 10) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await agent.close();
      writeFileSync(join(dir, 'monitors.yaml'), `channels: [{ name: hook, kind: webhook, url: "${hook.url}" }]
monitors: [{ id: checkout-errors, service: checkout, metric: error_rate, window: 1h, critical: 20, notify: [hook] }]
`);
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const child = spawn(process.execPath, [BIN, 'ui', '--store', url, '--api-port', String(port), '--monitors-file', join(dir, 'monitors.yaml'), '--monitors-interval', '300ms'],
          { env: { PATH: process.env['PATH'] ?? '', DD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'ignore'] });
        replicas.push({ child, api: `http://127.0.0.1:${port}` });
      }
      const states = async () => Promise.all(replicas.map(async (r) => {
        try {
          return ((await (await fetch(`${r.api}/api/v1/monitors`)).json()) as Monitors).monitors[0];
        } catch {
          return undefined;
        }
      }));
      for (let i = 0; i < 150 && posts().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      // Several rounds of both replicas: still one notification.
      await new Promise((r) => setTimeout(r, 1500));
      expect(posts().map((p) => p.state)).toEqual(['ALERT']);
      const seen = await states();
      const leader = seen.findIndex((m) => m?.state === 'ALERT' && !m.elsewhere);
      expect(leader).toBeGreaterThanOrEqual(0);
      // The other replica shows the state the evaluating one keeps in the store.
      expect(seen[1 - leader]).toMatchObject({ state: 'ALERT', elsewhere: true });
      // The evaluating replica dies: its connection, and with it the lock, goes; the other takes
      // over from the stored state, so the alert still on is not told again.
      replicas[leader]!.child.kill('SIGKILL');
      let other: Monitors['monitors'][number] | undefined;
      for (let i = 0; i < 150 && (other === undefined || other.elsewhere); i++) {
        await new Promise((r) => setTimeout(r, 100));
        other = (await states())[1 - leader];
      }
      expect(other).toMatchObject({ state: 'ALERT' });
      expect(other?.elsewhere).toBeUndefined();
      await new Promise((r) => setTimeout(r, 1000));
      expect(posts().map((p) => p.state)).toEqual(['ALERT']);
    } finally {
      for (const r of replicas) r.child.kill('SIGKILL');
      hook.close();
      pg.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
