import { decodeSketch } from './sketch-codec.js';
import { addServiceStats, serviceStatsKey, type ServiceStatsRow, type StatsRow, type WithEncodedSketches } from './records.js';

/*
 * The services list's rollup, the same for every backend: the top-level stats of each service,
 * env, operation and version summed, as stats are written, into slots of an hour, of 10 minutes
 * and of a minute. A range is read as whole hours, then whole 10-minute and 1-minute slots at its
 * ends, then the 10-s rows left over (at most 2 x 50 s of them), so answers are exact for any
 * range while a day of a service is about 40 rows instead of 8,640 buckets x its groups
 * (bench/ui-api.bench.js). Each backend keeps the slots in a table of its own.
 */

const S = 1_000_000_000n;
/** Slot widths, widest first. */
export const SLOT_WIDTHS = [3600n * S, 600n * S, 60n * S] as const;

const ceilTo = (t: bigint, w: bigint) => (t % w === 0n ? t : t - (((t % w) + w) % w) + w);
const floorTo = (t: bigint, w: bigint) => t - (((t % w) + w) % w);

/** [start, end) as whole slots of each width, and what is left for the 10-s rows. */
export function coverRange(start: bigint, end: bigint, widths: readonly bigint[] = SLOT_WIDTHS): { slots: { width: bigint; from: bigint; to: bigint }[]; raw: [bigint, bigint][] } {
  const [w, ...rest] = widths;
  if (w === undefined || end <= start) return { slots: [], raw: end > start ? [[start, end]] : [] };
  const from = ceilTo(start, w);
  const to = floorTo(end, w);
  if (from >= to) return coverRange(start, end, rest);
  const left = coverRange(start, from, rest);
  const right = coverRange(to, end, rest);
  return { slots: [...left.slots, { width: w, from, to }, ...right.slots], raw: [...left.raw, ...right.raw] };
}

export interface SlotRow {
  width: bigint;
  slot: bigint;
  row: ServiceStatsRow;
}

/** New stats rows summed into their slots of every width (top-level groups only). */
export function foldIntoSlots(rows: readonly WithEncodedSketches<StatsRow>[]): SlotRow[] {
  const slots = new Map<string, SlotRow>();
  for (const r of rows) {
    if (!(r.topLevelHits > 0)) continue;
    for (const width of SLOT_WIDTHS) {
      const slot = floorTo(r.start, width);
      // Each width gets its own decoded sketches: merging mutates them.
      const row: ServiceStatsRow = {
        service: r.service, env: r.env, name: r.name, version: r.version, type: r.type, topLevelHits: r.topLevelHits, hits: r.hits,
        errors: r.errors, totalDuration: r.totalDuration, okSketch: decodeSketch(r.okSketch), errorSketch: decodeSketch(r.errorSketch),
        lastSeen: r.start + r.durationNs, firstSeen: r.start,
      };
      const k = `${width}\u0000${slot}\u0000${serviceStatsKey(r)}`;
      const have = slots.get(k);
      if (have) addServiceStats(have.row, row);
      else slots.set(k, { width, slot, row });
    }
  }
  return [...slots.values()];
}

/** The key a slot row is stored under (with the row's group). */
export function slotKey(s: { width: bigint; slot: bigint; row: Pick<ServiceStatsRow, 'service' | 'env' | 'name' | 'version'> }): string {
  return `${s.width}\u0000${s.slot}\u0000${serviceStatsKey(s.row)}`;
}
