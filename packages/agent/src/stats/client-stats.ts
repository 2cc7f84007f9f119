import type { DDSketch } from '@datadog/sketches-js';
import type { ClientStatsPayload } from '@ecs-trace/protocol';
import { decodeSketch, newSketch, type StatsRow } from '../store/index.js';

/*
 * Stats a tracer computed itself (/v0.6/stats, trace-agent spec 8.3), as rows beside the agent's
 * own. Groups that do not make sense are skipped, never guessed; the count of skipped groups is
 * returned for /metrics.
 */

/** An absent or empty sketch is an empty one; bytes that are not a DDSketch make the group unusable. */
function sketch(v: Uint8Array | undefined): DDSketch | undefined {
  if (v === undefined) return undefined;
  if (v.length === 0) return newSketch();
  try {
    // In the agent's mapping: a tracer's sketch could not be merged with the agent's own.
    return decodeSketch(v);
  } catch {
    return undefined;
  }
}

const MAX_INT64 = (1n << 63n) - 1n;
/** Counts and sums must be finite and at least 0: NaN or a negative hit count is not a measurement. */
const count = (v: number): boolean => Number.isFinite(v) && v >= 0;

export interface ClientStatsResult {
  rows: StatsRow[];
  skipped: number;
}

export function clientStatsRows(payload: ClientStatsPayload, defaultEnv: string): ClientStatsResult {
  const rows: StatsRow[] = [];
  let skipped = 0;
  const env = payload.env || defaultEnv;
  const version = payload.version;
  for (const bucket of payload.stats) {
    const { start, duration } = bucket;
    // Bucket times must be int64 (a uint64 start overflows every store) and the bucket must end.
    if (start === undefined || duration === undefined || duration <= 0n || start < 0n || start > MAX_INT64 || duration > MAX_INT64 - start) {
      skipped += bucket.stats.length;
      continue;
    }
    for (const g of bucket.stats) {
      const ok = sketch(g.okSummary);
      const err = sketch(g.errorSummary);
      const numbersOk = count(g.hits) && count(g.topLevelHits) && count(g.errors) && count(g.duration) && Number.isInteger(g.httpStatusCode);
      if (!ok || !err || g.name === '' || g.service === '' || !numbersOk) {
        skipped++;
        continue;
      }
      rows.push({
        start, durationNs: duration, service: g.service, name: g.name, resource: g.resource || g.name, type: g.type,
        env, version, httpStatusCode: g.httpStatusCode, spanKind: g.spanKind.toLowerCase(),
        isTraceRoot: g.isTraceRoot === 1, synthetics: g.synthetics, peerTags: [...g.peerTags].sort(),
        hits: g.hits, topLevelHits: g.topLevelHits, errors: g.errors, totalDuration: g.duration,
        okSketch: ok, errorSketch: err, source: 'client',
      });
    }
  }
  return { rows, skipped };
}
