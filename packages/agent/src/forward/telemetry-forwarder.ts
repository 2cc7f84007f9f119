import type { AgentMetrics, LogOnce } from '../runtime/index.js';
import { gzipped } from './gzip.js';
import { Sender } from './sender.js';

/*
 * The tracers' telemetry to Datadog, when forwarding is on, as the Datadog Agent proxies it
 * (/telemetry/proxy/ to instrumentation-telemetry-intake.<site>): each body as the tracer sent it,
 * with the tracer's telemetry headers, the API key, and the agent's hostname and env added; after
 * the agent has taken it, through the forwarding queue (bounded, retried as traces are).
 */

/** Headers of the tracer's request passed on (the rest, its own connection's, are not). */
const PASSED = ['content-type', 'dd-telemetry-api-version', 'dd-telemetry-request-type', 'dd-telemetry-debug-enabled', 'dd-client-library-language', 'dd-client-library-version', 'dd-session-id', 'dd-root-session-id', 'dd-parent-session-id'];

export interface TelemetryForwarderOptions {
  /** `https://instrumentation-telemetry-intake.<site>`, or DD_APM_TELEMETRY_DD_URL. */
  baseUrl: string;
  apiKey: string;
  hostname: string;
  env: string;
  agentVersion: string;
  maxQueueBytes: number;
  metrics: AgentMetrics;
  logOnce: LogOnce;
}

export function telemetryIntakeUrl(config: { site: string; telemetryDdUrl: string | undefined }): string {
  return (config.telemetryDdUrl ?? `https://instrumentation-telemetry-intake.${config.site}`).replace(/\/+$/, '');
}

export class TelemetryForwarder {
  private readonly sender: Sender;

  constructor(private readonly o: TelemetryForwarderOptions) {
    this.sender = new Sender({
      baseUrl: o.baseUrl, headers: { 'DD-API-KEY': o.apiKey, 'User-Agent': `Datadog Trace Agent/${o.agentVersion}/ecs-trace` },
      destination: 'Datadog (telemetry)', label: 'datadog', rejectedHint: 'check DD_API_KEY and DD_SITE',
      retryable: (status) => status === 408 || status === 429 || status >= 500,
      maxQueueBytes: o.maxQueueBytes, metrics: o.metrics, logOnce: o.logOnce, connections: 1,
    });
  }

  /** Queues a telemetry body (gzipped or not, as it came) with its request's headers. */
  forward(body: Buffer, gzip: boolean, headers: Record<string, string | string[] | undefined>): void {
    const passed: Record<string, string> = { 'DD-Agent-Hostname': this.o.hostname, 'DD-Agent-Env': this.o.env };
    for (const h of PASSED) {
      const v = headers[h];
      if (typeof v === 'string' && v !== '') passed[h] = v;
    }
    void (gzip ? Promise.resolve(body) : gzipped(body)).then((b) => this.sender.push({ kind: 'telemetry', path: '/api/v2/apmtelemetry', headers: passed, body: b }));
  }

  idle(): Promise<void> {
    return this.sender.idle();
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
