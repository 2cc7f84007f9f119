import { readFileSync } from 'node:fs';
import { ConfigError, type Setting } from '../runtime/index.js';
import { MonitorDefinitionError, parseMonitors, type MonitorsFile } from './definition.js';

export interface MonitorsConfig {
  monitorsFile: string | undefined;
  monitorsIntervalMs: number;
}

export const monitorsSettings: Setting<MonitorsConfig>[] = [
  { key: 'monitorsFile', env: ['ECS_TRACE_MONITORS_FILE'], flag: 'monitors-file', type: 'string', default: undefined, description: 'A YAML or JSON file of monitors (on the stats and error groups) and the channels they notify (webhook, Slack, PagerDuty); checked at start, an unknown or bad field named. README "Monitors and alerts".' },
  { key: 'monitorsIntervalMs', env: ['ECS_TRACE_MONITORS_INTERVAL'], flag: 'monitors-interval', type: 'duration', default: '30s', description: 'How often every monitor is evaluated.' },
];

/** The monitors file of the settings, checked whole; a problem is a ConfigError naming the setting, the file and the field. */
export function loadMonitors(config: MonitorsConfig): MonitorsFile | undefined {
  const path = config.monitorsFile;
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`ECS_TRACE_MONITORS_FILE="${path}" cannot be read: ${(err as Error).message}`);
  }
  try {
    return parseMonitors(text, path);
  } catch (err) {
    if (err instanceof MonitorDefinitionError) throw new ConfigError(`ECS_TRACE_MONITORS_FILE="${path}": ${err.message}`);
    throw err;
  }
}
