import { readFileSync } from 'node:fs';
import { ConfigError, type Setting } from '../runtime/index.js';
import { MonitorDefinitionError, parseMonitors, type MonitorsFile } from './definition.js';

export interface MonitorsConfig {
  monitorsFile: string | undefined;
  monitors: string | undefined;
  monitorsIntervalMs: number;
}

export const monitorsSettings: Setting<MonitorsConfig>[] = [
  { key: 'monitorsFile', env: ['ECS_TRACE_MONITORS_FILE'], flag: 'monitors-file', type: 'string', default: undefined, description: 'A YAML or JSON file of monitors (on the stats and error groups) and the channels they notify (webhook, Slack, PagerDuty); checked at start, an unknown or bad field named. README "Monitors and alerts".' },
  { key: 'monitors', env: ['ECS_TRACE_MONITORS'], type: 'string', default: undefined, description: 'The monitors file\'s text itself (YAML or JSON), instead of a file: what an ECS task definition can carry. In either, `${NAME}` takes the environment variable NAME (a webhook URL from Secrets Manager, say).' },
  { key: 'monitorsIntervalMs', env: ['ECS_TRACE_MONITORS_INTERVAL'], flag: 'monitors-interval', type: 'duration', default: '30s', description: 'How often every monitor is evaluated.' },
];

/** The monitors file of the settings, checked whole; a problem is a ConfigError naming the setting, the file and the field. */
export function loadMonitors(config: MonitorsConfig, env: Readonly<Record<string, string | undefined>> = process.env): MonitorsFile | undefined {
  const path = config.monitorsFile;
  if (path !== undefined && config.monitors !== undefined) throw new ConfigError('ECS_TRACE_MONITORS and ECS_TRACE_MONITORS_FILE are both set: give the monitors one way');
  if (config.monitors !== undefined) {
    try {
      return parseMonitors(config.monitors, 'ECS_TRACE_MONITORS', env);
    } catch (err) {
      if (err instanceof MonitorDefinitionError) throw new ConfigError(`ECS_TRACE_MONITORS: ${err.message}`);
      throw err;
    }
  }
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`ECS_TRACE_MONITORS_FILE="${path}" cannot be read: ${(err as Error).message}`);
  }
  try {
    return parseMonitors(text, path, env);
  } catch (err) {
    if (err instanceof MonitorDefinitionError) throw new ConfigError(`ECS_TRACE_MONITORS_FILE="${path}": ${err.message}`);
    throw err;
  }
}
