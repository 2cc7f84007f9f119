/** The agent's query API, typed as the UI reads it. */

import type {
  ApiErrorGroup, ApiErrors, ApiLiveChunk, ApiServiceMap, ApiService, ApiServices, ApiSpan, ApiStatsGroup, ApiStatsGroups, ApiStatsPoint, ApiStatsSeries, ApiTrace, ApiTraces, ApiSuggestions, ApiAnalytics, ApiFacets,
  ApiTraceSummary, ApiMonitor, ApiMonitors, ApiMonitorTest, ApiInstances, ApiDependencies, ApiUiConfig, ApiRemoteConfig, ApiTracingSettings,
} from '@ecs-trace/agent/api-types';

// The agent declares its answers once; the pages use these names for them.
export type ServiceSummary = ApiService;
export type StatsPoint = ApiStatsPoint;
export type StatsGroup = ApiStatsGroup;
export type TraceSummary = ApiTraceSummary;
export type Span = ApiSpan;
export type Trace = ApiTrace;
export type LiveChunk = ApiLiveChunk;
export type ErrorGroup = ApiErrorGroup;
export type SearchPage = ApiTraces;
export type Suggestions = ApiSuggestions;
export type Analytics = ApiAnalytics;
export type Facets = ApiFacets;
export type Monitor = ApiMonitor;
/** An error group's statuses, as the API takes them (ApiErrorGroup['status']). */
export const ERROR_STATUSES: readonly ApiErrorGroup['status'][] = ['open', 'resolved', 'ignored'];

export class ApiError extends Error {}

async function get<T>(path: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
  const qs = Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
  const res = await fetch(qs ? `${path}?${qs}` : path);
  // An answer that is not JSON, or JSON without a message, still says what failed.
  if (res.status === 401) {
    // The agent asks for its token: the app shows the sign-in form.
    dispatchEvent(new Event('ecs-trace:signin'));
    throw new ApiError('sign in to see traces');
  }
  let body: (T & { error?: string }) | undefined;
  try {
    body = (await res.json()) as T & { error?: string };
  } catch {
    body = undefined;
  }
  if (!res.ok) throw new ApiError(body?.error ? `${body.error} (HTTP ${res.status})` : `${path}: the agent answered HTTP ${res.status} ${res.statusText}`.trim());
  if (body === undefined) throw new ApiError(`${path}: the agent's answer is not JSON`);
  return body;
}

export type Range = { start: number; end: number };

/**
 * Sends the token; the agent answers with a session in an HttpOnly cookie. Resolves undefined
 * when signed in, else what to tell the person (a wrong token, or too many tries for now).
 */
export async function signIn(token: string): Promise<string | undefined> {
  const res = await fetch('/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
  if (res.ok) return undefined;
  if (res.status === 429) return `Too many tries: wait ${res.headers.get('Retry-After') ?? 'a minute'} s and sign in again.`;
  return 'That is not the token of this agent.';
}

export const api = {
  services: (r: Range) => get<ApiServices>('/api/v1/services', r).then((b) => b.services),
  statsGroups: (r: Range, groupBy: string, filter: Record<string, string | boolean | undefined> = {}) =>
    get<ApiStatsGroups>('/api/v1/stats', { ...r, groupBy, ...filter }).then((b) => b.groups),
  statsSeries: (r: Range, filter: Record<string, string | boolean | undefined> = {}) =>
    get<ApiStatsSeries>('/api/v1/stats', { ...r, ...filter }),
  traces: (params: Record<string, string | number | boolean | undefined>) => get<ApiTraces>('/api/v1/traces', params).then((b) => b.traces),
  /** A page of a search: complete, or how far back it searched and a cursor to go on. */
  search: (params: Record<string, string | number | boolean | undefined>) => get<ApiTraces>('/api/v1/traces', params),
  facets: (params: Record<string, string | number | boolean | undefined>) => get<ApiFacets>('/api/v1/facets', params),
  analytics: (params: Record<string, string | number | boolean | undefined>) => get<ApiAnalytics>('/api/v1/analytics', params),
  suggest: (params: Record<string, string | number | boolean | undefined>) => get<ApiSuggestions>('/api/v1/search/suggest', params),
  trace: (id: string) => get<ApiTrace>(`/api/v1/traces/${id}`),
  errors: (r: Range, filter: { env?: string | undefined; status?: string | undefined; service?: string | undefined; version?: string | undefined } = {}) => get<ApiErrors>('/api/v1/errors', { ...r, ...filter }),
  setErrorStatus: async (group: string, status: string): Promise<void> => {
    const res = await fetch(`/api/v1/errors/${group}/status`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ status }) });
    if (res.status === 401) dispatchEvent(new Event('ecs-trace:signin'));
    if (!res.ok) {
      const body = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
      throw new ApiError(body?.error ? `${body.error} (HTTP ${res.status})` : `the agent answered HTTP ${res.status}`);
    }
  },
  serviceMap: (r: Range, env?: string) => get<ApiServiceMap>('/api/v1/service-map', { ...r, env }),
  monitors: (service?: string) => get<ApiMonitors>('/api/v1/monitors', { service }),
  uiConfig: () => get<ApiUiConfig>('/api/v1/ui-config'),
  dependencies: (name: string, version: string) => get<ApiDependencies>('/api/v1/dependencies', { name: name || undefined, version: version || undefined }),
  instances: (service: string, env?: string) => get<ApiInstances>(`/api/v1/services/${encodeURIComponent(service)}/instances`, { env }),
  /** Makes (or, with `id`, changes) a monitor, in the monitors file's shape; the agent's error names the field. */
  saveMonitor: async (body: Record<string, unknown>, id?: string): Promise<void> => {
    const res = await fetch(id ? `/api/v1/monitors/${encodeURIComponent(id)}` : '/api/v1/monitors', { method: id ? 'PUT' : 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status === 401) dispatchEvent(new Event('ecs-trace:signin'));
    if (!res.ok) {
      const b = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
      throw new ApiError(b?.error ?? `the agent answered HTTP ${res.status}`);
    }
  },
  deleteMonitor: async (id: string): Promise<void> => {
    const res = await fetch(`/api/v1/monitors/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.status === 401) dispatchEvent(new Event('ecs-trace:signin'));
    if (!res.ok) {
      const b = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
      throw new ApiError(b?.error ?? `the agent answered HTTP ${res.status}`);
    }
  },
  /** Mutes a monitor until `until` (ms; null: unmutes), for every replica. */
  muteMonitor: async (id: string, until: number | null): Promise<void> => {
    const res = await fetch(`/api/v1/monitors/${encodeURIComponent(id)}/mute`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ until }) });
    if (res.status === 401) dispatchEvent(new Event('ecs-trace:signin'));
    if (!res.ok) {
      const body = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
      throw new ApiError(body?.error ? `${body.error} (HTTP ${res.status})` : `the agent answered HTTP ${res.status}`);
    }
  },
  remoteConfig: (service: string) => get<ApiRemoteConfig>('/api/v1/remote-config', { service }),
  /** Sets a service's tracer settings for an env (or `*`); the agent's error names the field. */
  saveTracerSettings: async (body: Record<string, unknown>): Promise<ApiTracingSettings> => {
    const res = await fetch('/api/v1/remote-config', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status === 401) dispatchEvent(new Event('ecs-trace:signin'));
    const b = (await res.json().catch(() => undefined)) as (ApiTracingSettings & { error?: string }) | undefined;
    if (!res.ok || !b) throw new ApiError(b?.error ?? `the agent answered HTTP ${res.status}`);
    return b;
  },
  removeTracerSettings: async (id: string): Promise<void> => {
    const res = await fetch(`/api/v1/remote-config/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.status === 401) dispatchEvent(new Event('ecs-trace:signin'));
    if (!res.ok) {
      const b = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
      throw new ApiError(b?.error ?? `the agent answered HTTP ${res.status}`);
    }
  },
  /** A test notification of a monitor to each of its channels: how each took it. */
  testMonitor: async (id: string): Promise<ApiMonitorTest> => {
    const res = await fetch(`/api/v1/monitors/${encodeURIComponent(id)}/test`, { method: 'POST' });
    if (res.status === 401) dispatchEvent(new Event('ecs-trace:signin'));
    const body = (await res.json().catch(() => undefined)) as (ApiMonitorTest & { error?: string }) | undefined;
    if (!res.ok || !body) throw new ApiError(body?.error ? `${body.error} (HTTP ${res.status})` : `the agent answered HTTP ${res.status}`);
    return body;
  },
};
