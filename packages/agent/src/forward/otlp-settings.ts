import { ConfigError, type Setting } from '../runtime/index.js';

export interface OtlpExportConfig {
  /** OTLP/HTTP endpoint that kept traces are also sent to; unset: none. */
  otlpExportEndpoint: string | undefined;
  /** `key=value,key2=value2` headers for it (credentials): never logged. */
  otlpExportHeaders: string | undefined;
}

export const otlpExportSettings: Setting<OtlpExportConfig>[] = [
  { key: 'otlpExportEndpoint', env: ['ECS_TRACE_OTLP_EXPORT_ENDPOINT'], type: 'string', default: undefined, description: 'Also send kept traces to this OTLP/HTTP endpoint (protobuf, gzip): an OpenTelemetry Collector, Jaeger, Tempo. A base URL gets `/v1/traces` appended, as OTEL_EXPORTER_OTLP_ENDPOINT does; a URL ending in `/v1/traces` is used as it is. Spans are mapped as the Collector\'s datadog receiver maps them.' },
  { key: 'otlpExportHeaders', secret: true, env: ['ECS_TRACE_OTLP_EXPORT_HEADERS'], type: 'string', default: undefined, description: 'Headers for the OTLP export, as OTEL_EXPORTER_OTLP_HEADERS writes them: `key=value` pairs separated by commas, values percent-encoded (e.g. `authorization=Bearer%20abc`). Never logged.' },
];

/** The URL that OTLP export posts to, from the endpoint setting; throws ConfigError naming the variable. */
export function otlpExportUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(`ECS_TRACE_OTLP_EXPORT_ENDPOINT="${endpoint}" is not a URL: expected e.g. http://otel-collector:4318`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`ECS_TRACE_OTLP_EXPORT_ENDPOINT="${endpoint}" is not an http(s) URL: the export speaks OTLP/HTTP (gRPC endpoints on 4317 are not supported; use the HTTP port, usually 4318)`);
  }
  if (url.username || url.password) {
    throw new ConfigError('ECS_TRACE_OTLP_EXPORT_ENDPOINT has credentials in it: put them in ECS_TRACE_OTLP_EXPORT_HEADERS, which is never logged');
  }
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url;
}

/** `k=v,k2=v2` (values percent-encoded) as headers; throws ConfigError naming the variable, never echoing a value. */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!text) return headers;
  for (const [i, part] of text.split(',').entries()) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) {
      throw new ConfigError(`ECS_TRACE_OTLP_EXPORT_HEADERS: entry ${i + 1} is not key=value with a valid header name (values are not shown: they may be secrets)`);
    }
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`ECS_TRACE_OTLP_EXPORT_HEADERS: the value of "${key}" has a broken percent-encoding`);
    }
    headers[key] = value;
  }
  return headers;
}
