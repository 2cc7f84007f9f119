import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import type { Setting } from './settings.js';

// pino-pretty and its dependencies are loaded only for a terminal: a container never pays for them.
const require = createRequire(import.meta.url);

export type { Logger };

/**
 * JSON lines on stdout, as container log drivers expect; lines a person reads when stdout is a
 * terminal (as pino-pretty users expect), unless `format` says otherwise.
 */
export function createLogger(level: string, format: 'json' | 'pretty' | 'auto' = 'auto'): Logger {
  const options = { level: level === 'off' ? 'silent' : level, base: { name: 'ecs-trace' } };
  const human = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!human) return pino(options);
  const pretty = require('pino-pretty') as (o: PrettyOptions) => NodeJS.WritableStream;
  return pino(options, pretty({ colorize: process.stdout.isTTY === true, sync: true, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss.l' }));
}

/**
 * Logs the first occurrence of each kind of problem, then at most once a minute with the number
 * suppressed meanwhile, so that a tracer sending bad payloads in a loop cannot flood the log.
 */
export class LogOnce {
  private readonly seen = new Map<string, { last: number; suppressed: number }>();
  constructor(private readonly log: Logger, private readonly intervalMs = 60_000, private readonly now = Date.now) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.log1('warn', kind, fields, message);
  }

  error(kind: string, fields: Record<string, unknown>, message: string): void {
    this.log1('error', kind, fields, message);
  }

  private log1(level: 'warn' | 'error', kind: string, fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    const s = this.seen.get(kind);
    if (s !== undefined && t - s.last < this.intervalMs) {
      s.suppressed++;
      return;
    }
    if (this.seen.size > 1000) this.seen.clear();
    const suppressed = s?.suppressed ?? 0;
    this.seen.set(kind, { last: t, suppressed: 0 });
    this.log[level]({ kind, ...fields, ...(suppressed ? { suppressedSinceLast: suppressed } : {}) }, message);
  }
}

export interface RuntimeConfig {
  logLevel: string;
}

export const runtimeSettings: Setting<RuntimeConfig>[] = [
  { key: 'logLevel', env: ['DD_LOG_LEVEL'], type: 'string', default: 'info', description: 'Log level: trace, debug, info, warn, error, off.' },
];
