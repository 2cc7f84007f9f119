import pg from 'pg';

/*
 * One holder at a time among every process of a shared store, for work that must happen once
 * (the monitors of a cluster: N replicas, one notification): a session advisory lock on a
 * connection of its own. The holder keeps it while its connection lives; a holder that dies or
 * loses its connection lets it go, and the next process to ask takes it (monitors ask every
 * round, so a hand-over takes a round). A store that cannot be reached holds nothing.
 */

export class AdvisoryLease {
  private client: pg.Client | undefined;
  private held = false;

  constructor(private readonly o: { url: string; password?: string }, private readonly name: string) {}

  /** Whether this process holds the lease now, taking it if it is free. */
  async holds(): Promise<boolean> {
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.o.url, connectionTimeoutMillis: 5000, ...(this.o.password ? { password: this.o.password } : {}) });
        // A connection the server ends (a failover) lets the lease go: the next round asks anew.
        client.on('error', () => this.drop());
        client.on('end', () => this.drop());
        await client.connect();
        this.client = client;
      }
      if (this.held) {
        await this.client.query('SELECT 1');
        return true;
      }
      const { rows } = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`ecs-trace:${this.name}`]);
      this.held = rows[0]?.ok === true;
      return this.held;
    } catch {
      this.drop();
      return false;
    }
  }

  private drop(): void {
    const c = this.client;
    this.client = undefined;
    this.held = false;
    void c?.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.held = false;
    await c?.end().catch(() => undefined);
  }
}
