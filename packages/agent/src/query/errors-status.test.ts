import { encodeV04, markTopLevel, type Span } from '@ecs-trace/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../testing.js';
import type { ApiErrors } from './api-types.js';

/*
 * An error group's status as people set it through the API: resolved, ignored, and open again when
 * a resolved error comes back (a regression), as the next agent or UI replica of the store sees it.
 */

const fail = (traceId: bigint, startNs: bigint): Span[] => {
  const chunk: Span[] = [{
    service: 'shop', name: 'web.request', resource: 'POST /pay', type: 'web', traceId, spanId: 1n, parentId: 0n, start: startNs, duration: 1_000_000, error: 1,
    meta: { env: 'prod', 'error.type': 'CardDeclined', 'error.message': `card declined for c${traceId}`, 'error.stack': `CardDeclined: x\n    at charge (/app/pay.js:${traceId}:1)` }, metrics: {},
  }];
  markTopLevel(chunk, false);
  return chunk;
};

describe('error group status', () => {
  let agent: TestAgent;
  const errors = async (extra = ''): Promise<ApiErrors> => (await (await fetch(`${agent.apiUrl}/api/v1/errors?start=${Date.now() - 3_600_000}${extra}`)).json()) as ApiErrors;
  const send = async (chunks: Span[][]) => expect((await fetch(`${agent.intake}/v0.4/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: encodeV04(chunks) })).status).toBe(200);
  const put = (group: string, body: unknown) => fetch(`${agent.apiUrl}/api/v1/errors/${group}/status`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  beforeAll(async () => { agent = await startTestAgent(); });
  afterAll(async () => { await agent.close(); });

  it('is open until set; resolved, then open again (regressed) when the error comes back; ignored stays ignored', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    await send([fail(1n, now - 60_000_000_000n), fail(2n, now - 30_000_000_000n)]);
    let groups = (await errors()).groups;
    for (let i = 0; i < 50 && groups.length === 0; i++) { await new Promise((r) => setTimeout(r, 100)); groups = (await errors()).groups; }
    expect(groups).toHaveLength(1);
    const [g] = groups;
    expect(g).toMatchObject({ service: 'shop', errorType: 'CardDeclined', count: 2, status: 'open' });
    const set = await put(g!.id, { status: 'resolved' });
    expect(set.status).toBe(200);
    expect((await errors()).groups[0]).toMatchObject({ status: 'resolved' });
    expect((await errors('&status=resolved')).groups).toHaveLength(1);
    expect((await errors('&status=open')).groups).toHaveLength(0);
    // It happens again, after it was resolved.
    await send([fail(3n, BigInt(Date.now() + 1000) * 1_000_000n)]);
    await expect.poll(async () => (await errors()).groups[0]?.count).toBe(3);
    expect((await errors()).groups[0]).toMatchObject({ status: 'open', regressed: true });
    expect((await put(g!.id, { status: 'ignored' })).status).toBe(200);
    expect((await errors()).groups[0]).toMatchObject({ status: 'ignored' });
    expect((await errors()).groups[0]!.regressed).toBeUndefined();
  });

  it('refuses what is not a status or a group, naming it', async () => {
    const bad = await put('00000000000000aa', { status: 'fixed' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'status: give one of open, resolved, ignored' });
    const noGroup = await put('nope', { status: 'open' });
    expect(noGroup.status).toBe(400);
    expect(((await noGroup.json()) as { error: string }).error).toBe('group: "nope" is not an error group\'s id (16 hex digits)');
  });
});
