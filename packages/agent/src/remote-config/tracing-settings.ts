import { createHash } from 'node:crypto';

/*
 * What the UI and the API set for the tracers of a service (Datadog's APM_TRACING product): its
 * trace sample rate, sampling rules, and log injection. One setting per service and env; `*` for
 * an env means every env of the service (a tracer takes the narrower one first, as Datadog's
 * priorities go: service and env, then service).
 */

export interface SamplingRule {
  /** Globs (`*`, `?`), as DD_TRACE_SAMPLING_RULES takes them; absent: any. */
  name?: string;
  resource?: string;
  /** Tag globs the span must carry. */
  tags?: Record<string, string>;
  sampleRate: number;
}

export interface TracingSettings {
  service: string;
  /** An env, or `*` for all of the service's. */
  env: string;
  /** The share of traces kept, 0 to 1; absent: the tracer's own (or the agent's rates). */
  sampleRate?: number;
  /** Tried in order before the sample rate. */
  samplingRules?: SamplingRule[];
  /** Trace ids in the app's logs (DD_LOGS_INJECTION); absent: the tracer's own setting. */
  logInjection?: boolean;
}

export class TracingSettingsError extends Error {}

const MAX_RULES = 50;
const MAX_NAME = 200;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function rate(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new TracingSettingsError(`${field}: give a number from 0 to 1 (the share of traces kept)`);
  return v;
}

function text(v: unknown, field: string, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_NAME || [...v].some((c) => c.charCodeAt(0) < 0x20)) {
    throw new TracingSettingsError(`${field}: give a name of 1 to ${MAX_NAME} printable characters`);
  }
  return v.trim();
}

const KNOWN = new Set(['service', 'env', 'sampleRate', 'samplingRules', 'logInjection']);

/** Reads settings as the API takes them (JSON); a bad one throws naming the field. */
export function parseTracingSettings(body: unknown): TracingSettings {
  if (!isObj(body)) throw new TracingSettingsError('give a JSON object: {"service": ..., "env": ..., "sampleRate": ..., "samplingRules": [...], "logInjection": ...}');
  for (const k of Object.keys(body)) if (!KNOWN.has(k)) throw new TracingSettingsError(`${k}: not a setting (service, env, sampleRate, samplingRules, logInjection)`);
  const out: TracingSettings = { service: text(body.service, 'service', true)!, env: text(body.env ?? '*', 'env', true)! };
  if (out.service === '*') throw new TracingSettingsError('service: name one service (settings are per service)');
  if (body.sampleRate !== undefined && body.sampleRate !== null) out.sampleRate = rate(body.sampleRate, 'sampleRate');
  if (body.logInjection !== undefined && body.logInjection !== null) {
    if (typeof body.logInjection !== 'boolean') throw new TracingSettingsError('logInjection: give true or false');
    out.logInjection = body.logInjection;
  }
  if (body.samplingRules !== undefined && body.samplingRules !== null) {
    if (!Array.isArray(body.samplingRules) || body.samplingRules.length > MAX_RULES) throw new TracingSettingsError(`samplingRules: give a list of at most ${MAX_RULES} rules`);
    out.samplingRules = body.samplingRules.map((r: unknown, i): SamplingRule => {
      const at = `samplingRules[${i}]`;
      if (!isObj(r)) throw new TracingSettingsError(`${at}: give {"name"?, "resource"?, "tags"?, "sampleRate"}`);
      for (const k of Object.keys(r)) if (!['name', 'resource', 'tags', 'sampleRate'].includes(k)) throw new TracingSettingsError(`${at}.${k}: not a rule field (name, resource, tags, sampleRate)`);
      const rule: SamplingRule = { sampleRate: rate(r.sampleRate, `${at}.sampleRate`) };
      const name = text(r.name, `${at}.name`, false);
      const resource = text(r.resource, `${at}.resource`, false);
      if (name !== undefined) rule.name = name;
      if (resource !== undefined) rule.resource = resource;
      if (r.tags !== undefined) {
        if (!isObj(r.tags)) throw new TracingSettingsError(`${at}.tags: give {"tag": "glob", ...}`);
        const tags: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.tags)) tags[text(k, `${at}.tags key`, true)!] = text(v, `${at}.tags.${k}`, true)!;
        if (Object.keys(tags).length > 0) rule.tags = tags;
      }
      return rule;
    });
    if (out.samplingRules.length === 0) delete out.samplingRules;
  }
  if (out.sampleRate === undefined && out.samplingRules === undefined && out.logInjection === undefined) {
    throw new TracingSettingsError('set at least one of sampleRate, samplingRules, logInjection (DELETE removes the settings)');
  }
  return out;
}

/**
 * The settings' id in remote-config paths (datadog/<org>/APM_TRACING/<id>/config): from the
 * service and env, so one pair has one id on every replica, in the characters every tracer's path
 * parser takes.
 */
export function settingsId(service: string, env: string): string {
  return createHash('sha256').update(`${service}\u0000${env}`).digest('hex').slice(0, 32);
}
