import { parse as parseYaml } from 'yaml';

/*
 * What a monitor watches and when it fires, as people write it in a monitors file (YAML or JSON,
 * `--monitors-file`): every field checked at start, an unknown one refused, each error naming the
 * field (`monitors[2].critical: ...`), as a bad setting names its variable.
 */

export const METRICS = ['request_rate', 'error_rate', 'error_count', 'latency_p50', 'latency_p75', 'latency_p90', 'latency_p95', 'latency_p99', 'latency_max', 'apdex'] as const;
export type Metric = (typeof METRICS)[number];
export const ERROR_MONITORS = ['new_error_group', 'regressed_error_group', 'error_group_count'] as const;
export type ErrorMonitorKind = (typeof ERROR_MONITORS)[number];
export const COMPARISONS = ['above', 'below'] as const;
/** Without data: treat it as OK; show NO DATA (not notified); show and notify it; or alert. */
export const NO_DATA = ['ok', 'no_data', 'notify', 'alert'] as const;
export const CHANNEL_KINDS = ['webhook', 'slack', 'pagerduty', 'sns', 'email'] as const;

export interface Channel {
  name: string;
  kind: (typeof CHANNEL_KINDS)[number];
  /** webhook, slack: where to post. */
  url?: string;
  /** pagerduty: the Events v2 integration's routing key. */
  routingKey?: string;
  /** sns: the topic's ARN (published with the AWS SDK's credentials: the ECS task role). */
  topicArn?: string;
  /** email: the SMTP server (smtp:// or smtps://, user and password in it, e.g. `${SMTP_URL}`), the sender and the recipients. */
  smtpUrl?: string;
  from?: string;
  to?: string[];
  /** webhook: HMAC-SHA256 key; the body's signature goes in X-Ecs-Trace-Signature. */
  secret?: string;
  headers?: Record<string, string>;
}

export interface Monitor {
  id: string;
  name: string;
  service: string;
  env?: string;
  version?: string;
  resource?: string;
  operation?: string;
  /** A RED metric of the stats, or an error-tracking event. */
  metric: Metric | ErrorMonitorKind;
  /** ms. */
  windowMs: number;
  comparison: (typeof COMPARISONS)[number];
  /** ms: the value is the change (%) against the same window this long before (a day, a week). */
  compareToMs?: number;
  /** apdex: the latency (ms) a satisfied request stays within (tolerated: 4 times it). */
  apdexTMs?: number;
  /** error_group_count: the error group (its id, as the Errors page shows it) whose occurrences are counted. */
  group?: string;
  warning?: number;
  critical: number;
  /** The value at which an alert is over (default: the threshold it crossed). */
  recovery?: number;
  /** Fewer requests in the window than this: no data (an error rate of 1 request says little). */
  minRequests: number;
  noData: (typeof NO_DATA)[number];
  notify: string[];
  /** ms between repeats of a notification while it stays in ALERT (0: once). */
  renotifyMs: number;
}

export interface MonitorsFile {
  monitors: Monitor[];
  channels: Channel[];
  /** The UI's address as people open it, for links in notifications. */
  uiUrl?: string;
}

export class MonitorDefinitionError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `5m`, `1h`, `1d` as ms; the monitor windows are from a minute to a day. */
function duration(v: unknown, field: string, min: number, max: number): number {
  const m = typeof v === 'string' ? DURATION.exec(v) : null;
  if (!m) throw new MonitorDefinitionError(field, `${JSON.stringify(v)} is not a duration such as 5m, 1h or 1d`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms < min || ms > max) throw new MonitorDefinitionError(field, `${v} is outside ${min / 60_000}m to ${max / 3_600_000}h`);
  return ms;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fields(o: unknown, field: string, allowed: readonly string[]): Obj {
  if (!isObj(o)) throw new MonitorDefinitionError(field, 'expected a mapping');
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new MonitorDefinitionError(`${field}.${k}`, `is not a field (${allowed.join(', ')})`);
  return o;
}

function text(o: Obj, k: string, field: string, required: boolean): string | undefined {
  const v = o[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '') throw new MonitorDefinitionError(`${field}.${k}`, required && v === undefined ? 'is required' : 'expected text');
  return v;
}

function number(o: Obj, k: string, field: string): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MonitorDefinitionError(`${field}.${k}`, `${JSON.stringify(v)} is not a number`);
  return v;
}

function oneOf<T extends string>(o: Obj, k: string, field: string, choices: readonly T[], fallback?: T): T {
  const v = o[k] ?? fallback;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new MonitorDefinitionError(`${field}.${k}`, `${v === undefined ? 'is required' : `${JSON.stringify(v)} is not one of`}: ${choices.join(', ')}`);
  return v as T;
}

const MONITOR_FIELDS = ['id', 'name', 'service', 'env', 'version', 'resource', 'operation', 'metric', 'window', 'comparison', 'compare_to', 'apdex_t', 'group', 'warning', 'critical', 'recovery', 'min_requests', 'no_data', 'notify', 'renotify'];
const CHANNEL_FIELDS = ['name', 'kind', 'url', 'routing_key', 'topic_arn', 'smtp_url', 'from', 'to', 'secret', 'headers'];

function channelOf(raw: unknown, field: string): Channel {
  const o = fields(raw, field, CHANNEL_FIELDS);
  const kind = oneOf(o, 'kind', field, CHANNEL_KINDS);
  const c: Channel = { name: text(o, 'name', field, true)!, kind };
  if (kind === 'pagerduty') c.routingKey = text(o, 'routing_key', field, true)!;
  if (kind === 'email') {
    const smtp = text(o, 'smtp_url', field, true)!;
    if (!/^smtps?:\/\//.test(smtp)) throw new MonitorDefinitionError(`${field}.smtp_url`, 'expected an smtp:// or smtps:// URL (with its user and password, from the environment: ${SMTP_URL})');
    const email = /^[^\s@<>]+@[^\s@<>]+$/;
    const from = text(o, 'from', field, true)!;
    if (!email.test(from)) throw new MonitorDefinitionError(`${field}.from`, `${JSON.stringify(from)} is not an e-mail address`);
    const to = o['to'];
    if (!Array.isArray(to) || to.length === 0) throw new MonitorDefinitionError(`${field}.to`, 'expected a list of e-mail addresses');
    to.forEach((a, i) => { if (typeof a !== 'string' || !email.test(a)) throw new MonitorDefinitionError(`${field}.to[${i}]`, `${JSON.stringify(a)} is not an e-mail address`); });
    Object.assign(c, { smtpUrl: smtp, from, to: to as string[] });
    return c;
  }
  if (kind === 'sns') {
    const arn = text(o, 'topic_arn', field, true)!;
    if (!/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$/.test(arn)) throw new MonitorDefinitionError(`${field}.topic_arn`, `${JSON.stringify(arn)} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)`);
    c.topicArn = arn;
    return c;
  }
  // PagerDuty's is its Events v2 endpoint unless given (a proxy, say).
  const url = text(o, 'url', field, kind !== 'pagerduty');
  if (url !== undefined) {
    if (!/^https?:\/\//.test(url)) throw new MonitorDefinitionError(`${field}.url`, 'expected an http(s) URL');
    c.url = url;
  }
  const secret = text(o, 'secret', field, false);
  if (secret !== undefined) c.secret = secret;
  if (o['headers'] !== undefined) {
    const h = fields(o['headers'], `${field}.headers`, Object.keys(isObj(o['headers']) ? o['headers'] : {}));
    for (const [k, v] of Object.entries(h)) if (typeof v !== 'string') throw new MonitorDefinitionError(`${field}.headers.${k}`, 'expected text');
    c.headers = h as Record<string, string>;
  }
  return c;
}

function monitorOf(raw: unknown, field: string, channels: ReadonlySet<string>): Monitor {
  const o = fields(raw, field, MONITOR_FIELDS);
  const metric = oneOf(o, 'metric', field, [...METRICS, ...ERROR_MONITORS]);
  const events = (ERROR_MONITORS as readonly string[]).includes(metric);
  const m: Monitor = {
    id: text(o, 'id', field, true)!,
    name: text(o, 'name', field, false) ?? text(o, 'id', field, true)!,
    service: text(o, 'service', field, true)!,
    metric,
    windowMs: duration(o['window'] ?? '5m', `${field}.window`, 60_000, 86_400_000),
    comparison: oneOf(o, 'comparison', field, COMPARISONS, 'above'),
    critical: number(o, 'critical', field) ?? (events ? 0 : NaN),
    minRequests: number(o, 'min_requests', field) ?? 0,
    noData: oneOf(o, 'no_data', field, NO_DATA, events ? 'ok' : 'no_data'),
    notify: [],
    renotifyMs: o['renotify'] === undefined || o['renotify'] === '0' ? 0 : duration(o['renotify'], `${field}.renotify`, 60_000, 86_400_000),
  };
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(m.id)) throw new MonitorDefinitionError(`${field}.id`, `${JSON.stringify(m.id)}: lower-case letters, digits, '.', '_' and '-', at most 64`);
  if (Number.isNaN(m.critical)) throw new MonitorDefinitionError(`${field}.critical`, 'is required: the value at which it alerts');
  if (o['compare_to'] !== undefined) {
    if (events) throw new MonitorDefinitionError(`${field}.compare_to`, 'compares a metric of the stats, not error-group events');
    const v = o['compare_to'];
    if (v !== '1d' && v !== '1w') throw new MonitorDefinitionError(`${field}.compare_to`, `${JSON.stringify(v)} is not one of: 1d, 1w (the same window a day or a week before)`);
    m.compareToMs = v === '1d' ? 86_400_000 : 7 * 86_400_000;
  }
  if (m.metric === 'error_group_count') {
    const g = text(o, 'group', field, true)!;
    if (!/^[0-9a-f]{16}$/.test(g)) throw new MonitorDefinitionError(`${field}.group`, `${JSON.stringify(g)} is not an error group's id (16 hex digits, as the Errors page's address shows it)`);
    m.group = g;
  } else if (o['group'] !== undefined) throw new MonitorDefinitionError(`${field}.group`, 'is for metric: error_group_count only');
  if (m.metric === 'apdex') {
    const t = number(o, 'apdex_t', field);
    if (t === undefined || t <= 0) throw new MonitorDefinitionError(`${field}.apdex_t`, 'is required for apdex: the latency (ms) within which a request satisfies');
    m.apdexTMs = t;
    if (m.compareToMs === undefined && (m.critical < 0 || m.critical > 1)) throw new MonitorDefinitionError(`${field}.critical`, 'an Apdex is from 0 to 1');
  } else if (o['apdex_t'] !== undefined) throw new MonitorDefinitionError(`${field}.apdex_t`, 'is for metric: apdex only');
  for (const k of ['env', 'version', 'resource', 'operation'] as const) {
    const v = text(o, k, field, false);
    if (v !== undefined) m[k] = v;
  }
  const warning = number(o, 'warning', field);
  const recovery = number(o, 'recovery', field);
  const beyond = (a: number, b: number) => (m.comparison === 'above' ? a > b : a < b);
  if (warning !== undefined) {
    if (beyond(warning, m.critical)) throw new MonitorDefinitionError(`${field}.warning`, `${warning} must come before critical (${m.critical}) as the value goes ${m.comparison}`);
    m.warning = warning;
  }
  if (recovery !== undefined) {
    if (beyond(recovery, m.warning ?? m.critical)) throw new MonitorDefinitionError(`${field}.recovery`, `${recovery} must be on the good side of ${m.warning !== undefined ? 'warning' : 'critical'} (${m.warning ?? m.critical})`);
    m.recovery = recovery;
  }
  if (m.metric === 'error_rate' && m.compareToMs === undefined && (m.critical < 0 || m.critical > 100)) throw new MonitorDefinitionError(`${field}.critical`, 'an error rate is a percentage, 0 to 100');
  const notify = o['notify'] ?? [];
  if (!Array.isArray(notify)) throw new MonitorDefinitionError(`${field}.notify`, 'expected a list of channel names');
  notify.forEach((n, i) => {
    if (typeof n !== 'string' || !channels.has(n)) throw new MonitorDefinitionError(`${field}.notify[${i}]`, `${JSON.stringify(n)} is not a channel of this file (${[...channels].join(', ') || 'none'})`);
    m.notify.push(n);
  });
  return m;
}

/**
 * One monitor as the monitors file writes it (snake_case keys), made in the UI or the API: checked
 * as a file's are, its channels among `channels` (the file's: their secrets stay there).
 */
export function parseMonitor(raw: unknown, channels: readonly string[], field = 'monitor'): Monitor {
  return monitorOf(raw, field, new Set(channels));
}

/** A monitor back in the file's shape (what the store keeps of one made in the UI). */
export function monitorToFile(m: Monitor): Record<string, unknown> {
  const window = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`);
  return {
    id: m.id, name: m.name, service: m.service, ...(m.env ? { env: m.env } : {}), ...(m.version ? { version: m.version } : {}), ...(m.resource ? { resource: m.resource } : {}),
    ...(m.operation ? { operation: m.operation } : {}), metric: m.metric, window: window(m.windowMs), comparison: m.comparison,
    ...(m.group !== undefined ? { group: m.group } : {}),
    ...(m.compareToMs !== undefined ? { compare_to: m.compareToMs === 86_400_000 ? '1d' : '1w' } : {}), ...(m.apdexTMs !== undefined ? { apdex_t: m.apdexTMs } : {}),
    ...(m.warning !== undefined ? { warning: m.warning } : {}), critical: m.critical, ...(m.recovery !== undefined ? { recovery: m.recovery } : {}),
    min_requests: m.minRequests, no_data: m.noData, notify: m.notify, ...(m.renotifyMs > 0 ? { renotify: window(m.renotifyMs) } : {}),
  };
}

/**
 * `${NAME}` in the file's text values taken from the environment: secrets (a webhook's URL, a
 * routing key) come to an ECS task as environment variables from Secrets Manager, so the file
 * itself holds none. A variable not set is an error naming the field.
 */
function substitute(v: unknown, field: string, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const value = env[name];
      if (value === undefined) throw new MonitorDefinitionError(field, `\${${name}} is not set in the environment`);
      return value;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => substitute(x, `${field}[${i}]`, env));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, field === '' ? k : `${field}.${k}`, env)]));
  return v;
}

/** A monitors file's text (YAML, of which JSON is a part) checked whole; the first problem thrown, naming its field. */
export function parseMonitors(textOfFile: string, source = 'the monitors file', env: Readonly<Record<string, string | undefined>> = {}): MonitorsFile {
  let raw: unknown;
  try {
    raw = parseYaml(textOfFile);
  } catch (err) {
    throw new MonitorDefinitionError(source, `is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  raw = substitute(raw, '', env);
  const o = fields(raw ?? {}, source, ['monitors', 'channels', 'ui_url']);
  const uiUrl = text(o, 'ui_url', source, false);
  if (uiUrl !== undefined && !/^https?:\/\//.test(uiUrl)) throw new MonitorDefinitionError('ui_url', 'expected an http(s) URL');
  const channelsRaw = o['channels'] ?? [];
  if (!Array.isArray(channelsRaw)) throw new MonitorDefinitionError('channels', 'expected a list');
  const channels = channelsRaw.map((c, i) => channelOf(c, `channels[${i}]`));
  const names = new Set<string>();
  channels.forEach((c, i) => {
    if (names.has(c.name)) throw new MonitorDefinitionError(`channels[${i}].name`, `${JSON.stringify(c.name)} is named twice`);
    names.add(c.name);
  });
  const monitorsRaw = o['monitors'] ?? [];
  if (!Array.isArray(monitorsRaw)) throw new MonitorDefinitionError('monitors', 'expected a list');
  const monitors = monitorsRaw.map((m, i) => monitorOf(m, `monitors[${i}]`, names));
  const ids = new Set<string>();
  monitors.forEach((m, i) => {
    if (ids.has(m.id)) throw new MonitorDefinitionError(`monitors[${i}].id`, `${JSON.stringify(m.id)} is used twice`);
    ids.add(m.id);
  });
  return { monitors, channels, ...(uiUrl ? { uiUrl } : {}) };
}
