import {
  DEFAULT_IMDS_ENDPOINT, DEFAULT_IMDS_IPV6_ENDPOINT, describeFailure, imdsRequest, TOKEN_HEADER, TOKEN_TTL_HEADER,
  type ImdsResult,
} from './imds-client.js';
import { asIpAddress, hostPort, isHostValue, preview } from './ip.js';
import { readHostFromMetadataFile } from './metadata-file.js';
import { statSync } from 'node:fs';

/*
 * Where is the trace agent? On ECS (EC2 launch type) it is the host's private IP, port 8126.
 * Sources are tried in order, each with its own short timeout, the whole chain bounded; the
 * result says which source won and why each one before it did not (ecs-spec 11).
 */

export type DiscoverySource = 'env' | 'uds' | 'fargate' | 'metadata-file' | 'imdsv2' | 'imdsv1' | 'loopback';
export const DISCOVERY_SOURCES: readonly DiscoverySource[] = ['env', 'uds', 'fargate', 'metadata-file', 'imdsv2', 'imdsv1', 'loopback'];
/** Where a Datadog Agent's socket appears in a container that mounts the host's /var/run/datadog. */
export const DEFAULT_APM_SOCKET = '/var/run/datadog/apm.socket';

export interface Attempt {
  source: DiscoverySource;
  outcome: 'found' | 'skipped' | 'failed';
  /** Why it was skipped or failed, or where the value came from. */
  detail: string;
  ms: number;
}

export interface AgentHostResolution {
  /** Empty for a unix socket URL. */
  host: string;
  port: number;
  /** `http://host:port`, or the `DD_TRACE_AGENT_URL` the user set. */
  url: string;
  source: DiscoverySource;
  tried: Attempt[];
}

export interface ResolveOptions {
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Sources in the order to try them; `ECS_TRACE_DISCOVERY_ORDER` otherwise. Loopback is always last. */
  order?: readonly DiscoverySource[];
  /** Bound on the whole chain (ms); `ECS_TRACE_DISCOVERY_TIMEOUT` otherwise; default 2000. */
  timeoutMs?: number;
  /** How long to wait for the metadata file to be READY; default 1000. */
  metadataFileWaitMs?: number;
  /** Timeout of each IMDS request; default 500 (AWS's Go SDK waits 500 ms for the response). */
  imdsTimeoutMs?: number;
  /** IMDS base URL. Otherwise `AWS_EC2_METADATA_SERVICE_ENDPOINT`, or the IPv4/IPv6 default by `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`. */
  imdsEndpoint?: string;
  /** Agent port; otherwise `DD_TRACE_AGENT_PORT`, default 8126. */
  port?: number;
  /** The agent's unix socket; otherwise `ECS_TRACE_APM_SOCKET`, default /var/run/datadog/apm.socket. */
  socketPath?: string;
}

export class DiscoveryConfigError extends Error {
  override name = 'DiscoveryConfigError';
}

const DEFAULT_TIMEOUT_MS = 2000;

/** A list of sources, comma- or space-separated; `setting` names where it came from in errors. */
export function parseOrder(value: string, setting = 'ECS_TRACE_DISCOVERY_ORDER'): DiscoverySource[] {
  const out: DiscoverySource[] = [];
  for (const item of value.split(/[\s,]+/).filter(Boolean)) {
    if (!(DISCOVERY_SOURCES as readonly string[]).includes(item)) {
      throw new DiscoveryConfigError(`${setting}: unknown source ${JSON.stringify(item)}; use ${DISCOVERY_SOURCES.join(', ')}`);
    }
    out.push(item as DiscoverySource);
  }
  return out;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new DiscoveryConfigError(`${name}: ${JSON.stringify(value)} is not a positive whole number`);
  return n;
}

/** The IMDS endpoint as AWS's SDKs choose it. */
export function imdsEndpointFrom(env: Record<string, string | undefined>): string {
  const mode = (env['AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE'] ?? 'IPv4').toLowerCase();
  if (mode !== 'ipv4' && mode !== 'ipv6') throw new DiscoveryConfigError(`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: ${JSON.stringify(env['AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE'])}; use IPv4 or IPv6`);
  const explicit = env['AWS_EC2_METADATA_SERVICE_ENDPOINT'];
  if (explicit) return explicit.replace(/\/+$/, '');
  return mode === 'ipv6' ? DEFAULT_IMDS_IPV6_ENDPOINT : DEFAULT_IMDS_ENDPOINT;
}

const isTrue = (v: string | undefined) => v !== undefined && /^(true|1)$/i.test(v.trim());

/** ECS on Fargate, as the Datadog Agent detects it: AWS_EXECUTION_ENV, or ECS_FARGATE set. */
export function isFargate(env: Record<string, string | undefined>): boolean {
  return env['AWS_EXECUTION_ENV'] === 'AWS_ECS_FARGATE' || (env['ECS_FARGATE'] !== undefined && env['ECS_FARGATE'] !== '' && !/^(false|0)$/i.test(env['ECS_FARGATE']));
}

type StepResult = { found: string; detail: string } | { skipped: string } | { failed: string };

export async function resolveAgentHost(options: ResolveOptions = {}): Promise<AgentHostResolution> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? positiveInt('ECS_TRACE_DISCOVERY_TIMEOUT', env['ECS_TRACE_DISCOVERY_TIMEOUT'], DEFAULT_TIMEOUT_MS);
  let order = options.order ? [...options.order] : env['ECS_TRACE_DISCOVERY_ORDER'] ? parseOrder(env['ECS_TRACE_DISCOVERY_ORDER']) : [...DISCOVERY_SOURCES];
  order = order.filter((s) => s !== 'loopback');
  order.push('loopback');
  const port = options.port ?? positiveInt('DD_TRACE_AGENT_PORT', env['DD_TRACE_AGENT_PORT'], 8126);
  const imdsTimeout = options.imdsTimeoutMs ?? 500;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  // Validated up front: a bad setting is an error even when IMDS is never reached.
  const imdsEndpoint = options.imdsEndpoint ?? imdsEndpointFrom(env);
  const endpoint = () => imdsEndpoint;
  let imdsStopped: string | undefined;
  const tried: Attempt[] = [];

  const steps: Record<DiscoverySource, () => Promise<StepResult>> = {
    env: async () => {
      const url = env['DD_TRACE_AGENT_URL'];
      if (url) return { found: url, detail: 'DD_TRACE_AGENT_URL' };
      const host = env['DD_AGENT_HOST'];
      if (host === undefined || host === '') return { skipped: 'neither DD_TRACE_AGENT_URL nor DD_AGENT_HOST is set' };
      if (!isHostValue(host.trim())) return { failed: `DD_AGENT_HOST is set but is not a host name or IP address: ${preview(host)}` };
      return { found: host.trim(), detail: 'DD_AGENT_HOST' };
    },
    uds: async () => {
      // A socket shared through a host volume needs no address at all, as dd-trace itself knows.
      const path = options.socketPath ?? (env['ECS_TRACE_APM_SOCKET'] || DEFAULT_APM_SOCKET);
      let st;
      try {
        st = statSync(path);
      } catch {
        return { skipped: `no agent socket at ${path}` };
      }
      if (!st.isSocket()) return { failed: `${path} exists but is not a socket` };
      return { found: `unix://${path}`, detail: `the agent's socket at ${path}` };
    },
    fargate: async () => {
      // One network namespace per task: the agent sidecar is on localhost, and IMDS is not there.
      if (isFargate(env)) return { found: '127.0.0.1', detail: `on Fargate (${env['AWS_EXECUTION_ENV'] === 'AWS_ECS_FARGATE' ? 'AWS_EXECUTION_ENV=AWS_ECS_FARGATE' : 'ECS_FARGATE'}) the agent is a sidecar in this task, on localhost` };
      return { skipped: `not on Fargate (AWS_EXECUTION_ENV is ${env['AWS_EXECUTION_ENV'] ? JSON.stringify(env['AWS_EXECUTION_ENV']) : 'unset'})` };
    },
    'metadata-file': async () => {
      const path = env['ECS_CONTAINER_METADATA_FILE'];
      if (!path) return { skipped: 'ECS_CONTAINER_METADATA_FILE is not set (the ECS agent sets it when ECS_ENABLE_CONTAINER_METADATA=true)' };
      const wait = Math.min(options.metadataFileWaitMs ?? 1000, remaining());
      const r = await readHostFromMetadataFile({ path, waitMs: wait });
      if (!r.ok) return { failed: r.reason };
      return { found: r.host, detail: r.ready ? `HostPrivateIPv4Address in ${path}` : `HostPrivateIPv4Address in ${path} (not READY after ${wait} ms; the address is already final)` };
    },
    imdsv2: async () => {
      if (isTrue(env['AWS_EC2_METADATA_DISABLED'])) return { skipped: 'AWS_EC2_METADATA_DISABLED is true' };
      if (imdsStopped) return { skipped: imdsStopped };
      const t = Math.min(imdsTimeout, remaining());
      const token = await imdsRequest({ endpoint: endpoint(), method: 'PUT', path: '/latest/api/token', headers: { [TOKEN_TTL_HEADER]: '21600' }, timeoutMs: t });
      if (!token.ok) {
        const f = token.failure;
        const what = `token PUT to ${endpoint()}`;
        if (f.kind === 'response-timeout') {
          return { failed: `${describeFailure(f, what, t)}: the IMDSv2 hop-limit symptom; a bridge-mode container is one hop further than the host, so set the instance's HttpPutResponseHopLimit to 2 (or use the metadata file)` };
        }
        if (f.kind === 'status' && f.status === 400) {
          imdsStopped = 'IMDS refused the token request as malformed (400); not retried without a token';
          return { failed: `${describeFailure(f, what, t)} (a malformed request: AWS's SDKs stop here too)` };
        }
        if (f.kind === 'connect-timeout' || (f.kind === 'network' && f.code !== 'ECONNRESET')) {
          imdsStopped = `IMDS is not reachable at ${endpoint()}`;
        }
        return { failed: describeFailure(f, what, t) };
      }
      return localIpv4(endpoint(), { [TOKEN_HEADER]: token.body }, Math.min(imdsTimeout, remaining()), 'with a session token');
    },
    imdsv1: async () => {
      if (isTrue(env['AWS_EC2_METADATA_DISABLED'])) return { skipped: 'AWS_EC2_METADATA_DISABLED is true' };
      if (isTrue(env['AWS_EC2_METADATA_V1_DISABLED'])) return { skipped: 'AWS_EC2_METADATA_V1_DISABLED is true' };
      if (imdsStopped) return { skipped: imdsStopped };
      return localIpv4(endpoint(), {}, Math.min(imdsTimeout, remaining()), 'without a token');
    },
    loopback: async () => ({ found: '127.0.0.1', detail: 'no other source answered; tracers on this host (or in host network mode) reach an agent on loopback' }),
  };

  for (const source of order) {
    const t0 = Date.now();
    let r: StepResult;
    if (source !== 'loopback' && source !== 'env' && remaining() === 0) r = { skipped: `the ${timeoutMs} ms discovery budget was spent` };
    else r = await steps[source]();
    const ms = Date.now() - t0;
    if ('found' in r) {
      tried.push({ source, outcome: 'found', detail: r.detail, ms });
      if (source === 'env' && r.detail === 'DD_TRACE_AGENT_URL') return fromUrl(r.found, tried);
      if (source === 'uds') return { host: '', port: 0, url: r.found, source, tried };
      return { host: r.found, port, url: `http://${hostPort(r.found, port)}`, source, tried };
    }
    tried.push('skipped' in r ? { source, outcome: 'skipped', detail: r.skipped, ms } : { source, outcome: 'failed', detail: r.failed, ms });
  }
  /* c8 ignore next */
  throw new Error('unreachable: loopback always answers');
}

async function localIpv4(endpoint: string, headers: Record<string, string>, timeoutMs: number, how: string): Promise<StepResult> {
  const what = `GET ${endpoint}/latest/meta-data/local-ipv4 ${how}`;
  const r: ImdsResult = await imdsRequest({ endpoint, method: 'GET', path: '/latest/meta-data/local-ipv4', headers, timeoutMs });
  if (!r.ok) {
    const f = r.failure;
    if (f.kind === 'status' && f.status === 401) {
      return { failed: how === 'without a token' ? `${what} answered 401: this instance requires IMDSv2 (HttpTokens=required)` : `${what} answered 401: the token was refused` };
    }
    if (f.kind === 'status' && f.status === 403) return { failed: `${what} answered 403: IMDS is turned off on this instance (HttpEndpoint=disabled) or refused the request` };
    if (f.kind === 'status' && f.status === 404) return { failed: `${what} answered 404: the instance has no private IPv4 address (IPv6-only?)` };
    return { failed: describeFailure(f, what, timeoutMs) };
  }
  const ip = asIpAddress(r.body);
  if (ip === undefined) return { failed: `${what} answered 200 with something that is not an IP address: ${preview(r.body)}` };
  return { found: ip, detail: `local-ipv4 from ${endpoint} ${how}` };
}

function fromUrl(url: string, tried: Attempt[]): AgentHostResolution {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DiscoveryConfigError(`DD_TRACE_AGENT_URL: ${preview(url)} is not a URL (expected http://host:port or unix:///path)`);
  }
  if (parsed.protocol === 'unix:') return { host: '', port: 0, url, source: 'env', tried };
  const port = parsed.port ? Number(parsed.port) : 8126;
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port, url, source: 'env', tried };
}
