import { DDSketch } from '@datadog/sketches-js';
import { newSketch, type StatsRow } from './concentrator.js';

/*
 * Stats a tracer computed itself (/v0.6/stats, trace-agent spec 8.3), as rows beside the agent's
 * own: the msgpack keys are the Go field names. Groups that do not make sense are skipped, never
 * guessed; the count of skipped groups is returned for /metrics.
 */

type Obj = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0);
const big = (v: unknown): bigint | undefined => (typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined);

function sketch(v: unknown): DDSketch | undefined {
  if (!(v instanceof Uint8Array) || v.length === 0) return v === undefined || (v instanceof Uint8Array && v.length === 0) ? newSketch() : undefined;
  try {
    return DDSketch.fromProto(v);
  } catch {
    return undefined;
  }
}

export interface ClientStatsResult {
  rows: StatsRow[];
  skipped: number;
}

export function clientStatsRows(payload: unknown, defaultEnv: string): ClientStatsResult {
  const rows: StatsRow[] = [];
  let skipped = 0;
  const p = (payload ?? {}) as Obj;
  const env = str(p['Env']) || defaultEnv;
  const version = str(p['Version']);
  const buckets = Array.isArray(p['Stats']) ? (p['Stats'] as unknown[]) : [];
  for (const b of buckets) {
    const bucket = (b ?? {}) as Obj;
    const start = big(bucket['Start']);
    const duration = big(bucket['Duration']);
    const groups = Array.isArray(bucket['Stats']) ? (bucket['Stats'] as unknown[]) : [];
    if (start === undefined || duration === undefined || duration <= 0n) {
      skipped += groups.length;
      continue;
    }
    for (const g of groups) {
      const o = (g ?? {}) as Obj;
      const ok = sketch(o['OkSummary']);
      const err = sketch(o['ErrorSummary']);
      const name = str(o['Name']);
      const service = str(o['Service']);
      if (!ok || !err || name === '' || service === '') {
        skipped++;
        continue;
      }
      rows.push({
        start, durationNs: duration, service, name, resource: str(o['Resource']) || name, type: str(o['Type']),
        env, version, httpStatusCode: num(o['HTTPStatusCode']), spanKind: str(o['SpanKind']).toLowerCase(),
        isTraceRoot: num(o['IsTraceRoot']) === 1, synthetics: o['Synthetics'] === true,
        peerTags: Array.isArray(o['PeerTags']) ? (o['PeerTags'] as unknown[]).filter((t): t is string => typeof t === 'string').sort() : [],
        hits: num(o['Hits']), topLevelHits: num(o['TopLevelHits']), errors: num(o['Errors']), totalDuration: num(o['Duration']),
        okSketch: ok, errorSketch: err, source: 'client',
      });
    }
  }
  return { rows, skipped };
}
