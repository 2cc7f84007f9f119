import type { Setting } from '../runtime/index.js';

export interface ForwardConfig {
  /** Datadog API key: forwarding is on when it is set. Never logged. */
  apiKey: string | undefined;
  site: string;
  /** Overrides the intake's base URL (`https://trace.agent.<site>`). */
  ddUrl: string | undefined;
  /** Overrides the telemetry intake's base URL (`https://instrumentation-telemetry-intake.<site>`). */
  telemetryDdUrl: string | undefined;
  /** Bytes of payloads waiting to be sent; past it the oldest are dropped, counted. */
  forwardQueueBytes: number;
}

export const forwardSettings: Setting<ForwardConfig>[] = [
  { key: 'apiKey', secret: true, env: ['DD_API_KEY'], type: 'string', default: undefined, description: 'Datadog API key (from an ECS secret): kept traces and the agent\'s stats are also forwarded to Datadog, as the trace-agent sends them. Unset: nothing leaves the agent. Never logged.' },
  { key: 'site', env: ['DD_SITE'], type: 'string', default: 'datadoghq.com', description: 'Datadog site to forward to (`datadoghq.eu`, `us3.datadoghq.com`, ...).' },
  { key: 'ddUrl', env: ['DD_APM_DD_URL'], type: 'string', default: undefined, description: 'The trace intake\'s base URL, instead of `https://trace.agent.<DD_SITE>`.' },
  { key: 'telemetryDdUrl', env: ['DD_APM_TELEMETRY_DD_URL'], type: 'string', default: undefined, description: 'Where the tracers\' telemetry is forwarded with `DD_API_KEY`, instead of `https://instrumentation-telemetry-intake.<DD_SITE>`.' },
  { key: 'forwardQueueBytes', env: ['ECS_TRACE_FORWARD_QUEUE'], type: 'bytes', default: '100MB', description: 'Payloads waiting to be forwarded (compressed); past it the oldest go, counted in `/metrics`.' },
];

/** Where forwarded payloads go. */
export function intakeBaseUrl(config: Pick<ForwardConfig, 'site' | 'ddUrl'>): string {
  return (config.ddUrl ?? `https://trace.agent.${config.site}`).replace(/\/+$/, '');
}
