import type { Setting } from '../runtime/index.js';

export interface IntakeConfig {
  apmEnabled: boolean;
  /** undefined: not set, so the container rule applies. */
  nonLocalTraffic: boolean | undefined;
  bindHost: string | undefined;
  receiverPort: number;
  receiverSocket: string | undefined;
  maxPayloadBytes: number;
  receiverTimeoutMs: number;
  decoders: number;
  decoderTimeoutMs: number;
  maxConnections: number;
  features: string[];
  /** undefined: /host/sys/fs/cgroup when mounted, else /sys/fs/cgroup. */
  cgroupRoot: string | undefined;
  /** host:port of the OTLP/HTTP intake; undefined: off (unless `otlp`). */
  otlpHttpEndpoint: string | undefined;
  /** host:port of the OTLP/gRPC intake; undefined: off (unless `otlp`). */
  otlpGrpcEndpoint: string | undefined;
  /** The OTLP intakes on their usual port (4318), bound as the trace intake is. */
  otlp: boolean;
  /** Serve /v0.7/config to tracers (remote-config/). */
  remoteConfig: boolean;
  /** Attributes kept per OTLP span, resource and scope. */
  otlpMaxAttributes: number;
  /** Bytes of attributes one OTLP request may map to, resource and scope copies included. */
  otlpMaxMappedBytes: number;
}

export const intakeSettings: Setting<IntakeConfig>[] = [
  { key: 'apmEnabled', env: ['DD_APM_ENABLED'], type: 'boolean', default: 'true', description: 'Run the trace receiver. With `false` the agent starts without intake (query API only) and says so.' },
  { key: 'nonLocalTraffic', env: ['DD_APM_NON_LOCAL_TRAFFIC'], type: 'boolean', default: undefined, description: '`true`: intake listens on all interfaces; `false`: loopback only. Unset: loopback, except in an ECS task, a Kubernetes pod or the agent image (`DOCKER_DD_AGENT`), where it listens on all interfaces as the Datadog Agent does; a container on a developer machine stays on loopback.' },
  { key: 'bindHost', env: ['DD_BIND_HOST'], type: 'string', default: undefined, description: 'Address the intake binds to; takes precedence over `DD_APM_NON_LOCAL_TRAFFIC`.' },
  { key: 'receiverPort', env: ['DD_APM_RECEIVER_PORT', 'DD_RECEIVER_PORT'], flag: 'receiver-port', type: 'port', default: '8126', description: 'Intake TCP port (`0` disables the TCP listener).' },
  { key: 'receiverSocket', env: ['DD_APM_RECEIVER_SOCKET'], type: 'string', default: undefined, description: 'Also accept traces on this unix socket (e.g. `/var/run/datadog/apm.socket`, shared with app containers through a host volume).' },
  { key: 'maxPayloadBytes', env: ['DD_APM_MAX_PAYLOAD_SIZE'], type: 'bytes', default: '26214400', description: 'Largest accepted request body; larger ones get 413 before the body is read.' },
  { key: 'receiverTimeoutMs', env: ['DD_APM_RECEIVER_TIMEOUT'], type: 'duration', default: '5s', zeroAllowed: true, description: 'Time allowed to read a request; slower requests get 408. A bare number is seconds, as in the Datadog Agent.' },
  { key: 'decoders', env: ['DD_APM_DECODERS'], type: 'integer', default: undefined, description: 'Payloads decoded and stored at once. Unset: max(1, cores / 2), the cgroup\'s CPU quota counted; at least 2 with the writer thread.' },
  { key: 'decoderTimeoutMs', env: ['DD_APM_DECODER_TIMEOUT'], type: 'integer', default: '1000', description: 'Milliseconds a payload waits for a decoder before it is refused (200, or 429 when the tracer sends `Datadog-Send-Real-Http-Status`).' },
  { key: 'maxConnections', env: ['DD_APM_MAX_CONNECTIONS'], type: 'integer', default: '1000', description: 'Concurrent intake connections.' },
  { key: 'cgroupRoot', env: ['DD_CONTAINER_CGROUP_ROOT'], type: 'string', default: undefined, description: 'The host\'s cgroup hierarchy, where a tracer\'s `Datadog-Entity-ID: in-<inode>` (cgroup v2, private cgroup namespace) is looked up for its container. Unset: `/host/sys/fs/cgroup` when mounted there (`taskdef agent` does), else `/sys/fs/cgroup`.' },
  { key: 'otlpHttpEndpoint', env: ['DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT'], type: 'string', default: undefined, description: 'OTLP/HTTP trace intake (`POST /v1/traces`, protobuf or JSON, gzip) on this `host:port`, as the Datadog Agent configures it, e.g. `0.0.0.0:4318`. Off unless set (or `--otlp`).' },
  { key: 'otlpGrpcEndpoint', env: ['DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT'], type: 'string', default: undefined, description: 'OTLP/gRPC trace intake (`TraceService/Export`) on this `host:port`, e.g. `0.0.0.0:4317`. Off unless set (or `--otlp`).' },
  { key: 'otlpMaxAttributes', env: ['ECS_TRACE_OTLP_MAX_ATTRIBUTES'], type: 'integer', default: '128', description: 'Attributes kept per OTLP span, per resource and per scope (the first ones), as the OpenTelemetry SDKs\' and Collector\'s attribute count limit.' },
  { key: 'otlpMaxMappedBytes', env: ['ECS_TRACE_OTLP_MAX_MAPPED'], type: 'bytes', default: '256MiB', description: 'Bytes of attributes one OTLP request may become once mapped: each span gets a copy of its resource\'s and scope\'s attributes, so a small request can expand by their product. A request over it is refused (400) saying so; one under it is mapped and stored in slices of 4 MiB.' },
  { key: 'remoteConfig', env: ['DD_REMOTE_CONFIGURATION_ENABLED'], type: 'boolean', default: 'true', description: 'Serve remote configuration to tracers at `/v0.7/config`, listed in `/info` as the Datadog Agent lists it: the sample rates, sampling rules and log injection set in the UI or with `POST /api/v1/remote-config`, applied by the running tracers within seconds. `false`: `/v0.7/config` answers 404 and is not listed, and tracers stop polling.' },
  { key: 'otlp', env: ['ECS_TRACE_OTLP'], flag: 'otlp', type: 'boolean', default: 'false', description: 'Turn the OTLP intakes on at their usual ports, 4318 (HTTP) and 4317 (gRPC), bound as the trace intake is (loopback unless non-local traffic is on).' },
];

/**
 * The address the intake binds to, by the Datadog Agent's rule: DD_BIND_HOST; else all
 * interfaces with DD_APM_NON_LOCAL_TRAFFIC=true; else loopback, except that an agent in a
 * container with neither set opens itself (it could not be reached otherwise).
 */
/** Where an OTLP intake listens, if anywhere: its setting, or `--otlp` beside the trace intake at the usual port. */
export function otlpAddress(protocol: 'http' | 'grpc', config: Pick<IntakeConfig, 'otlpHttpEndpoint' | 'otlpGrpcEndpoint' | 'otlp' | 'bindHost' | 'nonLocalTraffic'>, containerized: boolean): { host: string; port: number } | undefined {
  const setting = protocol === 'http' ? config.otlpHttpEndpoint : config.otlpGrpcEndpoint;
  const endpoint = setting ?? (config.otlp ? `${receiverHost(config, containerized)}:${protocol === 'http' ? 4318 : 4317}` : undefined);
  if (endpoint === undefined || endpoint === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(endpoint.replace(/^https?:\/\//, ''));
  if (!m || Number(m[3]) > 65535) throw new Error(`DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_${protocol.toUpperCase()}_ENDPOINT: ${JSON.stringify(endpoint)} is not host:port (e.g. 0.0.0.0:${protocol === 'http' ? 4318 : 4317})`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

export function receiverHost(config: Pick<IntakeConfig, 'bindHost' | 'nonLocalTraffic'>, containerized: boolean): string {
  if (config.bindHost) return config.bindHost;
  if (config.nonLocalTraffic === true) return '0.0.0.0';
  if (config.nonLocalTraffic === false) return '127.0.0.1';
  return containerized ? '0.0.0.0' : '127.0.0.1';
}
