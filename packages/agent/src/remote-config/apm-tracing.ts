import type { SamplingRule, TracingSettings } from './tracing-settings.js';

/*
 * Settings as the file of Datadog's APM_TRACING product that tracers apply. It carries them in
 * both the forms tracers read: `lib_config` (ddtrace for Python, dd-java-agent, dd-trace-go: named
 * fields) and `sdk_config.config` (dd-trace-js 5.13x: the settings' environment variables, as
 * strings); `service_target` says whom it is for, and each tracer ignores a file for another
 * service or env.
 */

interface LibRule {
  service: string;
  name?: string;
  resource: string;
  tags?: { key: string; value_glob: string }[];
  sample_rate: number;
  provenance: 'customer';
}

function libRule(service: string, r: SamplingRule): LibRule {
  return {
    service,
    ...(r.name !== undefined ? { name: r.name } : {}),
    resource: r.resource ?? '*',
    ...(r.tags ? { tags: Object.entries(r.tags).map(([key, value_glob]) => ({ key, value_glob })) } : {}),
    sample_rate: r.sampleRate,
    provenance: 'customer',
  };
}

/** DD_TRACE_SAMPLING_RULES' JSON for the same rules, as a tracer reads it from its environment. */
function envRules(service: string, rules: SamplingRule[]): string {
  return JSON.stringify(rules.map((r) => ({ service, ...(r.name !== undefined ? { name: r.name } : {}), ...(r.resource !== undefined ? { resource: r.resource } : {}), ...(r.tags ? { tags: r.tags } : {}), sample_rate: r.sampleRate, provenance: 'customer' })));
}

/** The file's bytes (JSON), as the tracers are sent them and hash them. */
export function apmTracingFile(id: string, revision: number, s: TracingSettings): Buffer {
  const lib: Record<string, unknown> = { library_language: 'all', library_version: 'latest', service_name: s.service, env: s.env };
  const env: Record<string, string> = {};
  if (s.sampleRate !== undefined) {
    lib.tracing_sampling_rate = s.sampleRate;
    env.DD_TRACE_SAMPLE_RATE = String(s.sampleRate);
  }
  if (s.samplingRules !== undefined) {
    lib.tracing_sampling_rules = s.samplingRules.map((r) => libRule(s.service, r));
    env.DD_TRACE_SAMPLING_RULES = envRules(s.service, s.samplingRules);
  }
  if (s.logInjection !== undefined) {
    lib.log_injection_enabled = s.logInjection;
    env.DD_LOGS_INJECTION = String(s.logInjection);
  }
  return Buffer.from(JSON.stringify({
    id,
    revision,
    schema_version: 'v1.0.0',
    action: 'enable',
    service_target: { service: s.service, env: s.env },
    lib_config: lib,
    sdk_config: { config: env },
  }));
}
