/** The agent's query API, typed as the UI reads it. */

export interface ServiceSummary { service: string; env: string; type: string; hits: number; errors: number; lastSeen: string }
export interface StatsValues { hits: number; errors: number; avgDuration: number; totalDuration: number; p50: number | null; p75: number | null; p95: number | null; p99: number | null; max: number | null }
export interface StatsPoint extends StatsValues { time: string }
export interface StatsGroup extends StatsValues { key: string; versions: string[] }
export interface TraceSummary { traceId: string; rootService: string; rootName: string; rootResource: string; start: string; duration: number; spanCount: number; errorCount: number; services: string[]; env: string; incomplete: boolean }
export interface Span {
  traceId: string; spanId: string; parentId: string; service: string; name: string; resource: string; type: string; env: string;
  start: string; duration: number; error: number; meta: Record<string, string>; metrics: Record<string, number>;
  spanLinks?: unknown[]; spanEvents?: { name: string; timeUnixNano: string; attributes?: Record<string, unknown> }[];
}
export interface Trace { summary: TraceSummary; spans: Span[] }
export interface LiveChunk { traceId: string; service: string; name: string; resource: string; start: string; duration: number; error: boolean; spans: number; env: string; task?: string; container?: string }

export class ApiError extends Error {}

async function get<T>(path: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
  const qs = Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
  const res = await fetch(qs ? `${path}?${qs}` : path);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new ApiError(body.error ?? `${path}: HTTP ${res.status}`);
  return body;
}

export type Range = { start: number; end: number };

export const api = {
  services: (r: Range) => get<{ services: ServiceSummary[] }>('/api/v1/services', r).then((b) => b.services),
  statsGroups: (r: Range, groupBy: string, filter: Record<string, string | boolean | undefined> = {}) =>
    get<{ groups: StatsGroup[] }>('/api/v1/stats', { ...r, groupBy, ...filter }).then((b) => b.groups),
  statsSeries: (r: Range, filter: Record<string, string | boolean | undefined> = {}) =>
    get<{ step: number; points: StatsPoint[] }>('/api/v1/stats', { ...r, ...filter }),
  traces: (params: Record<string, string | number | boolean | undefined>) => get<{ traces: TraceSummary[] }>('/api/v1/traces', params).then((b) => b.traces),
  trace: (id: string) => get<Trace>(`/api/v1/traces/${id}`),
};
