import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImdsServer, createWorld, type ImdsServer, type ImdsServerOptions } from '@ecs-trace/simulator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveAgentHost, type AgentHostResolution } from './resolve.js';

/*
 * Every source and every failure of the agent-host chain, against the simulator's IMDS and real
 * files: what a user sees is the host chosen and, for each source, why it was or was not used.
 */

let dir: string;
let closers: (() => Promise<void>)[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ecs-trace-discovery-')); });
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
  rmSync(dir, { recursive: true, force: true });
});

async function imds(o: Omit<ImdsServerOptions, 'world'> = {}, host = '127.0.0.1'): Promise<ImdsServer> {
  const s = await startImdsServer({ world: createWorld({ localIpv4: '127.0.0.7' }), ...o }, host);
  closers.push(() => s.close());
  return s;
}

/** An HTTP server that answers every request as told: a stand-in for a misbehaving IMDS. */
async function answering(status: number, body: string): Promise<string> {
  const server: Server = createServer((_req, res) => { res.writeHead(status, { 'Content-Type': 'text/plain' }); res.end(body); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Accepts connections and never answers: the hop-limit symptom, or a hung IMDS. */
async function silent(): Promise<string> {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((s) => { sockets.push(s); s.resume(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

function metadataFile(doc: unknown): string {
  const path = join(dir, 'ecs-container-metadata.json');
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc, null, '\t'));
  return path;
}

// Tests never reach for the real 169.254.169.254: an endpoint that refuses stands in unless a test sets one.
const SAFE = { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9', ECS_TRACE_APM_SOCKET: '/nonexistent/ecs-trace-test/apm.socket' };

const outcome = (r: AgentHostResolution, source: string) => r.tried.find((t) => t.source === source);

describe('explicit configuration', () => {
  it('uses DD_AGENT_HOST as set, with DD_TRACE_AGENT_PORT', async () => {
    const r = await resolveAgentHost({ env: { ...SAFE, DD_AGENT_HOST: 'datadog-agent.internal', DD_TRACE_AGENT_PORT: '9126' } });
    expect(r).toMatchObject({ host: 'datadog-agent.internal', port: 9126, url: 'http://datadog-agent.internal:9126', source: 'env' });
    expect(r.tried).toHaveLength(1);
  });

  it('uses DD_TRACE_AGENT_URL over DD_AGENT_HOST, unix sockets included', async () => {
    expect(await resolveAgentHost({ env: { ...SAFE, DD_TRACE_AGENT_URL: 'http://[::1]:8200', DD_AGENT_HOST: '10.0.0.1' } })).toMatchObject({ host: '::1', port: 8200, url: 'http://[::1]:8200', source: 'env' });
    expect(await resolveAgentHost({ env: { ...SAFE, DD_TRACE_AGENT_URL: 'unix:///var/run/datadog/apm.socket' } })).toMatchObject({ host: '', url: 'unix:///var/run/datadog/apm.socket', source: 'env' });
  });

  it('refuses a DD_AGENT_HOST that holds an error page, says so, and goes on', async () => {
    const path = metadataFile({ HostPrivateIPv4Address: '127.0.0.5', MetadataFileStatus: 'READY' });
    const r = await resolveAgentHost({ env: { ...SAFE, DD_AGENT_HOST: '<?xml version="1.0"?><title>401 - Unauthorized</title>', ECS_CONTAINER_METADATA_FILE: path } });
    expect(r.source).toBe('metadata-file');
    expect(r.host).toBe('127.0.0.5');
    expect(outcome(r, 'env')).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('DD_AGENT_HOST is set but is not a host name or IP address: "<?xml') });
  });

  it('names the variable when DD_TRACE_AGENT_PORT is not a number', async () => {
    await expect(resolveAgentHost({ env: { ...SAFE, DD_TRACE_AGENT_PORT: 'eighty' } })).rejects.toThrow('DD_TRACE_AGENT_PORT: "eighty" is not a positive whole number');
  });

  it('names the variable and the sources when ECS_TRACE_DISCOVERY_ORDER has an unknown one', async () => {
    await expect(resolveAgentHost({ env: { ...SAFE, ECS_TRACE_DISCOVERY_ORDER: 'imdsv2,dns' } })).rejects.toThrow('ECS_TRACE_DISCOVERY_ORDER: unknown source "dns"; use env, uds, fargate, metadata-file, imdsv2, imdsv1, loopback');
  });
});

describe('the agent\'s unix socket', () => {
  it('uses a socket shared from the host, as a URL, before any network source', async () => {
    const path = join(dir, 'apm.socket');
    const server = createTcpServer();
    await new Promise<void>((r) => server.listen(path, r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_TRACE_APM_SOCKET: path, ECS_CONTAINER_METADATA_FILE: metadataFile({ HostPrivateIPv4Address: '127.0.0.5', MetadataFileStatus: 'READY' }) } });
    expect(r).toMatchObject({ source: 'uds', host: '', port: 0, url: `unix://${path}` });
  });

  it('says so when the path is not a socket, and goes on', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, '');
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_TRACE_APM_SOCKET: path, AWS_EC2_METADATA_DISABLED: 'true' } });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'uds')).toMatchObject({ outcome: 'failed', detail: `${path} exists but is not a socket` });
  });
});

describe('ECS container metadata file', () => {
  it('uses HostPrivateIPv4Address from a READY file', async () => {
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: metadataFile({ Cluster: 'c', HostPrivateIPv4Address: '127.0.0.5', MetadataFileStatus: 'READY' }) } });
    expect(r).toMatchObject({ host: '127.0.0.5', port: 8126, url: 'http://127.0.0.5:8126', source: 'metadata-file' });
  });

  it('waits for the file to become READY', async () => {
    const path = metadataFile({ Cluster: 'c' });
    setTimeout(() => metadataFile({ Cluster: 'c', HostPrivateIPv4Address: '127.0.0.6', MetadataFileStatus: 'READY' }), 100);
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: path, AWS_EC2_METADATA_DISABLED: 'true' }, metadataFileWaitMs: 5000 });
    expect(r).toMatchObject({ host: '127.0.0.6', source: 'metadata-file' });
    expect(outcome(r, 'metadata-file')!.detail).toBe(`HostPrivateIPv4Address in ${path}`);
  });

  it('uses the address of a file that never becomes READY, and says so', async () => {
    const path = metadataFile({ Cluster: 'c', HostPrivateIPv4Address: '127.0.0.5' });
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: path }, metadataFileWaitMs: 150 });
    expect(r).toMatchObject({ host: '127.0.0.5', source: 'metadata-file' });
    expect(outcome(r, 'metadata-file')!.detail).toContain('not READY after 150 ms; the address is already final');
  });

  it('fails over when the file never becomes READY and has no address', async () => {
    const path = metadataFile({ Cluster: 'c' });
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: path, AWS_EC2_METADATA_DISABLED: 'true' }, metadataFileWaitMs: 150 });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'metadata-file')).toMatchObject({ outcome: 'failed', detail: `${path} never reached MetadataFileStatus READY and has no HostPrivateIPv4Address (waited 150 ms)` });
  });

  it('fails over on a malformed file, naming the problem', async () => {
    const path = metadataFile('{"Cluster": "c", "HostPrivateIPv4Add');
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: path, AWS_EC2_METADATA_DISABLED: 'true' }, metadataFileWaitMs: 100 });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'metadata-file')!.detail).toMatch(new RegExp(`^${path} is not valid JSON \\(.+\\) \\(waited 100 ms\\)$`));
  });

  it('refuses a host field that is not an IP address', async () => {
    const path = metadataFile({ HostPrivateIPv4Address: 'curl: (7) Failed to connect', MetadataFileStatus: 'READY' });
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: path, AWS_EC2_METADATA_DISABLED: 'true' }, metadataFileWaitMs: 100 });
    expect(outcome(r, 'metadata-file')!.detail).toBe(`${path}: HostPrivateIPv4Address is not an IP address`);
  });

  it('explains a READY file without the host address', async () => {
    const path = metadataFile({ Cluster: 'c', MetadataFileStatus: 'READY' });
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: path, AWS_EC2_METADATA_DISABLED: 'true' } });
    expect(outcome(r, 'metadata-file')!.detail).toContain('is READY but has no HostPrivateIPv4Address (the ECS agent could not read it from IMDS when it started)');
  });

  it('reports a file that does not exist', async () => {
    const path = join(dir, 'missing.json');
    const r = await resolveAgentHost({ env: { ...SAFE, ECS_CONTAINER_METADATA_FILE: path, AWS_EC2_METADATA_DISABLED: 'true' }, metadataFileWaitMs: 100 });
    expect(outcome(r, 'metadata-file')!.detail).toBe(`${path} does not exist (waited 100 ms)`);
  });
});

describe('IMDS', () => {
  it('reads local-ipv4 with a session token (IMDSv2)', async () => {
    const s = await imds({ mode: 'v2-required' });
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url } });
    expect(r).toMatchObject({ host: '127.0.0.7', source: 'imdsv2' });
    expect(outcome(r, 'metadata-file')!.outcome).toBe('skipped');
  });

  it('falls back to IMDSv1 when the token API answers 404 (IMDSv1-only instance)', async () => {
    const s = await imds({ mode: 'v1' });
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url } });
    expect(r).toMatchObject({ host: '127.0.0.7', source: 'imdsv1' });
    expect(outcome(r, 'imdsv2')!.detail).toBe(`token PUT to ${s.url} answered HTTP 404`);
  });

  it.each([403, 405])('falls back to IMDSv1 when the token PUT answers %i, as AWS SDKs do', async (status) => {
    const s = await imds({ mode: 'v2-optional', tokenPutStatus: status });
    expect(await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url } })).toMatchObject({ source: 'imdsv1', host: '127.0.0.7' });
  });

  it('does not fall back to IMDSv1 after a 400 on the token PUT', async () => {
    const s = await imds({ mode: 'v2-optional', tokenPutStatus: 400 });
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url } });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'imdsv2')!.detail).toContain('answered HTTP 400 (a malformed request');
    expect(outcome(r, 'imdsv1')).toMatchObject({ outcome: 'skipped', detail: expect.stringContaining('malformed (400)') });
  });

  it('reports the hop-limit symptom when the token PUT is never answered, then uses IMDSv1', async () => {
    // The simulator on 127.0.0.2 sees this process (127.0.0.1) as a bridge-mode container.
    const s = await imds({ mode: 'v2-optional', hopLimit: 1 }, '127.0.0.2');
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url }, imdsTimeoutMs: 200 });
    expect(r).toMatchObject({ source: 'imdsv1', host: '127.0.0.7' });
    expect(outcome(r, 'imdsv2')!.detail).toContain('connected, but no answer within 200 ms: the IMDSv2 hop-limit symptom');
    expect(outcome(r, 'imdsv2')!.detail).toContain('HttpPutResponseHopLimit to 2');
  });

  it('says the instance requires IMDSv2 when v1 gets 401 after a hop-limit failure', async () => {
    const s = await imds({ mode: 'v2-required', hopLimit: 1 }, '127.0.0.2');
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url }, imdsTimeoutMs: 200 });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'imdsv1')!.detail).toBe(`GET ${s.url}/latest/meta-data/local-ipv4 without a token answered 401: this instance requires IMDSv2 (HttpTokens=required)`);
  });

  it('reports a 404 for local-ipv4 (an IPv6-only instance)', async () => {
    const url = await answering(404, 'not found');
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: url } });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'imdsv1')!.detail).toContain('answered 404: the instance has no private IPv4 address');
  });

  it('never takes an answer that is not an IP address', async () => {
    const url = await answering(200, '<html><title>Captive portal</title></html>');
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: url } });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'imdsv2')!.detail).toContain('answered 200 with something that is not an IP address: "<html><title>Captive portal</title></html>"');
  });

  it('reports 403 from an instance with IMDS turned off', async () => {
    const s = await imds({ mode: 'off' });
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url } });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'imdsv1')!.detail).toContain('answered 403: IMDS is turned off on this instance (HttpEndpoint=disabled)');
  });

  it('skips IMDSv1 when AWS_EC2_METADATA_V1_DISABLED is set', async () => {
    const s = await imds({ mode: 'v1' });
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url, AWS_EC2_METADATA_V1_DISABLED: 'true' } });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'imdsv1')).toMatchObject({ outcome: 'skipped', detail: 'AWS_EC2_METADATA_V1_DISABLED is true' });
  });

  it('skips IMDS when AWS_EC2_METADATA_DISABLED is set', async () => {
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_DISABLED: 'true' } });
    expect(r.tried.map((t) => `${t.source}:${t.outcome}`)).toEqual(['env:skipped', 'uds:skipped', 'fargate:skipped', 'metadata-file:skipped', 'imdsv2:skipped', 'imdsv1:skipped', 'loopback:found']);
  });

  it('on Fargate answers localhost (the agent sidecar) without asking IMDS, which is not there', async () => {
    const url = await closedPort();
    for (const fargate of [{ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' }, { ECS_FARGATE: 'true' }]) {
      const r = await resolveAgentHost({ env: { ...SAFE, ...fargate, AWS_EC2_METADATA_SERVICE_ENDPOINT: url } });
      expect(r).toMatchObject({ host: '127.0.0.1', url: 'http://127.0.0.1:8126', source: 'fargate' });
      expect(r.tried.map((t) => t.source)).toEqual(['env', 'uds', 'fargate']);
    }
    // DD_AGENT_HOST set by the task definition still wins.
    expect((await resolveAgentHost({ env: { ...SAFE, AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE', DD_AGENT_HOST: '127.0.0.9' } })).source).toBe('env');
    expect((await resolveAgentHost({ env: { ...SAFE, AWS_EXECUTION_ENV: 'AWS_ECS_EC2', AWS_EC2_METADATA_DISABLED: 'true' } })).source).toBe('loopback');
  });

  it('does not retry IMDS without a token when nothing listens there', async () => {
    const url = await closedPort();
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: url } });
    expect(outcome(r, 'imdsv2')!.detail).toBe(`token PUT to ${url}: connection refused`);
    expect(outcome(r, 'imdsv1')).toMatchObject({ outcome: 'skipped', detail: `IMDS is not reachable at ${url}` });
  });

  it('spends no more than the chain budget on a hung IMDS: later sources are skipped', async () => {
    const url = await silent();
    const r = await resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT: url }, timeoutMs: 150, imdsTimeoutMs: 1000 });
    expect(r.source).toBe('loopback');
    expect(outcome(r, 'imdsv2')!.detail).toMatch(/connected, but no answer within 1[0-5]\d ms/);
    expect(outcome(r, 'imdsv1')).toMatchObject({ outcome: 'skipped', detail: 'the 150 ms discovery budget was spent' });
  });

  it('follows AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE and refuses an unknown mode', async () => {
    await expect(resolveAgentHost({ env: { ...SAFE, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'ipv5' } })).rejects.toThrow('AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "ipv5"; use IPv4 or IPv6');
  });
});

describe('order', () => {
  it('tries the sources in the configured order, loopback last', async () => {
    const s = await imds({ mode: 'v2-optional' });
    const path = metadataFile({ HostPrivateIPv4Address: '127.0.0.5', MetadataFileStatus: 'READY' });
    const env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: s.url, ECS_CONTAINER_METADATA_FILE: path };
    expect((await resolveAgentHost({ env })).source).toBe('metadata-file');
    expect((await resolveAgentHost({ env, order: ['imdsv1', 'metadata-file'] })).source).toBe('imdsv1');
    expect((await resolveAgentHost({ env: { ...SAFE, ...env, ECS_TRACE_DISCOVERY_ORDER: 'imdsv2' } })).source).toBe('imdsv2');
    expect((await resolveAgentHost({ env: { ...SAFE, ...env, DD_AGENT_HOST: '127.0.0.9' }, order: ['metadata-file', 'env'] })).source).toBe('metadata-file');
  });
});
