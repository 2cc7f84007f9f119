import type { FastifyInstance, FastifyReply } from 'fastify';
import { MonitorDefinitionError, parseMonitor, type Monitor, type MonitorStatus, type SendResult } from '../monitors/index.js';
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
  /** Keeps (null: deletes) a monitor made in the UI or the API, for every replica. */
  save?(id: string, m: Monitor | null): Promise<void>;
  /** The channels a monitor may notify (the file's). */
  channels(): string[];
  /** The monitors file, if one is set. */
  file: string | undefined;
}

const MAX_MUTE_MS = 30 * 86_400_000;

const toApi = (s: MonitorStatus): ApiMonitor => ({
  id: s.monitor.id, source: s.source, name: s.monitor.name, service: s.monitor.service, env: s.monitor.env ?? null, version: s.monitor.version ?? null,
  resource: s.monitor.resource ?? null, operation: s.monitor.operation ?? null, metric: s.monitor.metric, windowMs: s.monitor.windowMs,
  comparison: s.monitor.comparison, compareToMs: s.monitor.compareToMs ?? null, apdexTMs: s.monitor.apdexTMs ?? null, warning: s.monitor.warning ?? null, critical: s.monitor.critical, recovery: s.monitor.recovery ?? null,
  minRequests: s.monitor.minRequests, noData: s.monitor.noData, notify: s.monitor.notify,
  state: s.state ?? null, value: s.value ?? null, requests: s.requests, since: s.since, evaluatedAt: s.evaluatedAt ?? null, ...(s.problem ? { problem: s.problem } : {}), ...(s.elsewhere ? { elsewhere: true } : {}), ...(s.mutedUntil !== undefined ? { mutedUntil: s.mutedUntil } : {}),
  history: s.history.map((e) => ({ at: e.at, from: e.from ?? null, to: e.to, value: e.value ?? null, threshold: e.threshold ?? null, notified: e.notified, ...(e.muted ? { muted: true } : {}), sent: e.sent.map((r) => ({ channel: r.channel, ok: r.ok, attempts: r.attempts, ...(r.error ? { error: r.error } : {}) })) })),
});

export function serveMonitors(app: FastifyInstance, monitors: MonitorsSource | undefined): void {
  app.get<{ Querystring: { service?: string } }>('/api/v1/monitors', { schema: { querystring: { type: 'object', properties: { service: { type: 'string' } }, additionalProperties: false } } }, async (req): Promise<ApiMonitors> => {
    if (!monitors) return { configured: false, monitors: [], channels: [], editable: false };
    const all = monitors.statuses().filter((s) => !req.query.service || s.monitor.service === req.query.service);
    return { configured: monitors.file !== undefined, ...(monitors.file ? { file: monitors.file } : {}), monitors: all.map(toApi), channels: monitors.channels(), editable: monitors.save !== undefined };
  });

  // Monitors made in the UI or the API: checked as the file's are (400 naming the field); the
  // file's own are read-only here (409: change them in the file).
  const save = async (id: string | undefined, body: unknown, reply: FastifyReply, creating: boolean) => {
    if (!monitors?.save) return reply.code(404).send({ error: monitors ? 'this store keeps no monitors' : 'monitors are off here' });
    let m: Monitor;
    try {
      m = parseMonitor(body, monitors.channels());
    } catch (err) {
      if (err instanceof MonitorDefinitionError) throw new QueryError(err.message);
      throw err;
    }
    if (id !== undefined && m.id !== id) throw new QueryError(`monitor.id: "${m.id}" is not the monitor of this address ("${id.slice(0, 64)}")`);
    const have = monitors.statuses().find((s) => s.monitor.id === m.id);
    if (have?.source === 'file') return reply.code(409).send({ error: `monitor.id: "${m.id}" is a monitor of the monitors file: change it there` });
    if (creating && have) return reply.code(409).send({ error: `monitor.id: "${m.id}" is taken: PUT /api/v1/monitors/${m.id} changes it` });
    if (!creating && !have) return reply.code(404).send({ error: `no monitor "${m.id}"` });
    await monitors.save(m.id, m);
    const saved = monitors.statuses().find((s) => s.monitor.id === m.id);
    return reply.code(creating ? 201 : 200).send(saved ? toApi(saved) : { id: m.id });
  };
  app.post<{ Body: unknown }>('/api/v1/monitors', async (req, reply) => save(undefined, req.body, reply, true));
  app.put<{ Params: { id: string }; Body: unknown }>('/api/v1/monitors/:id', async (req, reply) => save(req.params.id, req.body, reply, false));
  app.delete<{ Params: { id: string } }>('/api/v1/monitors/:id', async (req, reply) => {
    const have = monitors?.statuses().find((s) => s.monitor.id === req.params.id);
    if (!have || !monitors?.save) return reply.code(404).send({ error: `no monitor ${JSON.stringify(req.params.id.slice(0, 64))}` });
    if (have.source === 'file') return reply.code(409).send({ error: `"${have.monitor.id}" is a monitor of the monitors file: remove it there` });
    await monitors.save(have.monitor.id, null);
    return reply.code(204).send();
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
