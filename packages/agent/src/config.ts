import { availableParallelism, hostname as osHostname } from 'node:os';
import { intakeSettings, type IntakeConfig } from './intake/index.js';
import { FilterConfigError, processSettings, traceFilters, type ProcessConfig } from './process/index.js';
import { querySettings, type QueryConfig } from './query/index.js';
import { ConfigError, readSettings, runtimeSettings, settingsMarkdownTable, type RuntimeConfig, type Setting, type SettingSources } from './runtime/index.js';
import { storeSettings, type StoreConfig } from './store/index.js';

/*
 * The agent's configuration: every stage's own settings (declared beside its code), assembled in
 * one registry. The CLI's flags and the README's table are generated from SETTINGS.
 */

export type AgentConfig = IntakeConfig & ProcessConfig & RuntimeConfig & StoreConfig & QueryConfig;

export const SETTINGS: readonly Setting<AgentConfig>[] = [
  ...intakeSettings, ...processSettings, ...runtimeSettings, ...storeSettings, ...querySettings,
];

export interface LoadOptions extends SettingSources {
  flags?: Partial<Record<keyof AgentConfig, string>>;
}

/** Reads every setting from flags and env. Throws ConfigError naming the variable and what it accepts. */
export function loadConfig(sources: LoadOptions): AgentConfig {
  // Each declaration's type says what its key holds; readSettings parsed it accordingly.
  const config = readSettings(SETTINGS, sources) as unknown as AgentConfig;
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

/** The configuration table of the README, generated from SETTINGS. */
export function configMarkdownTable(): string {
  return settingsMarkdownTable(SETTINGS);
}
