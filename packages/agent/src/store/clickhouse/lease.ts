import { randomUUID } from 'node:crypto';
import type { ClickHouseTransport } from './transport.js';

/*
 * One holder at a time among the processes of a ClickHouse store, for work that must happen once
 * (a cluster's monitors): ClickHouse has no locks, so a lease is a row (ReplacingMergeTree, the
 * newest claim kept) that its holder renews each round and another process claims once it has
 * lapsed (LEASE_MS without renewal). Two processes claiming in the same instant both read the
 * same newest claim back, so at most one holds it after; a holder that stops renewing hands over
 * within LEASE_MS.
 */

const LEASE_MS = 30_000;

export class ClickHouseLease {
  private readonly me = randomUUID();
  private ready: Promise<void> | undefined;

  constructor(private readonly t: ClickHouseTransport, private readonly name: string, private readonly now: () => number = Date.now) {}

  async holds(): Promise<boolean> {
    try {
      this.ready ??= this.t.command('CREATE TABLE IF NOT EXISTS leases (name String, holder String, until Int64, ver Int64) ENGINE = ReplacingMergeTree(ver) ORDER BY name');
      await this.ready;
      const read = async () => (await this.t.query<{ holder: string; until: string }>('SELECT holder, until FROM leases FINAL WHERE name = {n:String}', { n: this.name }))[0];
      const cur = await read();
      const now = this.now();
      if (cur && cur.holder !== this.me && Number(cur.until) > now) return false;
      await this.t.insert('leases', [{ name: this.name, holder: this.me, until: now + LEASE_MS, ver: now * 1000 + Math.floor(Math.random() * 1000) }]);
      return (await read())?.holder === this.me;
    } catch {
      this.ready = undefined;
      return false;
    }
  }

  async close(): Promise<void> {
    await this.t.close();
  }
}
