/*
 * How a component declares the settings it reads, and how they are parsed. Each stage keeps its
 * own declarations beside its code (intake/settings.ts, process/settings.ts, ...); config.ts at
 * the top assembles them into one registry, from which the CLI's flags and the README's table
 * are generated, so neither can drift from what the agent really reads.
 */

export type SettingType = 'boolean' | 'integer' | 'number' | 'port' | 'string' | 'duration' | 'bytes' | 'list';

export type SettingValue = boolean | number | string | string[];

export interface Setting<C = Record<string, unknown>> {
  key: keyof C & string;
  /** Environment variables, highest priority first (Datadog's names where the Datadog Agent has the setting). */
  env: string[];
  /** Long CLI flag without dashes, for our own settings. */
  flag?: string;
  type: SettingType;
  /** The default as a user would write it; `undefined` means unset (see description). */
  default: string | undefined;
  /** A duration of zero is accepted (it turns the bound off). */
  zeroAllowed?: boolean;
  /** Its value is a secret: `ecs-trace config` says whether it is set, never what it is. */
  secret?: boolean;
  description: string;
}

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

/** Parses one value; `source` (the variable or flag) is named in the error. */
export function parseSetting(setting: Pick<Setting, 'type' | 'zeroAllowed'>, source: string, raw: string): SettingValue {
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
      if (ms <= 0 && !setting.zeroAllowed) invalid(source, raw, 'a duration greater than zero');
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

export interface SettingSources {
  env: NodeJS.ProcessEnv;
  /** Values from CLI flags, keyed by setting key; they win over the environment. */
  flags?: Partial<Record<string, string>>;
}

/**
 * Reads declared settings from flags, then the environment, then their defaults. A setting with
 * neither stays undefined. Throws ConfigError naming the variable or flag and what it accepts.
 */
export function readSettings<C>(settings: readonly Setting<C>[], sources: SettingSources): Record<string, SettingValue | undefined> {
  const out: Record<string, SettingValue | undefined> = {};
  for (const s of settings) {
    const from = settingSource(s, sources);
    out[s.key] = from.raw === undefined ? undefined : parseSetting(s, from.name, from.raw);
  }
  return out;
}

/** Where a setting's value comes from: a flag, an environment variable, its default, or nowhere. */
export interface SettingSource {
  from: 'flag' | 'env' | 'default' | 'unset';
  /** The flag or variable (for a default or nothing, its first variable). */
  name: string;
  /** The text given; undefined when unset. */
  raw?: string;
}

export function settingSource<C>(s: Setting<C>, { env, flags = {} }: SettingSources): SettingSource {
  const flagValue = flags[s.key];
  if (flagValue !== undefined) return { from: 'flag', name: `--${s.flag ?? s.key}`, raw: flagValue };
  const name = s.env.find((e) => env[e] !== undefined && env[e] !== '');
  if (name !== undefined) return { from: 'env', name, raw: env[name]! };
  if (s.default !== undefined) return { from: 'default', name: s.env[0]!, raw: s.default };
  return { from: 'unset', name: s.env[0]! };
}

/** The README's configuration table for these settings. */
export function settingsMarkdownTable<C>(settings: readonly Setting<C>[]): string {
  const rows = settings.map((s) => {
    const env = s.env.map((e) => `\`${e}\``).join(', ');
    const flag = s.flag ? `\`--${s.flag}\`` : '';
    const def = s.default === undefined ? '(unset)' : s.default === '' ? '(empty)' : `\`${s.default}\``;
    return `| ${env} | ${flag} | ${s.type} | ${def} | ${s.description} |`;
  });
  return ['| Environment | Flag | Type | Default | Description |', '|---|---|---|---|---|', ...rows].join('\n');
}
