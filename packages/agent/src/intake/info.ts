import { createHash } from 'node:crypto';
import { AGENT_BUILD, AGENT_VERSION } from '../runtime/index.js';
import { DEFAULT_PEER_TAGS, STATS_SPAN_KINDS } from '../stats/index.js';
import { infoEndpoints } from './endpoints.js';
import { otlpAddress } from './settings.js';
import type { IntakeConfig } from './settings.js';

/** What /info reports beyond the intake's own settings. */
export interface InfoFacts {
  /** The default env. */
  env: string;
  targetTps: number;
  /** Forwarding is on when these are set (only whether, never the values, reaches /info). */
  apiKey?: string | undefined;
  otlpExportEndpoint?: string | undefined;
}

/**
 * The /info discovery document, as the Datadog Agent's: /v0.6/stats and client_drop_p0s are
 * advertised, so a tracer that computes stats itself may drop P0 traces and send its stats; the
 * agent then keeps those stats and skips its own for that tracer's payloads.
 */
export function buildInfo(config: IntakeConfig & InfoFacts): { body: string; state: string } {
  const doc = {
    version: AGENT_VERSION,
    git_commit: AGENT_BUILD,
    endpoints: infoEndpoints(config.remoteConfig),
    client_drop_p0s: true,
    span_meta_structs: true,
    long_running_spans: true,
    span_events: true,
    evp_proxy_allowed_headers: ['Content-Type', 'Accept-Encoding', 'Content-Encoding', 'User-Agent', 'DD-CI-PROVIDER-NAME'],
    config: {
      default_env: config.env,
      target_tps: config.targetTps,
      max_eps: 200,
      receiver_port: config.receiverPort,
      receiver_socket: '',
      connection_limit: 0,
      receiver_timeout: Math.round(config.receiverTimeoutMs / 1000),
      max_request_bytes: config.maxPayloadBytes,
      statsd_port: 0,
      max_memory: 0,
      max_cpu: 0,
      analyzed_spans_by_service: {},
    },
    peer_tags: DEFAULT_PEER_TAGS,
    span_kinds_stats_computed: STATS_SPAN_KINDS,
    obfuscation_version: 0,
    // Ours, beside the Datadog Agent's fields (tracers ignore keys they do not know): what is on.
    ecs_trace: {
      otlp_intake: { http: otlpAddress('http', config, false) !== undefined, grpc: otlpAddress('grpc', config, false) !== undefined },
      forwarding: { datadog: Boolean(config.apiKey), otlp_export: Boolean(config.otlpExportEndpoint) },
    },
  };
  // The Datadog Agent pretty-prints /info with tabs.
  const body = JSON.stringify(doc, null, '\t');
  return { body, state: createHash('sha256').update(body).digest('hex') };
}
