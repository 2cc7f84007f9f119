import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';

/* /v0.6/stats groups go through the obfuscation their spans would have (trace-agent spec 7.7). */

describe('client stats obfuscation', () => {
  let agent: TestAgent;
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const start = BigInt(Date.now() - 60_000) * 1_000_000n;
  const payload = (service: string) => packr.pack({
    Env: 'prod', Version: '1',
    Stats: [{
      Start: start - (start % 10_000_000_000n), Duration: 10_000_000_000n,
      Stats: [
        { Service: service, Name: 'pg.query', Resource: "SELECT * FROM users WHERE id = 42 AND name = 'ann'", Type: 'sql', Hits: 2, TopLevelHits: 0, Errors: 0, Duration: 1000 },
        { Service: service, Name: 'redis.command', Resource: 'SET session:1234 secret-value', Type: 'redis', Hits: 1, TopLevelHits: 0, Errors: 0, Duration: 500 },
        { Service: service, Name: 'web.request', Resource: 'GET /users/42', Type: 'web', Hits: 3, TopLevelHits: 3, Errors: 0, Duration: 3000 },
      ],
    }],
  });
  const resources = async (service: string) => {
    const q = `service=${service}&groupBy=resource&start=${Date.now() - 3_600_000}&end=${Date.now() + 60_000}`;
    const body = (await (await fetch(`${agent.apiUrl}/api/v1/stats?${q}`)).json()) as { groups: { key: string }[] };
    return body.groups.map((g) => g.key).sort();
  };

  it('obfuscates SQL and quantizes Redis resources, and leaves the others', async () => {
    const res = await fetch(`${agent.intake}/v0.6/stats`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: payload('raw-sender') });
    expect(res.status).toBe(200);
    expect(await resources('raw-sender')).toEqual(['GET /users/42', 'SELECT * FROM users WHERE id = ? AND name = ?', 'SET']);
  });

  it('trusts a tracer that says it obfuscated already (Datadog-Obfuscation-Version)', async () => {
    const res = await fetch(`${agent.intake}/v0.6/stats`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack', 'Datadog-Obfuscation-Version': '1' }, body: payload('obfuscating-sender') });
    expect(res.status).toBe(200);
    expect(await resources('obfuscating-sender')).toContain("SELECT * FROM users WHERE id = 42 AND name = 'ann'");
  });
});
