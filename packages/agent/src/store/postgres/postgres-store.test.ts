import { afterAll, beforeAll } from 'vitest';
import { componentsAvailable } from '../../../../../e2e/components.js';
import { storeConformance } from '../conformance.js';
import { PostgresStore } from './postgres-store.js';
import { postgresUnavailable, startTestPostgres, type TestPostgres } from './test-server.js';

/* The PostgreSQL store passes the same conformance suite as the embedded one, against a real server. */

const run = componentsAvailable(postgresUnavailable(), 'PostgreSQL store tests');
let server: TestPostgres | undefined;
let n = 0;

if (run) {
  beforeAll(() => { server = startTestPostgres(15_000 + (process.pid % 5000)); }, 60_000);
  afterAll(() => server?.stop());
  storeConformance('postgres', async () => PostgresStore.open({ url: server!.database(`conformance_${n++}`) }), { sizeRetention: false });
}
