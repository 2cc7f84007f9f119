import type { TraceApiVersion } from '@ecs-trace/protocol';

/*
 * The intake's endpoints in one table, as the Datadog Agent's api/endpoints.go: routing and
 * /info's `endpoints` list are both read from it, so the agent never advertises what it does not
 * serve. Hidden endpoints are served but not advertised (old tracers still call them).
 */

export type EndpointHandler =
  | { kind: 'traces'; version: TraceApiVersion }
  | { kind: 'stats' }
  | { kind: 'services' }
  /** A tracer's telemetry about itself (what the Datadog Agent proxies to Datadog): kept by the agent. */
  | { kind: 'telemetry' }
  /** Remote configuration for tracers (remote-config/), unless DD_REMOTE_CONFIGURATION_ENABLED=false. */
  | { kind: 'remote-config' }
  /** A feature this agent does not run: drained and answered with this status and message. */
  | { kind: 'off'; status: number; message: string };

export interface Endpoint {
  pattern: string;
  handler: EndpointHandler;
  hidden?: boolean;
}

const DOGSTATSD_OFF: EndpointHandler = { kind: 'off', status: 503, message: 'DogStatsD is disabled: ecs-trace runs no DogStatsD server' };

export const ENDPOINTS: readonly Endpoint[] = [
  { pattern: '/services', handler: { kind: 'services' }, hidden: true },
  { pattern: '/v0.1/services', handler: { kind: 'services' }, hidden: true },
  { pattern: '/v0.2/services', handler: { kind: 'services' }, hidden: true },
  { pattern: '/v0.3/traces', handler: { kind: 'traces', version: 'v0.3' } },
  { pattern: '/v0.3/services', handler: { kind: 'services' } },
  { pattern: '/v0.4/traces', handler: { kind: 'traces', version: 'v0.4' } },
  { pattern: '/v0.4/services', handler: { kind: 'services' } },
  { pattern: '/v0.5/traces', handler: { kind: 'traces', version: 'v0.5' } },
  { pattern: '/v0.6/stats', handler: { kind: 'stats' } },
  // Advertised as the Datadog Agent does (a prefix); tracers post to its apmtelemetry path.
  { pattern: '/telemetry/proxy/', handler: { kind: 'telemetry' } },
  { pattern: '/telemetry/proxy/api/v2/apmtelemetry', handler: { kind: 'telemetry' }, hidden: true },
  // Listed in /info only when served: the Python and Ruby tracers poll it (or warn) by that list.
  { pattern: '/v0.7/config', handler: { kind: 'remote-config' } },
  { pattern: '/dogstatsd/v1/proxy', handler: DOGSTATSD_OFF, hidden: true },
  { pattern: '/dogstatsd/v2/proxy', handler: DOGSTATSD_OFF, hidden: true },
];

/** What /info lists, in the table's order: /v0.7/config only while remote configuration is on. */
export function infoEndpoints(remoteConfig: boolean): string[] {
  return ENDPOINTS.filter((e) => !e.hidden && (remoteConfig || e.handler.kind !== 'remote-config')).map((e) => e.pattern);
}

const BY_PATH = new Map(ENDPOINTS.map((e) => [e.pattern, e]));

export function findEndpoint(path: string): Endpoint | undefined {
  return BY_PATH.get(path);
}
