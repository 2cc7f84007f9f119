import type { FastifyInstance } from 'fastify';
import { parseTracingSettings, TracingSettingsError, type RemoteConfig } from '../remote-config/index.js';
import type { ApiRemoteConfig, ApiTracingSettings } from './api-types.js';
import { QueryError } from './params.js';

/*
 * Remote configuration (remote-config/) as the API shows and changes it: the tracing settings
 * per service and env (sample rate, sampling rules, log injection) and the tracers polling for
 * them with what they applied. A change is kept by the store and reaches each tracer at its next
 * poll (5 s by default), every agent of a shared store within its refresh (5 s) more.
 */

export interface RemoteConfigSource {
  remoteConfig: RemoteConfig;
  /** This process answers tracers' polls. */
  served: boolean;
}

const toApi = (s: { id: string; version: number; settings: ApiTracingSettings | Omit<ApiTracingSettings, 'id' | 'version'> }): ApiTracingSettings => ({ ...s.settings, id: s.id, version: s.version });

export function serveRemoteConfig(app: FastifyInstance, source: RemoteConfigSource | undefined): void {
  app.get<{ Querystring: { service?: string } }>('/api/v1/remote-config', { schema: { querystring: { type: 'object', properties: { service: { type: 'string' } }, additionalProperties: false } } }, async (req): Promise<ApiRemoteConfig> => {
    if (!source) return { served: false, editable: false, revision: 0, settings: [], clients: [] };
    const service = req.query.service;
    const { revision, settings } = source.remoteConfig.list();
    return {
      served: source.served,
      editable: true,
      revision,
      settings: settings.filter((s) => service === undefined || s.settings.service === service).map(toApi),
      clients: source.remoteConfig.seenClients(service),
    };
  });

  // Sets a service's settings (for one env, or `*`), replacing what that service and env had.
  app.post<{ Body: unknown }>('/api/v1/remote-config', async (req, reply) => {
    if (!source) return reply.code(404).send({ error: 'this store keeps no remote configuration' });
    let settings;
    try {
      settings = parseTracingSettings(req.body);
    } catch (err) {
      if (err instanceof TracingSettingsError) throw new QueryError(err.message);
      throw err;
    }
    return toApi(await source.remoteConfig.save(settings));
  });

  app.delete<{ Params: { id: string } }>('/api/v1/remote-config/:id', async (req, reply) => {
    if (!source || !(await source.remoteConfig.remove(req.params.id))) return reply.code(404).send({ error: `no settings ${JSON.stringify(req.params.id.slice(0, 64))}` });
    return reply.code(204).send();
  });
}
