import { monitorsSettings, type MonitorsConfig } from './monitors/index.js';
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname as osHostname } from 'node:os';
import { forwardSettings, otlpExportSettings, otlpExportUrl, parseOtlpHeaders, type ForwardConfig, type OtlpExportConfig } from './forward/index.js';
import { intakeSettings, type IntakeConfig } from './intake/index.js';
import { FilterConfigError, processSettings, sqlObfuscation, traceFilters, type ProcessConfig } from './process/index.js';
import { isLoopback, querySettings, type QueryConfig } from './query/index.js';
import { ConfigError, cpuBudget, readSettings, runtimeSettings, settingsMarkdownTable, type RuntimeConfig, type Setting, type SettingSources } from './runtime/index.js';
import { storeSettings, type StoreConfig } from './store/index.js';

/*
 * The agent's configuration: every stage's own settings (declared beside its code), assembled in
 * one registry. The CLI's flags and the README's table are generated from SETTINGS.
 */

export type AgentConfig = IntakeConfig & ProcessConfig & RuntimeConfig & StoreConfig & QueryConfig & ForwardConfig & OtlpExportConfig & MonitorsConfig;

export const SETTINGS: readonly Setting<AgentConfig>[] = [
  ...intakeSettings, ...processSettings, ...runtimeSettings, ...storeSettings, ...querySettings, ...forwardSettings, ...otlpExportSettings, ...monitorsSettings,
];

export interface LoadOptions extends SettingSources {
  flags?: Partial<Record<keyof AgentConfig, string>>;
  /** Where the cgroup files are read from (tests); `/` unless given. */
  root?: string;
}

/** Reads every setting from flags and env. Throws ConfigError naming the variable and what it accepts. */
export function loadConfig(sources: LoadOptions): AgentConfig {
  // Each declaration's type says what its key holds; readSettings parsed it accordingly.
  const config = readSettings(SETTINGS, sources) as unknown as AgentConfig;
  config.hostname ??= osHostname();
  const cores = cpuBudget(availableParallelism(), sources.root);
  config.decoders ??= Math.max(config.writerThread ? 2 : 1, Math.floor(cores / 2));
  if (config.decoders < 1) throw new ConfigError('DD_APM_DECODERS="0" is not valid: expected a whole number of at least 1');
  resolveApiToken(config);
  // Checked at start-up, so that a typo names its variable instead of failing every export.
  if (config.otlpExportEndpoint !== undefined) otlpExportUrl(config.otlpExportEndpoint);
  parseOtlpHeaders(config.otlpExportHeaders);
  sqlObfuscation(config);
  try {
    traceFilters(config);
  } catch (err) {
    if (err instanceof FilterConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return config;
}

/**
 * The API token from ECS_TRACE_API_TOKEN or --api-token-file; and the rule that an API open
 * beyond loopback asks for one, unless the operator says in so many words that it need not.
 */
function resolveApiToken(config: AgentConfig): void {
  if (config.apiTokenFile) {
    let text: string;
    try {
      text = readFileSync(config.apiTokenFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`--api-token-file ${config.apiTokenFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    config.apiToken = text.trim();
    if (config.apiToken === '') throw new ConfigError(`--api-token-file ${config.apiTokenFile} is empty`);
  }
  if (config.apiToken !== undefined && config.apiToken.length < 16) {
    throw new ConfigError('ECS_TRACE_API_TOKEN is too short: use at least 16 characters (e.g. openssl rand -hex 24)');
  }
  if (!isLoopback(config.apiHost) && !config.apiToken && !config.apiInsecureNoAuth) {
    throw new ConfigError(`ECS_TRACE_API_HOST=${config.apiHost} opens the API and UI beyond loopback: set ECS_TRACE_API_TOKEN (or --api-token-file) so that they ask for a token, or pass --api-insecure-no-auth to open them to anyone`);
  }
}

/** The configuration table of the README, generated from SETTINGS. */
export function configMarkdownTable(): string {
  return settingsMarkdownTable(SETTINGS);
}
