/*
 * The traces a search has listed, counted per slice of its time range (by each trace's start),
 * for the bars above the list: how the matches spread over the range, errors apart.
 */

export interface Buckets {
  startMs: number;
  widthMs: number;
  counts: number[];
  errors: number[];
}

export function bucketTraces(traces: readonly { start: string; errorCount: number }[], startMs: number, endMs: number, n = 30): Buckets {
  const widthMs = Math.max(1, (endMs - startMs) / n);
  const counts = new Array<number>(n).fill(0);
  const errors = new Array<number>(n).fill(0);
  for (const t of traces) {
    const ms = Number(BigInt(t.start) / 1_000_000n);
    // A trace that started before the range (its matching span is in it) counts in the first slice.
    const i = Math.min(n - 1, Math.max(0, Math.floor((ms - startMs) / widthMs)));
    counts[i]!++;
    if (t.errorCount > 0) errors[i]!++;
  }
  return { startMs, widthMs, counts, errors };
}
