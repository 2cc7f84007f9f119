import type { TraceSummaryRecord } from './records.js';

/*
 * A trace's summary from its chunk rows, as every backend keeps them (prepare-write.ts makes
 * them): the root's names, the time span, counts and services, whether a root has arrived.
 */

/** A chunk row as a backend reads it back (column names; integers as bigint). */
export interface ChunkRecord {
  trace_id: bigint;
  payload: bigint;
  offset: bigint;
  trace_id_high: string;
  start: bigint;
  end: bigint;
  root_span_id: bigint | null;
  root_service: string;
  root_name: string;
  root_resource: string;
  env: string;
  span_count: bigint;
  error_count: bigint;
  services: string;
}

/** Chunk rows of several traces: each trace's summary, newest first. */
export function summarizeTraces(rows: ChunkRecord[]): TraceSummaryRecord[] {
  const byTrace = new Map<bigint, ChunkRecord[]>();
  for (const r of rows) {
    const list = byTrace.get(r.trace_id);
    if (list) list.push(r);
    else byTrace.set(r.trace_id, [r]);
  }
  return [...byTrace.values()].map(summarizeChunks).sort((a, b) => (b.start > a.start ? 1 : b.start < a.start ? -1 : 0));
}

/** Merges a trace's chunk rows (one per chunk stored) into its summary. */
export function summarizeChunks(rows: ChunkRecord[]): TraceSummaryRecord {
  let root = rows.find((r) => r.root_span_id !== null) ?? rows[0]!;
  if (root.root_span_id === null) root = rows.reduce((a, b) => (b.start < a.start ? b : a));
  let start = rows[0]!.start;
  let end = rows[0]!.end;
  let spans = 0;
  let errors = 0;
  let high = '';
  const services = new Set<string>();
  for (const r of rows) {
    if (r.start < start) start = r.start;
    if (r.end > end) end = r.end;
    spans += Number(r.span_count);
    errors += Number(r.error_count);
    if (high === '') high = r.trace_id_high;
    for (const s of r.services.split(',')) if (s) services.add(s);
  }
  return {
    traceId: { high: high === '' ? 0n : BigInt('0x' + high), low: BigInt.asUintN(64, rows[0]!.trace_id) },
    rootService: root.root_service,
    rootName: root.root_name,
    rootResource: root.root_resource,
    start,
    duration: Number(end - start),
    spanCount: spans,
    errorCount: errors,
    services: [...services],
    env: root.env,
    incomplete: !rows.some((r) => r.root_span_id !== null),
  };
}
