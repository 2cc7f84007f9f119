import { ConfigError } from '../runtime/index.js';

/*
 * Links from a span to the app's logs, as Jaeger's linkPatterns and Grafana's trace-to-logs make
 * them: URL templates (ECS_TRACE_LOG_LINKS, JSON) that the UI fills in for a span: {trace_id}
 * (32 hex), {trace_id_64} (the low 64 bits in decimal: the `dd.trace_id` dd-trace injects in logs
 * by default), {span_id} (decimal), {service}, {env}, {start} and {end} (ms, five minutes either
 * side of the span), {start_iso}, {end_iso}, and {tag:NAME} for any of its tags.
 */

export interface LogLink {
  name: string;
  url: string;
}

export function parseLogLinks(text: string | undefined): LogLink[] {
  if (text === undefined || text.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`ECS_TRACE_LOG_LINKS is not JSON: ${(err as Error).message}; give [{"name": "Loki", "url": "https://...{trace_id}..."}]`);
  }
  if (!Array.isArray(raw)) throw new ConfigError('ECS_TRACE_LOG_LINKS: expected a JSON list of {"name", "url"}');
  return raw.map((l: unknown, i) => {
    const o = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
    if (typeof o['name'] !== 'string' || o['name'] === '') throw new ConfigError(`ECS_TRACE_LOG_LINKS[${i}].name: give the link's name`);
    if (typeof o['url'] !== 'string' || !/^https?:\/\//.test(o['url'])) throw new ConfigError(`ECS_TRACE_LOG_LINKS[${i}].url: expected an http(s) URL template`);
    for (const k of Object.keys(o)) if (k !== 'name' && k !== 'url') throw new ConfigError(`ECS_TRACE_LOG_LINKS[${i}].${k}: is not a field (name, url)`);
    return { name: o['name'], url: o['url'] };
  });
}
