import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, type Setting } from '../runtime/index.js';
import { TraceFilters } from './filters.js';
import type { ObfuscationConfig } from './obfuscate/obfuscator.js';
import { SQL_LEXER_MODES, type SqlLexerMode } from './obfuscate/sqllexer/index.js';

export interface ProcessConfig {
  hostname: string;
  emfNamespace: string | undefined;
  env: string;
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
  sqlObfuscationMode: string;
  /** DD_APM_FEATURES: read here and by the intake. */
  features: string[];
  ecsAgentUrl: string | undefined;
  /** The Docker Engine API (unix://...): each container's log configuration on EC2. */
  dockerHost: string | undefined;
}

export const processSettings: Setting<ProcessConfig>[] = [
  { key: 'emfNamespace', env: ['ECS_TRACE_EMF_NAMESPACE'], flag: 'emf-namespace', type: 'string', default: undefined, description: 'Write RED metrics (requests, errors, latency p50/p95/p99 per service and env, every 10 s) as CloudWatch Embedded Metric Format lines on stdout, in this CloudWatch namespace: with the awslogs driver they become CloudWatch metrics to alarm on. Unset: none.' },
  { key: 'hostname', env: ['DD_HOSTNAME'], type: 'string', default: undefined, description: 'Host name reported for traces. Unset: the OS host name.' },
  { key: 'env', env: ['DD_APM_ENV', 'DD_ENV'], type: 'string', default: 'none', description: 'Default env for spans that carry none (normalized like a tag value).' },
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
  { key: 'sqlObfuscationMode', env: ['DD_APM_SQL_OBFUSCATION_MODE'], type: 'string', default: '', description: 'SQL obfuscation as the Datadog Agent\'s newer modes do it, built on its SQL lexer and the DBMS in `db.type`: `obfuscate_only` (literals become `?`, the text is kept), `normalize_only` (spacing, comments and aliases normalized, literals kept), `obfuscate_and_normalize`. Empty: the Agent\'s default tokenizer.' },
  { key: 'features', env: ['DD_APM_FEATURES'], type: 'list', default: '', description: 'Feature flags, comma- or space-separated, as the Datadog Agent reads them. `429`: answer refused payloads with 429 always. SQL: `sqllexer` (mode `obfuscate_only` unless one is set), `table_names` (the tables a query names in `sql.tables`; not in `obfuscate_only`), `replace_sql_digits` or `quantize_sql_tables` (digits in names become `?`), `keep_sql_alias`, `dollar_quoted_func` (obfuscate inside `$func$` bodies).' },
  { key: 'dockerHost', env: ['DOCKER_HOST'], type: 'string', default: undefined, description: 'The Docker Engine API\'s socket (`unix:///var/run/docker.sock`), read on EC2 for each container\'s log configuration (awslogs group, region, stream), which the ECS agent does not give: spans then link to their container\'s CloudWatch logs. Unset: `/var/run/docker.sock` when mounted (read-only is enough; the Datadog Agent\'s task definition mounts it), else not read. On Fargate task metadata gives it.' },
  { key: 'ecsAgentUrl', env: ['DD_ECS_AGENT_URL'], type: 'string', default: undefined, description: 'ECS agent introspection API, for tagging spans with their task and container. Unset: inside an ECS task, the default gateway on port 51678; elsewhere off.' },
];

export function traceFilters(c: ProcessConfig): TraceFilters {
  return new TraceFilters({
    ignoreResources: c.ignoreResources, tagsRequire: c.filterTagsRequire, tagsReject: c.filterTagsReject,
    tagsRegexRequire: c.filterTagsRegexRequire, tagsRegexReject: c.filterTagsRegexReject, replaceTags: c.replaceTags,
  });
}

export function obfuscationConfig(c: ProcessConfig): ObfuscationConfig {
  return {
    redis: c.obfRedis, redisRemoveAllArgs: c.obfRedisRemoveAllArgs, memcached: c.obfMemcached, memcachedKeepCommand: c.obfMemcachedKeepCommand,
    httpRemoveQueryString: c.obfHttpRemoveQueryString, httpRemovePathDigits: c.obfHttpRemovePathDigits, elasticsearch: c.obfElasticsearch,
    opensearch: c.obfOpensearch, mongodb: c.obfMongodb, creditCards: c.obfCreditCards, creditCardsLuhn: c.obfCreditCardsLuhn,
    removeStackTraces: c.obfRemoveStackTraces,
    sql: sqlObfuscation(c),
  };
}

/** The SQL obfuscation the trace-agent would run with these settings; a mode it does not know is an error naming the variable. */
export function sqlObfuscation(c: Pick<ProcessConfig, 'sqlObfuscationMode' | 'features'>): ObfuscationConfig['sql'] {
  const has = (f: string) => c.features.includes(f);
  let mode: SqlLexerMode | '' = '';
  if (c.sqlObfuscationMode !== '') {
    if (!(SQL_LEXER_MODES as readonly string[]).includes(c.sqlObfuscationMode)) {
      throw new ConfigError(`DD_APM_SQL_OBFUSCATION_MODE=${JSON.stringify(c.sqlObfuscationMode)} is not valid: expected ${SQL_LEXER_MODES.join(', ')} (or empty for the default tokenizer)`);
    }
    mode = c.sqlObfuscationMode as SqlLexerMode;
  } else if (has('sqllexer')) mode = 'obfuscate_only';
  return {
    mode, tableNames: has('table_names'), replaceDigits: has('quantize_sql_tables') || has('replace_sql_digits'),
    keepSqlAlias: has('keep_sql_alias'), dollarQuotedFunc: has('dollar_quoted_func'),
  };
}

/**
 * Where the ECS agent's introspection API is: DD_ECS_AGENT_URL; else, inside an ECS task, port
 * 51678 on the default gateway (the host, for a bridge-mode daemon); else nowhere.
 */
/** The Docker socket to read container inspections from: DOCKER_HOST (unix:// only), else the usual path when mounted. */
export function dockerSocket(config: Pick<ProcessConfig, 'dockerHost'>, exists: (path: string) => boolean = existsSync): string | undefined {
  const host = config.dockerHost;
  if (host === undefined || host === '') return exists('/var/run/docker.sock') ? '/var/run/docker.sock' : undefined;
  if (!host.startsWith('unix://')) throw new ConfigError(`DOCKER_HOST: ${JSON.stringify(host)} is not a unix socket (unix:///var/run/docker.sock): ecs-trace reads the Docker API only on its local socket`);
  return host.slice('unix://'.length);
}

export function ecsAgentUrl(config: Pick<ProcessConfig, 'ecsAgentUrl'>, env: NodeJS.ProcessEnv, routeFile = '/proc/net/route'): string | undefined {
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
