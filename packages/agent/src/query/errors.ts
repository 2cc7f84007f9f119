import { mergeRollupData, type ErrorData } from '../store/index.js';
import type { ApiErrorGroup } from './api-types.js';

/*
 * Error tracking from the store's rollups (store/trace-rollup.ts): error spans grouped by a
 * fingerprint of their service, error type, message with its variable parts as `?` and the top
 * stack frames without line numbers, so one bug is one group however often and wherever it
 * happens. Counted over the whole range, every env merged unless one is asked for.
 */

export function errorGroupsOf(rows: readonly { key: string; data: ErrorData }[], filter: { service?: string; env?: string }): ApiErrorGroup[] {
  const groups = new Map<string, { id: string; data: ErrorData }>();
  for (const { key, data } of rows) {
    if (filter.service && data.service !== filter.service) continue;
    if (filter.env && data.env !== filter.env) continue;
    const id = key.slice(key.lastIndexOf('\u001f') + 1);
    const k = `${data.service}\u0000${id}`;
    const have = groups.get(k);
    groups.set(k, { id, data: have ? (mergeRollupData(have.data, data) as ErrorData) : data });
  }
  return [...groups.values()].map(({ id, data: d }) => ({
    id, service: d.service, resource: d.resource, errorType: d.errorType, message: d.message, count: d.count, firstSeen: d.firstSeen, lastSeen: d.lastSeen, sampleTraceIds: d.samples,
  })).sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen);
}
