import pino, { type Logger } from 'pino';
import type { Setting } from './settings.js';

export type { Logger };

/** JSON lines on stdout, as container log drivers expect. */
export function createLogger(level: string): Logger {
  return pino({ level: level === 'off' ? 'silent' : level, base: { name: 'ecs-trace' } });
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
