import { newSketch, type StatsRow } from '../store/index.js';

/*
 * RED metrics as CloudWatch Embedded Metric Format lines on the agent's log, opt-in
 * (ECS_TRACE_EMF_NAMESPACE): on ECS the awslogs driver sends the log to CloudWatch Logs, which
 * turns each line into metrics (and alarms on them) with no other service. One line per service
 * env and operation (the entry spans' name: web.request, ...) per stats flush (10 s): its requests
 * and errors (counts) and latency p50/p95/p99 (ms),
 * counted before sampling. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

export interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  Service: string;
  Environment: string;
  Operation: string;
  Requests: number;
  Errors: number;
  LatencyP50?: number;
  LatencyP95?: number;
  LatencyP99?: number;
}

/** The lines of a flush's stats rows (service entry spans only), timestamped at `atMs`. */
export function emfLines(rows: readonly StatsRow[], namespace: string, atMs: number): EmfLine[] {
  const by = new Map<string, { service: string; env: string; operation: string; requests: number; errors: number; sketch: ReturnType<typeof newSketch> }>();
  for (const r of rows) {
    if (!(r.topLevelHits > 0)) continue;
    const k = `${r.service}\u0000${r.env}\u0000${r.name}`;
    let a = by.get(k);
    if (!a) by.set(k, a = { service: r.service, env: r.env, operation: r.name, requests: 0, errors: 0, sketch: newSketch() });
    a.requests += r.hits;
    a.errors += r.errors;
    if (r.okSketch.count > 0) a.sketch.merge(r.okSketch);
    if (r.errorSketch.count > 0) a.sketch.merge(r.errorSketch);
  }
  return [...by.values()].map((a) => {
    const q = (x: number) => Math.round(a.sketch.getValueAtQuantile(x) / 1e3) / 1e3;
    const latency = a.sketch.count > 0;
    return {
      _aws: {
        Timestamp: atMs,
        CloudWatchMetrics: [{
          Namespace: namespace,
          Dimensions: [['Service', 'Environment', 'Operation'], ['Service', 'Operation']],
          Metrics: [{ Name: 'Requests', Unit: 'Count' }, { Name: 'Errors', Unit: 'Count' },
            ...(latency ? ['LatencyP50', 'LatencyP95', 'LatencyP99'].map((Name) => ({ Name, Unit: 'Milliseconds' })) : [])],
        }],
      },
      Service: a.service,
      Environment: a.env,
      Operation: a.operation,
      Requests: a.requests,
      Errors: a.errors,
      ...(latency ? { LatencyP50: q(0.5), LatencyP95: q(0.95), LatencyP99: q(0.99) } : {}),
    };
  });
}
