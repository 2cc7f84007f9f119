/*
 * The agent's own metrics, served as Prometheus text on /metrics. Label values partly come from
 * request headers (tracer language and version), so each metric caps its distinct label sets:
 * past the cap, new sets are counted under `other` instead of growing memory.
 */

const MAX_SERIES_PER_METRIC = 500;
const MAX_LABEL_LENGTH = 64;

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

abstract class Metric {
  protected readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}

  protected entry(labels: Labels): { labels: Labels; value: number } {
    let key = '';
    for (const n of this.labelNames) key += (labels[n] ?? '') + '\u0000';
    let e = this.series.get(key);
    if (e === undefined) {
      if (this.series.size >= MAX_SERIES_PER_METRIC) {
        const other: Labels = {};
        for (const n of this.labelNames) other[n] = 'other';
        return this.entry(other);
      }
      const clean: Labels = {};
      for (const n of this.labelNames) clean[n] = (labels[n] ?? '').slice(0, MAX_LABEL_LENGTH);
      e = { labels: clean, value: 0 };
      this.series.set(key, e);
    }
    return e;
  }

  abstract readonly type: 'counter' | 'gauge';

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
    if (this.series.size === 0 && this.labelNames.length === 0) out += `${this.name} 0\n`;
    for (const { labels, value } of this.series.values()) {
      const l = this.labelNames.map((n) => `${n}="${escapeLabel(labels[n]!)}"`).join(',');
      out += `${this.name}${l ? `{${l}}` : ''} ${value}\n`;
    }
    return out;
  }

  /** The current value for these labels (0 if never set), for tests and the status line. */
  get(labels: Labels = {}): number {
    let key = '';
    for (const n of this.labelNames) key += (labels[n] ?? '') + '\u0000';
    return this.series.get(key)?.value ?? 0;
  }
}

export class Counter extends Metric {
  readonly type = 'counter';
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }
}

export class Gauge extends Metric {
  readonly type = 'gauge';
  set(value: number, labels: Labels = {}): void {
    this.entry(labels).value = value;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: (() => void)[] = [];
  /** `collect` runs before each render, for values read at scrape time (memory, CPU). */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const c = new Counter(name, help, labelNames);
    this.metrics.push(c);
    return c;
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const g = new Gauge(name, help, labelNames);
    this.metrics.push(g);
    return g;
  }
  render(): string {
    for (const c of this.collectors) c();
    return this.metrics.map((m) => m.render()).join('');
  }
}

/** The process's memory and CPU, under the names Prometheus' Node client gives them, read at scrape time. */
function processMetrics(registry: Registry): void {
  const rss = registry.gauge('process_resident_memory_bytes', 'Resident memory of the agent process, all its threads.');
  const heapTotal = registry.gauge('nodejs_heap_size_total_bytes', 'V8 heap of the main thread, reserved.');
  const heapUsed = registry.gauge('nodejs_heap_size_used_bytes', 'V8 heap of the main thread, in use.');
  const external = registry.gauge('nodejs_external_memory_bytes', 'Memory outside the V8 heap held by JavaScript objects (buffers included).');
  const cpu = registry.counter('process_cpu_seconds_total', 'CPU time of the agent process (user and system), all its threads.');
  const start = registry.gauge('process_start_time_seconds', 'When the agent process started, in seconds since the epoch.');
  // Floor, not round: a scrape in the process's first half second must not see a start to come.
  start.set(Math.floor(Date.now() / 1000 - process.uptime()));
  let cpuSeen = 0;
  registry.onCollect(() => {
    const m = process.memoryUsage();
    rss.set(m.rss);
    heapTotal.set(m.heapTotal);
    heapUsed.set(m.heapUsed);
    external.set(m.external);
    const u = process.cpuUsage();
    const seconds = (u.user + u.system) / 1e6;
    cpu.inc({}, seconds - cpuSeen);
    cpuSeen = seconds;
  });
}

/** The agent's metrics, named after the Datadog Agent's `datadog.trace_agent.*` where they exist. */
export function agentMetrics(registry = new Registry()) {
  processMetrics(registry);
  return {
    registry,
    payloads: registry.counter('ecs_trace_receiver_payloads_total', 'Trace payloads accepted, by endpoint and tracer.', ['endpoint', 'lang', 'tracer_version']),
    traces: registry.counter('ecs_trace_receiver_traces_received_total', 'Trace chunks received.', ['lang', 'tracer_version']),
    spans: registry.counter('ecs_trace_receiver_spans_received_total', 'Spans received.', ['lang', 'tracer_version']),
    bytes: registry.counter('ecs_trace_receiver_bytes_total', 'Request body bytes read.', ['endpoint']),
    payloadErrors: registry.counter('ecs_trace_receiver_payload_errors_total', 'Payloads rejected, by reason (decode, too_large, timeout, unexpected_eof, cross_site, store).', ['endpoint', 'reason']),
    payloadRefused: registry.counter('ecs_trace_receiver_payload_refused_total', 'Payloads refused under load (no decoder within the decoder timeout).', ['endpoint']),
    tracesDropped: registry.counter('ecs_trace_normalizer_traces_dropped_total', 'Trace chunks dropped by normalization, by reason.', ['reason', 'lang', 'tracer_version']),
    spansMalformed: registry.counter('ecs_trace_normalizer_spans_malformed_total', 'Spans fixed by normalization, by reason.', ['reason', 'lang', 'tracer_version']),
    statsPayloads: registry.counter('ecs_trace_receiver_stats_payloads_total', 'Client stats payloads (/v0.6/stats) accepted.', ['lang', 'tracer_version']),
    statsGroupsSkipped: registry.counter('ecs_trace_receiver_stats_groups_skipped_total', 'Client stats groups that could not be used (no service or name, bad sketch, counts or times out of range).', ['lang']),
    spansStored: registry.counter('ecs_trace_store_spans_written_total', 'Spans written to the store.'),
    spoolBytes: registry.gauge('ecs_trace_store_spool_bytes', 'Bytes acknowledged and waiting in the local spool to be shipped to the shared store.'),
    spoolDropped: registry.counter('ecs_trace_store_spool_dropped_total', 'Spooled payloads dropped because the spool passed its bound while the store was unreachable.'),
    spoolErrors: registry.counter('ecs_trace_store_spool_ship_errors_total', 'Attempts to ship a spooled payload that failed (they are retried).'),
    retentionDeleted: registry.counter('ecs_trace_store_retention_deleted_spans_total', 'Spans deleted by retention, by reason (age, size).', ['reason']),
    queueDepth: registry.gauge('ecs_trace_receiver_queue_depth', 'Payloads waiting for a decoder.'),
    inFlight: registry.gauge('ecs_trace_receiver_decoders_busy', 'Decoders busy decoding or storing a payload.'),
    tracesFiltered: registry.counter('ecs_trace_filter_traces_total', 'Trace chunks dropped by DD_APM_IGNORE_RESOURCES or DD_APM_FILTER_TAGS_*, by reason.', ['reason']),
    sampled: registry.counter('ecs_trace_sampler_traces_total', 'Trace chunks kept or dropped by sampling, by reason (priority, user_keep, rare, no_priority, errors, single_span: its span-sampled spans only; user_reject, priority_drop, no_priority_drop).', ['decision', 'reason']),
    sqlNonParsable: registry.counter('ecs_trace_obfuscation_sql_non_parsable_total', 'SQL queries the obfuscator could not tokenize, stored as "Non-parsable SQL query" (as the Datadog Agent does).'),
    forwardEnabled: registry.gauge('ecs_trace_forward_enabled', 'Destinations kept traces are forwarded to (1): datadog, otlp.', ['destination']),
    forwardPayloads: registry.counter('ecs_trace_forward_payloads_total', 'Payloads forwarded, by kind (traces, stats and telemetry to Datadog, otlp_traces to the OTLP export) and outcome (sent, retried, rejected, dropped: the queue was full).', ['kind', 'outcome']),
    forwardQueueBytes: registry.gauge('ecs_trace_forward_queue_bytes', 'Compressed bytes waiting to be forwarded, by destination (datadog, otlp).', ['destination']),
    otlpIntakes: registry.gauge('ecs_trace_receiver_otlp_listening', 'OTLP intakes listening (1), by protocol (http, grpc).', ['protocol']),
    ecsTasks: registry.gauge('ecs_trace_ecs_tasks_known', 'Running tasks the ECS agent lists on this host (for span tags).'),
    ecsLookups: registry.counter('ecs_trace_ecs_tag_lookups_total', 'Payloads with a container id, by whether its ECS task was known (hit) or not (miss).', ['result']),
    ecsRefreshErrors: registry.counter('ecs_trace_ecs_refresh_errors_total', 'Failed calls to the ECS agent introspection API.'),
    diskBytes: registry.gauge('ecs_trace_store_disk_bytes', 'Bytes the embedded store uses on disk.'),
  };
}

export type AgentMetrics = ReturnType<typeof agentMetrics>;
