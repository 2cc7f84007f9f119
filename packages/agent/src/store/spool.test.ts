import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentMetrics, createLogger, LogOnce } from '../runtime/index.js';
import type { TraceStore, WriteBatch } from './contract.js';
import { SpooledStore } from './spool.js';

/* The spool in front of a shared store, with a stand-in for the store that fails when told to. */

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function remote(failures: { n: number }) {
  const received: string[] = [];
  const store = {
    async write(b: WriteBatch) {
      if (failures.n > 0) { failures.n--; throw new Error('connection refused'); }
      received.push(b.hostname);
    },
    async writeStats() {},
    async close() {},
  } as unknown as TraceStore;
  return { store, received };
}

const batch = (name: string): WriteBatch => ({ chunks: [], env: 'prod', hostname: name, containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: 1n });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('the spool', () => {
  it('ships every acknowledged payload in order once the store answers again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-'));
    dirs.push(dataDir);
    const failures = { n: 3 };
    const r = remote(failures);
    const metrics = agentMetrics();
    const spool = new SpooledStore(r.store, { dataDir, maxBytes: 1e9, metrics, logOnce: new LogOnce(createLogger('off')) });
    for (const name of ['a', 'b', 'c', 'd']) await spool.write(batch(name));
    await until(() => r.received.length === 4);
    expect(r.received).toEqual(['a', 'b', 'c', 'd']);
    expect(metrics.registry.render()).toMatch(/ecs_trace_store_spool_ship_errors_total 3/);
    expect(spool.spooledBytes).toBe(0);
    await spool.close();
  });

  it('keeps what it could not ship for the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-'));
    dirs.push(dataDir);
    const down = remote({ n: Number.POSITIVE_INFINITY });
    const first = new SpooledStore(down.store, { dataDir, maxBytes: 1e9, metrics: agentMetrics(), logOnce: new LogOnce(createLogger('off')) });
    await first.write(batch('kept-1'));
    await first.write(batch('kept-2'));
    await first.close();
    const up = remote({ n: 0 });
    const second = new SpooledStore(up.store, { dataDir, maxBytes: 1e9, metrics: agentMetrics(), logOnce: new LogOnce(createLogger('off')) });
    await until(() => up.received.length === 2);
    expect(up.received).toEqual(['kept-1', 'kept-2']);
    await second.close();
  });

  it('drops the oldest past its bound, counted, and keeps the newest', { timeout: 30_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spool-'));
    dirs.push(dataDir);
    const failures = { n: Number.POSITIVE_INFINITY };
    const r = remote(failures);
    const metrics = agentMetrics();
    const spool = new SpooledStore(r.store, { dataDir, maxBytes: 2000, metrics, logOnce: new LogOnce(createLogger('off')) });
    for (let i = 0; i < 40; i++) await spool.write(batch(`p${i}`));
    expect(spool.spooledBytes).toBeLessThanOrEqual(2000);
    const dropped = Number(/ecs_trace_store_spool_dropped_total (\d+)/.exec(metrics.registry.render())![1]);
    expect(dropped).toBeGreaterThan(0);
    failures.n = 0;
    await until(() => r.received.includes('p39'));
    expect(r.received.at(-1)).toBe('p39');
    expect(r.received).not.toContain('p0');
    expect(r.received.length + dropped).toBe(40);
    await spool.close();
  });
});
