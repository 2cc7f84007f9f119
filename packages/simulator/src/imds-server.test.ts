import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import { afterEach, describe, expect, it } from 'vitest';
import { startImdsServer, type ImdsServer, type ImdsServerOptions } from './imds-server.js';
import { createWorld } from './world.js';

const world = createWorld({ localIpv4: '127.0.0.1' });
let servers: ImdsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function imds(o: Omit<ImdsServerOptions, 'world'> = {}, host = '127.0.0.1'): Promise<ImdsServer> {
  const s = await startImdsServer({ world, ...o }, host);
  servers.push(s);
  return s;
}

const TTL = 'X-aws-ec2-metadata-token-ttl-seconds';
const put = (s: ImdsServer, headers: Record<string, string>, path = '/latest/api/token') => fetch(s.url + path, { method: 'PUT', headers });

describe("AWS's own IMDS client (@aws-sdk/ec2-metadata-service) against the simulator", () => {
  const client = (s: ImdsServer, extra: Record<string, unknown> = {}) => new MetadataService({ endpoint: s.url, retries: 0, httpOptions: { timeout: 2000 }, ...extra });

  it('reads local-ipv4 in v1 mode (token API absent: the SDK falls back to IMDSv1)', async () => {
    const s = await imds({ mode: 'v1' });
    expect(await client(s).request('/latest/meta-data/local-ipv4', {})).toBe('127.0.0.1');
    expect(s.counts.tokenPut).toBe(1);
  });

  it('reads local-ipv4 with a token in v2-required mode', async () => {
    const s = await imds({ mode: 'v2-required' });
    const c = client(s);
    expect(await c.request('/latest/meta-data/local-ipv4', {})).toBe('127.0.0.1');
    expect(await c.request('/latest/meta-data/placement/availability-zone', {})).toBe('us-east-1a');
    expect(s.counts.unauthorized).toBe(0);
  });

  it('reads the instance identity document, consistent with the metadata', async () => {
    const s = await imds({ mode: 'v2-required' });
    const doc = JSON.parse(await client(s).request('/latest/dynamic/instance-identity/document', {})) as Record<string, unknown>;
    expect(doc).toMatchObject({ privateIp: '127.0.0.1', instanceId: world.instance.instanceId, availabilityZone: 'us-east-1a', region: 'us-east-1', accountId: '123456789012' });
  });

  it('fails with the errors it expects in off mode', async () => {
    const s = await imds({ mode: 'off' });
    await expect(client(s).request('/latest/meta-data/local-ipv4', {})).rejects.toThrow(/403/);
  });

  it('fails when IMDSv1 is disabled in the client and the token API is absent', async () => {
    const s = await imds({ mode: 'v1' });
    await expect(client(s, { ec2MetadataV1Disabled: true }).request('/latest/meta-data/local-ipv4', {})).rejects.toThrow();
  });
});

describe('token API', () => {
  it('issues a token and echoes the TTL header (AWS Go and Rust SDKs require it)', async () => {
    const s = await imds({ mode: 'v2-required' });
    const res = await put(s, { [TTL]: '21600' });
    expect(res.status).toBe(200);
    expect(res.headers.get(TTL)).toBe('21600');
    expect(res.headers.get('content-type')).toBe('text/plain');
    const token = await res.text();
    expect(token).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const ip = await fetch(`${s.url}/latest/meta-data/local-ipv4`, { headers: { 'X-aws-ec2-metadata-token': token } });
    expect(await ip.text()).toBe('127.0.0.1');
  });

  it.each([
    ['missing', undefined],
    ['zero', '0'],
    ['over six hours', '21601'],
    ['not a number', 'abc'],
    ['negative', '-5'],
  ])('answers 400 for a %s TTL', async (_label, ttl) => {
    const s = await imds({ mode: 'v2-optional' });
    const res = await put(s, ttl === undefined ? {} : { [TTL]: ttl });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<title>400 - Bad Request</title>');
  });

  it('refuses a PUT that carries X-Forwarded-For (SSRF defence)', async () => {
    const s = await imds({ mode: 'v2-optional' });
    expect((await put(s, { [TTL]: '60', 'X-Forwarded-For': '127.0.0.9' })).status).toBe(403);
  });

  it('refuses a token PUT on a versioned path, and other methods on the token path', async () => {
    const s = await imds({ mode: 'v2-optional' });
    expect((await put(s, { [TTL]: '60' }, '/2021-03-23/api/token')).status).toBe(403);
    expect((await fetch(`${s.url}/latest/api/token`)).status).toBe(405);
  });

  it('expires tokens after their TTL, then answers 401', async () => {
    let now = 1_000_000;
    const s = await imds({ mode: 'v2-optional', now: () => now });
    const token = await (await put(s, { [TTL]: '2' })).text();
    const get = () => fetch(`${s.url}/latest/meta-data/instance-id`, { headers: { 'X-aws-ec2-metadata-token': token } });
    expect((await get()).status).toBe(200);
    now += 2000;
    const res = await get();
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('401 - Unauthorized');
  });

  it('answers 401 to an unknown token even when tokens are optional', async () => {
    const s = await imds({ mode: 'v2-optional' });
    expect((await fetch(`${s.url}/latest/meta-data/instance-id`, { headers: { 'X-aws-ec2-metadata-token': 'nope' } })).status).toBe(401);
    expect((await fetch(`${s.url}/latest/meta-data/instance-id`)).status).toBe(200);
  });

  it('answers 401 without a token in v2-required mode', async () => {
    const s = await imds({ mode: 'v2-required' });
    const res = await fetch(`${s.url}/latest/meta-data/local-ipv4`);
    expect(res.status).toBe(401);
  });

  it('never answers a token PUT from a container when the hop limit is 1, and answers the host', async () => {
    // The simulator listens on 127.0.0.2; callers connect from 127.0.0.1, another address: a container.
    const s = await imds({ mode: 'v2-optional', hopLimit: 1 }, '127.0.0.2');
    const pending = put(s, { [TTL]: '60' }).catch((err: unknown) => err);
    const outcome = await Promise.race([pending, new Promise((r) => setTimeout(() => r('no answer'), 300))]);
    expect(outcome).toBe('no answer');
    expect(s.counts.tokenWithheld).toBe(1);
    // IMDSv1 GETs are not TTL-limited.
    expect(await (await fetch(`${s.url}/latest/meta-data/local-ipv4`)).text()).toBe('127.0.0.1');

    const host = await imds({ mode: 'v2-optional', hopLimit: 1 });
    expect((await put(host, { [TTL]: '60' })).status).toBe(200);
  });
});

describe('metadata paths', () => {
  it('lists directories with a trailing slash on entries that are directories', async () => {
    const s = await imds({ mode: 'v1' });
    expect(await (await fetch(`${s.url}/latest/meta-data/placement/`)).text()).toBe('availability-zone\navailability-zone-id\nregion');
    expect(await (await fetch(`${s.url}/latest/meta-data/network/interfaces/macs/`)).text()).toBe(`${world.instance.mac}/`);
    expect(await (await fetch(`${s.url}/latest/`)).text()).toBe('dynamic\nmeta-data\nuser-data');
  });

  it('serves hostname, mac and the ENI of device 0', async () => {
    const s = await imds({ mode: 'v1' });
    const get = async (p: string) => (await fetch(`${s.url}/latest/meta-data/${p}`)).text();
    expect(await get('mac')).toBe(world.instance.mac);
    expect(await get('hostname')).toBe('ip-127-0-0-1.ec2.internal');
    expect(await get(`network/interfaces/macs/${world.instance.mac}/device-number`)).toBe('0');
    expect(await get(`network/interfaces/macs/${world.instance.mac}/local-ipv4s`)).toBe('127.0.0.1');
  });

  it('answers an unknown path with the XHTML 404 page that naive curl users capture', async () => {
    const s = await imds({ mode: 'v1' });
    const res = await fetch(`${s.url}/latest/meta-data/public-ipv4`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/^<\?xml version="1.0" encoding="iso-8859-1"\?>[\s\S]*<h1>404 - Not Found<\/h1>/);
    expect((await fetch(`${s.url}/latest/user-data`)).status).toBe(404);
  });

  it('answers everything with 403 when IMDS is off', async () => {
    const s = await imds({ mode: 'off' });
    expect((await fetch(`${s.url}/latest/meta-data/local-ipv4`)).status).toBe(403);
    expect((await put(s, { [TTL]: '60' })).status).toBe(403);
  });
});
