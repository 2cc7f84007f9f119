import { hostPort } from '@ecs-trace/discovery';

/*
 * The tracer's settings: init() options first, then the environment variables dd-trace reads,
 * then defaults. Where the agent is: url, else hostname/port, else DD_TRACE_AGENT_URL, else
 * DD_AGENT_HOST/DD_TRACE_AGENT_PORT, else (on ECS) discovery, else 127.0.0.1:8126.
 */

export interface TracerOptions {
  service?: string;
  env?: string;
  version?: string;
  /** The agent's host, or 'auto' to discover it (the default on ECS). */
  hostname?: string;
  port?: number;
  url?: string;
  /** Traces to keep, 0 to 1 (a sampling rule for every trace). */
  sampleRate?: number;
  tags?: Record<string, string>;
  enabled?: boolean;
  flushInterval?: number;
  /** v0.4 (default) or v0.5. */
  protocolVersion?: '0.4' | '0.5';
  /** Largest number of finished spans held while the agent is unreachable. */
  maxBufferedSpans?: number;
  /** Instrument node:http/https and fetch; default true. */
  plugins?: boolean;
}

export interface ResolvedConfig {
  service: string;
  env: string;
  version: string;
  agent: { kind: 'url'; url: URL } | { kind: 'auto' };
  port: number;
  sampleRate: number | undefined;
  tags: Record<string, string>;
  enabled: boolean;
  flushInterval: number;
  protocol: 'v0.4' | 'v0.5';
  maxBufferedSpans: number;
  plugins: boolean;
}

export class TracerConfigError extends Error {
  override name = 'TracerConfigError';
}

/** DD_TAGS: `key:value` pairs separated by commas or spaces. */
export function parseTags(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (value ?? '').split(/[,\s]+/)) {
    const i = item.indexOf(':');
    if (i > 0) out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function onEcs(env: NodeJS.ProcessEnv): boolean {
  return env['AWS_EXECUTION_ENV'] === 'AWS_ECS_EC2' || env['ECS_CONTAINER_METADATA_URI_V4'] !== undefined;
}

export function agentUrl(host: string, port: number): URL {
  return new URL(`http://${hostPort(host, port)}`);
}

export function resolveConfig(o: TracerOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const port = o.port ?? (env['DD_TRACE_AGENT_PORT'] ? Number(env['DD_TRACE_AGENT_PORT']) : 8126);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new TracerConfigError(`port: ${JSON.stringify(o.port ?? env['DD_TRACE_AGENT_PORT'])} is not a port number`);
  let agent: ResolvedConfig['agent'];
  const url = o.url ?? (o.hostname === undefined ? env['DD_TRACE_AGENT_URL'] : undefined);
  if (url) {
    try {
      agent = { kind: 'url', url: new URL(url) };
    } catch {
      throw new TracerConfigError(`url: ${JSON.stringify(url)} is not a URL (http://host:port or unix:///path)`);
    }
  } else {
    const host = o.hostname ?? env['DD_AGENT_HOST'] ?? (onEcs(env) ? 'auto' : '127.0.0.1');
    agent = host === 'auto' ? { kind: 'auto' } : { kind: 'url', url: agentUrl(host, port) };
  }
  const rateRaw = o.sampleRate ?? (env['DD_TRACE_SAMPLE_RATE'] !== undefined && env['DD_TRACE_SAMPLE_RATE'] !== '' ? Number(env['DD_TRACE_SAMPLE_RATE']) : undefined);
  if (rateRaw !== undefined && !(rateRaw >= 0 && rateRaw <= 1)) throw new TracerConfigError(`sampleRate: ${rateRaw} is not between 0 and 1`);
  const enabledEnv = env['DD_TRACE_ENABLED'];
  return {
    service: o.service ?? env['DD_SERVICE'] ?? (process.argv[1]?.split('/').pop()?.replace(/\.[cm]?js$/, '') || 'node'),
    env: o.env ?? env['DD_ENV'] ?? '',
    version: o.version ?? env['DD_VERSION'] ?? '',
    agent,
    port,
    sampleRate: rateRaw,
    tags: { ...parseTags(env['DD_TAGS']), ...o.tags },
    enabled: o.enabled ?? !(enabledEnv !== undefined && /^(false|0)$/i.test(enabledEnv)),
    flushInterval: o.flushInterval ?? 1000,
    protocol: (o.protocolVersion ?? env['DD_TRACE_AGENT_PROTOCOL_VERSION']) === '0.5' ? 'v0.5' : 'v0.4',
    maxBufferedSpans: o.maxBufferedSpans ?? 10_000,
    plugins: o.plugins ?? true,
  };
}
