import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname as osHostname } from 'node:os';
import { FilterConfigError, TraceFilters } from './filters.js';
import type { ObfuscationConfig } from './obfuscate/obfuscator.js';

/*
 * Every setting the agent reads, in one registry: the environment variables (Datadog's names
 * where the Datadog Agent has the setting, ECS_TRACE_* for ours), the CLI flag, the type, the
 * default and a description. The CLI's options and the README's configuration table are
 * generated from this list, so they cannot drift from what the agent really reads.
 */

export type SettingType = 'boolean' | 'integer' | 'number' | 'port' | 'string' | 'duration' | 'bytes' | 'list';

export interface Setting<K extends keyof AgentConfig = keyof AgentConfig> {
  key: K;
  /** Environment variables, highest priority first. */
  env: string[];
  /** Long CLI flag without dashes, for our own settings. */
  flag?: string;
  type: SettingType;
  /** The default as a user would write it; `undefined` means unset (see description). */
  default: string | undefined;
  description: string;
}

export interface AgentConfig {
  apmEnabled: boolean;
  /** undefined: not set, so the container rule applies. */
  nonLocalTraffic: boolean | undefined;
  bindHost: string | undefined;
  receiverPort: number;
  receiverSocket: string | undefined;
  hostname: string;
  env: string;
  maxPayloadBytes: number;
  receiverTimeoutMs: number;
  decoders: number;
  decoderTimeoutMs: number;
  maxConnections: number;
  features: string[];
  logLevel: string;
  dataDir: string;
  apiPort: number;
  apiHost: string;
  retentionMs: number;
  maxDiskBytes: number;
  writerThread: boolean;
  ecsAgentUrl: string | undefined;
  targetTps: number;
  errorTps: number;
  rareSampler: boolean;
  ignoreResources: string;
  filterTagsRequire: string;
  filterTagsReject: string;
  filterTagsRegexRequire: string;
  filterTagsRegexReject: string;
  replaceTags: string;
  obfRedis: boolean;
  obfRedisRemoveAllArgs: boolean;
  obfMemcached: boolean;
  obfMemcachedKeepCommand: boolean;
  obfHttpRemoveQueryString: boolean;
  obfHttpRemovePathDigits: boolean;
  obfElasticsearch: boolean;
  obfOpensearch: boolean;
  obfMongodb: boolean;
  obfCreditCards: boolean;
  obfCreditCardsLuhn: boolean;
  obfRemoveStackTraces: boolean;
}

export const SETTINGS: Setting[] = [
  { key: 'apmEnabled', env: ['DD_APM_ENABLED'], type: 'boolean', default: 'true', description: 'Run the trace receiver. With `false` the agent starts without intake (query API only) and says so.' },
  { key: 'nonLocalTraffic', env: ['DD_APM_NON_LOCAL_TRAFFIC'], type: 'boolean', default: undefined, description: '`true`: intake listens on all interfaces; `false`: loopback only. Unset: loopback, except inside a container, where it listens on all interfaces as the Datadog Agent does.' },
  { key: 'bindHost', env: ['DD_BIND_HOST'], type: 'string', default: undefined, description: 'Address the intake binds to; takes precedence over `DD_APM_NON_LOCAL_TRAFFIC`.' },
  { key: 'receiverPort', env: ['DD_APM_RECEIVER_PORT', 'DD_RECEIVER_PORT'], type: 'port', default: '8126', description: 'Intake TCP port (`0` disables the TCP listener).' },
  { key: 'receiverSocket', env: ['DD_APM_RECEIVER_SOCKET'], type: 'string', default: undefined, description: 'Also accept traces on this unix socket (e.g. `/var/run/datadog/apm.socket`, shared with app containers through a host volume).' },
  { key: 'hostname', env: ['DD_HOSTNAME'], type: 'string', default: undefined, description: 'Host name reported for traces. Unset: the OS host name.' },
  { key: 'env', env: ['DD_APM_ENV', 'DD_ENV'], type: 'string', default: 'none', description: 'Default env for spans that carry none (normalized like a tag value).' },
  { key: 'maxPayloadBytes', env: ['DD_APM_MAX_PAYLOAD_SIZE'], type: 'bytes', default: '26214400', description: 'Largest accepted request body; larger ones get 413 before the body is read.' },
  { key: 'receiverTimeoutMs', env: ['DD_APM_RECEIVER_TIMEOUT'], type: 'duration', default: '5s', description: 'Time allowed to read a request; slower requests get 408. A bare number is seconds, as in the Datadog Agent.' },
  { key: 'decoders', env: ['DD_APM_DECODERS'], type: 'integer', default: undefined, description: 'Payloads decoded and stored at once. Unset: max(1, cores / 2); at least 2 with `ECS_TRACE_WRITER_THREAD`.' },
  { key: 'decoderTimeoutMs', env: ['DD_APM_DECODER_TIMEOUT'], type: 'integer', default: '1000', description: 'Milliseconds a payload waits for a decoder before it is refused (200, or 429 when the tracer sends `Datadog-Send-Real-Http-Status`).' },
  { key: 'maxConnections', env: ['DD_APM_MAX_CONNECTIONS'], type: 'integer', default: '1000', description: 'Concurrent intake connections.' },
  { key: 'features', env: ['DD_APM_FEATURES'], type: 'list', default: '', description: 'Feature flags, comma- or space-separated. `429`: answer refused payloads with 429 always.' },
  { key: 'targetTps', env: ['DD_APM_TARGET_TPS', 'DD_APM_MAX_TPS'], type: 'number', default: '10', description: 'Traces per second to keep per `service,env`: the rates sent back to tracers in `rate_by_service` aim at it.' },
  { key: 'errorTps', env: ['DD_APM_ERROR_TPS'], type: 'number', default: '10', description: 'Traces with errors per second kept on top of the priority decision (`0`: errors sampler off).' },
  { key: 'rareSampler', env: ['DD_APM_ENABLE_RARE_SAMPLER'], type: 'boolean', default: 'false', description: 'Keep traces whose span shapes were not seen lately, even when sampled out (at most 5/s).' },
  { key: 'ignoreResources', env: ['DD_APM_IGNORE_RESOURCES'], type: 'string', default: '', description: 'Regular expressions, comma-separated (double quotes group): traces whose root resource matches one are dropped.' },
  { key: 'filterTagsRequire', env: ['DD_APM_FILTER_TAGS_REQUIRE'], type: 'string', default: '', description: '`key` or `key:value` tags the root span must have, space-separated (or a JSON array); other traces are dropped.' },
  { key: 'filterTagsReject', env: ['DD_APM_FILTER_TAGS_REJECT'], type: 'string', default: '', description: '`key` or `key:value` tags that drop a trace when its root span has one.' },
  { key: 'filterTagsRegexRequire', env: ['DD_APM_FILTER_TAGS_REGEX_REQUIRE'], type: 'string', default: '', description: 'Like `DD_APM_FILTER_TAGS_REQUIRE`, values as regular expressions.' },
  { key: 'filterTagsRegexReject', env: ['DD_APM_FILTER_TAGS_REGEX_REJECT'], type: 'string', default: '', description: 'Like `DD_APM_FILTER_TAGS_REJECT`, values as regular expressions.' },
  { key: 'replaceTags', env: ['DD_APM_REPLACE_TAGS'], type: 'string', default: '', description: 'JSON array of `{"name", "pattern", "repl"}` rewriting tag values (`*`: all; `resource.name`: the resource).' },
  { key: 'obfRedis', env: ['DD_APM_OBFUSCATION_REDIS_ENABLED'], type: 'boolean', default: 'true', description: 'Replace values in `redis.raw_command` with `?` (resources are always quantized).' },
  { key: 'obfRedisRemoveAllArgs', env: ['DD_APM_OBFUSCATION_REDIS_REMOVE_ALL_ARGS'], type: 'boolean', default: 'false', description: 'Keep only the Redis command and one `?`.' },
  { key: 'obfMemcached', env: ['DD_APM_OBFUSCATION_MEMCACHED_ENABLED'], type: 'boolean', default: 'true', description: 'Empty `memcached.command`.' },
  { key: 'obfMemcachedKeepCommand', env: ['DD_APM_OBFUSCATION_MEMCACHED_KEEP_COMMAND'], type: 'boolean', default: 'false', description: 'Keep the memcached command line, without its data.' },
  { key: 'obfHttpRemoveQueryString', env: ['DD_APM_OBFUSCATION_HTTP_REMOVE_QUERY_STRING'], type: 'boolean', default: 'false', description: 'Replace the query string of `http.url` with `?` (credentials in URLs are always removed).' },
  { key: 'obfHttpRemovePathDigits', env: ['DD_APM_OBFUSCATION_HTTP_REMOVE_PATHS_WITH_DIGITS'], type: 'boolean', default: 'false', description: 'Replace path segments of `http.url` that contain digits with `?`.' },
  { key: 'obfElasticsearch', env: ['DD_APM_OBFUSCATION_ELASTICSEARCH_ENABLED'], type: 'boolean', default: 'true', description: 'Replace values in `elasticsearch.body` with `?`.' },
  { key: 'obfOpensearch', env: ['DD_APM_OBFUSCATION_OPENSEARCH_ENABLED'], type: 'boolean', default: 'true', description: 'Replace values in `opensearch.body` with `?`.' },
  { key: 'obfMongodb', env: ['DD_APM_OBFUSCATION_MONGODB_ENABLED'], type: 'boolean', default: 'true', description: 'Replace values in `mongodb.query` with `?`.' },
  { key: 'obfCreditCards', env: ['DD_APM_OBFUSCATION_CREDIT_CARDS_ENABLED'], type: 'boolean', default: 'true', description: 'Replace tag values that are credit card numbers with `?`.' },
  { key: 'obfCreditCardsLuhn', env: ['DD_APM_OBFUSCATION_CREDIT_CARDS_LUHN'], type: 'boolean', default: 'false', description: 'Also require the Luhn checksum before treating a value as a card number.' },
  { key: 'obfRemoveStackTraces', env: ['DD_APM_OBFUSCATION_REMOVE_STACK_TRACES'], type: 'boolean', default: 'false', description: 'Replace `error.stack` with `?`.' },
  { key: 'ecsAgentUrl', env: ['DD_ECS_AGENT_URL'], type: 'string', default: undefined, description: 'ECS agent introspection API, for tagging spans with their task and container. Unset: inside an ECS task, the default gateway on port 51678; elsewhere off.' },
  { key: 'logLevel', env: ['DD_LOG_LEVEL'], type: 'string', default: 'info', description: 'Log level: trace, debug, info, warn, error, off.' },
  { key: 'dataDir', env: ['ECS_TRACE_DATA_DIR'], flag: 'data-dir', type: 'string', default: './data', description: 'Directory of the embedded store.' },
  { key: 'apiPort', env: ['ECS_TRACE_API_PORT'], flag: 'api-port', type: 'port', default: '8127', description: 'Port of the query API and web UI.' },
  { key: 'apiHost', env: ['ECS_TRACE_API_HOST'], flag: 'api-host', type: 'string', default: '127.0.0.1', description: 'Address of the query API and web UI; loopback unless you open it on purpose.' },
  { key: 'retentionMs', env: ['ECS_TRACE_RETENTION'], flag: 'retention', type: 'duration', default: '72h', description: 'How long traces are kept (e.g. `30m`, `72h`, `7d`).' },
  { key: 'writerThread', env: ['ECS_TRACE_WRITER_THREAD'], flag: 'writer-thread', type: 'boolean', default: 'false', description: 'Commit to the store on a second thread while intake decodes the next payload (and, unless `DD_APM_DECODERS` is set, two payloads at once): about 1.2x intake for about 15 MB more memory.' },
  { key: 'maxDiskBytes', env: ['ECS_TRACE_MAX_DISK'], flag: 'max-disk', type: 'bytes', default: '2GB', description: 'Disk the store may use; the oldest traces go first when over (e.g. `500MB`, `2GB`; `0`: no limit).' },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const BOOL_TRUE = new Set(['1', 't', 'true']);
const BOOL_FALSE = new Set(['0', 'f', 'false']);
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTES = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?$/i;
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

function invalid(source: string, value: string, accepted: string): never {
  throw new ConfigError(`${source}=${JSON.stringify(value)} is not valid: expected ${accepted}`);
}

export function parseSetting(setting: Setting, source: string, raw: string): AgentConfig[keyof AgentConfig] {
  const v = raw.trim();
  switch (setting.type) {
    case 'boolean': {
      const l = v.toLowerCase();
      if (BOOL_TRUE.has(l)) return true;
      if (BOOL_FALSE.has(l)) return false;
      return invalid(source, raw, 'true or false');
    }
    case 'integer': {
      if (!/^\d+$/.test(v)) invalid(source, raw, 'a whole number');
      return Number(v);
    }
    case 'number': {
      if (!/^\d+(\.\d+)?$/.test(v)) invalid(source, raw, 'a number of at least 0, such as 10 or 0.5');
      return Number(v);
    }
    case 'port': {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) invalid(source, raw, 'a port number from 0 to 65535');
      return n;
    }
    case 'duration': {
      const m = DURATION.exec(v);
      if (!m) return invalid(source, raw, 'a duration such as 500ms, 30s, 15m, 72h or 7d (a bare number is seconds)');
      const ms = Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!;
      if (ms <= 0 && setting.key !== 'receiverTimeoutMs') invalid(source, raw, 'a duration greater than zero');
      return ms;
    }
    case 'bytes': {
      const m = BYTES.exec(v);
      if (!m) return invalid(source, raw, 'a size such as 0, 500MB, 2GB or 1GiB (a bare number is bytes)');
      return Math.floor(Number(m[1]) * BYTE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
    }
    case 'list':
      return v === '' ? [] : v.split(/[\s,]+/).filter(Boolean);
    case 'string':
      return v;
  }
}

/**
 * Whether this process runs in a container, as the Datadog Agent decides it to open non-local
 * traffic by itself: container runtime marker files, ECS/Kubernetes env, or a container cgroup.
 */
export function isContainerized(env: NodeJS.ProcessEnv, root = '/'): boolean {
  if (env['DOCKER_DD_AGENT'] || env['ECS_CONTAINER_METADATA_URI_V4'] || env['ECS_CONTAINER_METADATA_URI'] || env['KUBERNETES_SERVICE_HOST']) return true;
  if (existsSync(root + '.dockerenv') || existsSync(root + 'run/.containerenv')) return true;
  try {
    return /docker|kubepods|containerd|ecs\//.test(readFileSync(root + 'proc/1/cgroup', 'utf8'));
  } catch {
    return false;
  }
}

export interface LoadOptions {
  env: NodeJS.ProcessEnv;
  /** Values from CLI flags, keyed by setting key; they win over the environment. */
  flags?: Partial<Record<keyof AgentConfig, string>>;
}

/** Reads every setting from flags and env. Throws ConfigError naming the variable and what it accepts. */
export function loadConfig({ env, flags = {} }: LoadOptions): AgentConfig {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flagValue = flags[s.key];
    let value: unknown;
    if (flagValue !== undefined) value = parseSetting(s, `--${s.flag ?? s.key}`, flagValue);
    else {
      const name = s.env.find((e) => env[e] !== undefined && env[e] !== '');
      if (name !== undefined) value = parseSetting(s, name, env[name]!);
      else if (s.default !== undefined) value = parseSetting(s, s.env[0]!, s.default);
    }
    out[s.key] = value;
  }
  const config = out as unknown as AgentConfig;
  config.hostname ??= osHostname();
  config.decoders ??= Math.max(config.writerThread ? 2 : 1, Math.floor(availableParallelism() / 2));
  if (config.decoders < 1) throw new ConfigError('DD_APM_DECODERS="0" is not valid: expected a whole number of at least 1');
  try {
    traceFilters(config);
  } catch (err) {
    if (err instanceof FilterConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return config;
}

/**
 * The address the intake binds to, by the Datadog Agent's rule: DD_BIND_HOST; else all
 * interfaces with DD_APM_NON_LOCAL_TRAFFIC=true; else loopback, except that an agent in a
 * container with neither set opens itself (it could not be reached otherwise).
 */
export function receiverHost(config: AgentConfig, containerized: boolean): string {
  if (config.bindHost) return config.bindHost;
  if (config.nonLocalTraffic === true) return '0.0.0.0';
  if (config.nonLocalTraffic === false) return '127.0.0.1';
  return containerized ? '0.0.0.0' : '127.0.0.1';
}

/** The configuration table of the README, generated from SETTINGS. */
export function configMarkdownTable(): string {
  const rows = SETTINGS.map((s) => {
    const env = s.env.map((e) => `\`${e}\``).join(', ');
    const flag = s.flag ? `\`--${s.flag}\`` : '';
    const def = s.default === undefined ? '(unset)' : s.default === '' ? '(empty)' : `\`${s.default}\``;
    return `| ${env} | ${flag} | ${s.type} | ${def} | ${s.description} |`;
  });
  return ['| Environment | Flag | Type | Default | Description |', '|---|---|---|---|---|', ...rows].join('\n');
}

/**
 * Where the ECS agent's introspection API is: DD_ECS_AGENT_URL; else, inside an ECS task, port
 * 51678 on the default gateway (the host, for a bridge-mode daemon); else nowhere.
 */
export function ecsAgentUrl(config: AgentConfig, env: NodeJS.ProcessEnv, routeFile = '/proc/net/route'): string | undefined {
  if (config.ecsAgentUrl) return config.ecsAgentUrl;
  if (!env['ECS_CONTAINER_METADATA_URI_V4'] && !env['ECS_CONTAINER_METADATA_URI']) return undefined;
  try {
    for (const line of readFileSync(routeFile, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === '00000000' && f[2] && f[2] !== '00000000') {
        // Little-endian hex, as the kernel prints it.
        const n = parseInt(f[2], 16);
        return `http://${n & 255}.${(n >> 8) & 255}.${(n >> 16) & 255}.${(n >>> 24) & 255}:51678`;
      }
    }
  } catch {
    // No route table to read: no ECS tags.
  }
  return undefined;
}

export function traceFilters(c: AgentConfig): TraceFilters {
  return new TraceFilters({
    ignoreResources: c.ignoreResources, tagsRequire: c.filterTagsRequire, tagsReject: c.filterTagsReject,
    tagsRegexRequire: c.filterTagsRegexRequire, tagsRegexReject: c.filterTagsRegexReject, replaceTags: c.replaceTags,
  });
}

export function obfuscationConfig(c: AgentConfig): ObfuscationConfig {
  return {
    redis: c.obfRedis, redisRemoveAllArgs: c.obfRedisRemoveAllArgs, memcached: c.obfMemcached, memcachedKeepCommand: c.obfMemcachedKeepCommand,
    httpRemoveQueryString: c.obfHttpRemoveQueryString, httpRemovePathDigits: c.obfHttpRemovePathDigits, elasticsearch: c.obfElasticsearch,
    opensearch: c.obfOpensearch, mongodb: c.obfMongodb, creditCards: c.obfCreditCards, creditCardsLuhn: c.obfCreditCardsLuhn,
    removeStackTraces: c.obfRemoveStackTraces,
  };
}
