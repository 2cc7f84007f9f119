import { mergeRollupData, type ErrorData, type ErrorStatusRecord } from '../store/index.js';
import type { ApiErrorGroup, ApiErrorVersion } from './api-types.js';

/*
 * Error tracking from the store's rollups (store/trace-rollup.ts): error spans grouped by a
 * fingerprint of their service, error type, message with its variable parts as `?` and the top
 * stack frames without line numbers, so one bug is one group however often and wherever it
 * happens. Counted over the whole range, every env merged unless one is asked for.
 */

/** Counts over time: the group's occurrences in each step from `first` (ns), `steps` of `width`. */
export interface SeriesRequest {
  rows: readonly { key: string; data: ErrorData; slot?: bigint }[];
  first: bigint;
  width: bigint;
  steps: number;
}

const groupId = (key: string) => key.slice(key.lastIndexOf('\u001f') + 1);

/** A group's status as people set it, and when (ns). */
export type StatusOf = ReadonlyMap<string, Pick<ErrorStatusRecord, 'status' | 'changedAt'>>;

/** What the error groups are narrowed to: a service, an env, a version of the service. */
export interface ErrorFilter {
  service?: string;
  env?: string;
  version?: string;
}

const meets = (data: ErrorData, filter: ErrorFilter): boolean =>
  (!filter.service || data.service === filter.service) && (!filter.env || data.env === filter.env) && (filter.version === undefined || data.version === filter.version);

export function errorGroupsOf(rows: readonly { key: string; data: ErrorData }[], filter: ErrorFilter, series?: SeriesRequest, statuses: StatusOf = new Map()): ApiErrorGroup[] {
  const counts = new Map<string, number[]>();
  if (series) {
    for (const { key, data, slot } of series.rows) {
      if (slot === undefined || !meets(data, filter)) continue;
      const i = Number((slot - series.first) / series.width);
      if (i < 0 || i >= series.steps) continue;
      const k = `${data.service}\u0000${groupId(key)}`;
      let list = counts.get(k);
      if (!list) counts.set(k, list = new Array<number>(series.steps).fill(0));
      list[i]! += data.count;
    }
  }
  const groups = new Map<string, { id: string; data: ErrorData; versions: Map<string | null, ApiErrorVersion> }>();
  for (const { key, data } of rows) {
    if (!meets(data, filter)) continue;
    const id = groupId(key);
    const k = `${data.service}\u0000${id}`;
    const have = groups.get(k);
    const versions = have?.versions ?? new Map<string | null, ApiErrorVersion>();
    groups.set(k, { id, data: have ? (mergeRollupData(have.data, data) as ErrorData) : data, versions });
    const version = data.version ?? null;
    const v = versions.get(version);
    if (v === undefined) versions.set(version, { version, count: data.count, firstSeen: data.firstSeen, lastSeen: data.lastSeen });
    else {
      v.count += data.count;
      v.firstSeen = Math.min(v.firstSeen, data.firstSeen);
      v.lastSeen = Math.max(v.lastSeen, data.lastSeen);
    }
  }
  return [...groups.values()].map(({ id, data: d, versions }) => ({
    id, service: d.service, resource: d.resource, errorType: d.errorType, message: d.message, count: d.count, firstSeen: d.firstSeen, lastSeen: d.lastSeen, sampleTraceIds: d.samples,
    versions: [...versions.values()].sort((a, b) => a.firstSeen - b.firstSeen),
    ...(series ? { series: { start: Number(series.first / 1_000_000n), step: Number(series.width / 1_000_000n), counts: counts.get(`${d.service}\u0000${id}`) ?? new Array<number>(series.steps).fill(0) } } : {}),
    ...statusOf(statuses.get(id), d.lastSeen),
  })).sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
}

/** A group's status: as set, but a resolved group seen after it was resolved is open again (a regression). */
function statusOf(set: Pick<ErrorStatusRecord, 'status' | 'changedAt'> | undefined, lastSeenMs: number): Pick<ApiErrorGroup, 'status' | 'regressed' | 'statusChangedAt'> {
  if (set === undefined) return { status: 'open' };
  const changedAt = Number(set.changedAt / 1_000_000n);
  if (set.status === 'resolved' && lastSeenMs > changedAt) return { status: 'open', regressed: true, statusChangedAt: changedAt };
  return { status: set.status, statusChangedAt: changedAt };
}
