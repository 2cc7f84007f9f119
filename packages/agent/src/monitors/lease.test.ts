import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentsAvailable } from '../../../../e2e/components.js';
import { freePort } from '../../../../e2e/ports.js';
import { createLogger } from '../runtime/index.js';
import { AdvisoryLease } from '../store/postgres/advisory-lease.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from '../store/postgres/test-server.js';
import { parseMonitors } from './definition.js';
import { MonitorRunner } from './runner.js';

/*
 * Monitors of a cluster (a shared PostgreSQL): every agent and UI replica has the monitors file,
 * one evaluates at a time (an advisory lock), so an alert is told once; when that one goes, the
 * next round of another takes over.
 */

const run = componentsAvailable(postgresUnavailable(), 'monitor leadership on PostgreSQL');

describe.runIf(run)('monitors with a shared store', () => {
  let pg: TestPostgres;
  beforeAll(async () => { pg = startTestPostgres(await freePort()); }, 60_000);
  afterAll(() => pg?.stop());

  it('are evaluated by one process at a time, and handed over when it goes', async () => {
    const file = parseMonitors('monitors: [{ id: errors, service: shop, metric: error_rate, critical: 5 }]');
    const reads: string[] = [];
    const replica = (name: string) => {
      const lease = new AdvisoryLease({ url: pg.url }, 'monitors');
      const runner = new MonitorRunner({ file, log: createLogger('silent'), leader: () => lease.holds(), read: async () => { reads.push(name); return { value: 50, requests: 10 }; } });
      return { lease, runner };
    };
    const a = replica('a');
    const b = replica('b');
    const c = replica('c');
    for (let i = 0; i < 3; i++) for (const r of [a, b, c]) await r.runner.evaluateAll();
    expect(reads).toEqual(['a', 'a', 'a']);
    expect(a.runner.statuses()[0]).toMatchObject({ state: 'ALERT' });
    expect(b.runner.statuses()[0]).toMatchObject({ state: undefined, elsewhere: true });
    // The evaluating replica goes (its connection with it): the next to ask takes over.
    await a.lease.close();
    reads.length = 0;
    for (const r of [b, c]) await r.runner.evaluateAll();
    expect(reads).toEqual(['b']);
    expect(b.runner.statuses()[0]).toMatchObject({ state: 'ALERT' });
    for (const r of [a, b, c]) {
      await r.runner.close();
      await r.lease.close();
    }
  });
});
