import type { FastifyInstance } from 'fastify';
import type { MonitorStatus, SendResult } from '../monitors/index.js';
import type { ApiMonitor, ApiMonitors, ApiMonitorTest } from './api-types.js';
import { QueryError } from './params.js';

/*
 * The monitors as the API shows them (GET /api/v1/monitors, ?service= for a service page's) and
 * a test send of one (POST /api/v1/monitors/{id}/test). They are read-only here: they come from
 * the monitors file, which is where they are changed.
 */

export interface MonitorsSource {
  statuses(): MonitorStatus[];
  test(id: string): Promise<SendResult[] | undefined>;
  /** Mutes (until ms; null: unmutes) a monitor for every replica; false for a monitor the file does not have. */
  mute?(id: string, untilMs: number | null): Promise<boolean>;
  file: string;
}

const MAX_MUTE_MS = 30 * 86_400_000;

const toApi = (s: MonitorStatus): ApiMonitor => ({
  id: s.monitor.id, name: s.monitor.name, service: s.monitor.service, env: s.monitor.env ?? null, version: s.monitor.version ?? null,
  resource: s.monitor.resource ?? null, operation: s.monitor.operation ?? null, metric: s.monitor.metric, windowMs: s.monitor.windowMs,
  comparison: s.monitor.comparison, warning: s.monitor.warning ?? null, critical: s.monitor.critical, recovery: s.monitor.recovery ?? null,
  minRequests: s.monitor.minRequests, noData: s.monitor.noData, notify: s.monitor.notify,
  state: s.state ?? null, value: s.value ?? null, requests: s.requests, since: s.since, evaluatedAt: s.evaluatedAt ?? null, ...(s.problem ? { problem: s.problem } : {}), ...(s.elsewhere ? { elsewhere: true } : {}), ...(s.mutedUntil !== undefined ? { mutedUntil: s.mutedUntil } : {}),
  history: s.history.map((e) => ({ at: e.at, from: e.from ?? null, to: e.to, value: e.value ?? null, threshold: e.threshold ?? null, notified: e.notified, ...(e.muted ? { muted: true } : {}), sent: e.sent.map((r) => ({ channel: r.channel, ok: r.ok, attempts: r.attempts, ...(r.error ? { error: r.error } : {}) })) })),
});

export function serveMonitors(app: FastifyInstance, monitors: MonitorsSource | undefined): void {
  app.get<{ Querystring: { service?: string } }>('/api/v1/monitors', { schema: { querystring: { type: 'object', properties: { service: { type: 'string' } }, additionalProperties: false } } }, async (req): Promise<ApiMonitors> => {
    if (!monitors) return { configured: false, monitors: [] };
    const all = monitors.statuses().filter((s) => !req.query.service || s.monitor.service === req.query.service);
    return { configured: true, file: monitors.file, monitors: all.map(toApi) };
  });
  // Muted for a time (its changes still recorded, nothing sent), for every replica of the store.
  app.put<{ Params: { id: string }; Body: { until?: unknown } }>('/api/v1/monitors/:id/mute', async (req, reply) => {
    const until = req.body?.until;
    const now = Date.now();
    if (until !== null && (typeof until !== 'number' || !Number.isInteger(until) || until <= now || until > now + MAX_MUTE_MS)) {
      throw new QueryError(`until: give a time (ms since the epoch) within the next 30 days, or null to unmute`);
    }
    if (!monitors?.mute) return reply.code(404).send({ error: `no monitor ${JSON.stringify(req.params.id.slice(0, 64))}${monitors ? ': this store keeps no mutes' : ': no monitors file (ECS_TRACE_MONITORS_FILE)'}` });
    if (!(await monitors.mute(req.params.id, until))) return reply.code(404).send({ error: `no monitor ${JSON.stringify(req.params.id.slice(0, 64))}` });
    return { id: req.params.id, mutedUntil: until };
  });

  app.post<{ Params: { id: string } }>('/api/v1/monitors/:id/test', async (req, reply): Promise<ApiMonitorTest> => {
    const results = await monitors?.test(req.params.id);
    if (results === undefined) return reply.code(404).send({ error: `no monitor ${JSON.stringify(req.params.id.slice(0, 64))}${monitors ? '' : ': no monitors file (ECS_TRACE_MONITORS_FILE)'}` });
    return { results };
  });
}
