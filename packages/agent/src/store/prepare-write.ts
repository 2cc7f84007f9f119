import { findRoot, type Span } from '@ecs-trace/protocol';
import type { WriteBatch } from './contract.js';
import { chunkEnv } from './records.js';
import { segmentOf } from './batch-segment.js';
import { rollupsOf, type Half, type RollupRow } from './trace-rollup.js';
import { buildTagFilters, type PayloadTagFilters } from './tag-filter.js';

/*
 * Turns a batch into the rows the store writes: plain values only, so the result can be handed
 * to a writer thread as is. Encoding happens here, outside the writer's transaction.
 */

export interface ChunkRow {
  traceId: bigint;
  traceIdHigh: string;
  offset: number;
  start: bigint;
  end: bigint;
  rootSpanId: bigint | null;
  /** The chunk's root as the agent picks it; a real root only when rootSpanId is set. */
  rootService: string;
  rootName: string;
  rootResource: string;
  env: string;
  spanCount: number;
  errorCount: number;
  services: string;
}

export interface IndexRow {
  service: string;
  env: string;
  name: string;
  resource: string;
  type: string;
  start: bigint;
  duration: number;
  error: number;
  traceId: bigint;
}

export interface PreparedWrite {
  blob: Buffer;
  received: bigint;
  maxEnd: bigint;
  lang: string;
  tracerVersion: string;
  containerId: string;
  hostname: string;
  chunks: ChunkRow[];
  index: IndexRow[];
  spans: number;
  /** The service map's and error tracking's rows (store/trace-rollup.ts), and calls' halves. */
  rollups: RollupRow[];
  halves: Half[];
  /** The tag index's filters (tag-filter.ts). */
  tags: PayloadTagFilters;
}

/** Whether trace search indexes a span: a service entry (top-level), an error, or its chunk's root, as Datadog's trace search does. */
export const indexedSpan = (s: Span, root: Span): boolean => s.metrics['_top_level'] === 1 || s.error !== 0 || s === root;

/** A chunk's summary row (prepareWrite's, without its offset in the payload's segment): what every backend keeps of a chunk. */
export function chunkRowOf(chunk: readonly Span[], root: Span, env: string): Omit<ChunkRow, 'offset'> {
  let tid = '';
  let start = chunk[0]!.start;
  let end = 0n;
  let errors = 0;
  const services = new Set<string>();
  for (const s of chunk) {
    if (tid === '' && s.meta['_dd.p.tid'] !== undefined) tid = s.meta['_dd.p.tid'];
    const e = s.start + BigInt(s.duration);
    if (s.start < start) start = s.start;
    if (e > end) end = e;
    if (s.error !== 0) errors++;
    services.add(s.service);
  }
  const isRoot = root.parentId === 0n;
  return {
    traceId: BigInt.asIntN(64, chunk[0]!.traceId), traceIdHigh: /^[0-9a-f]{16}$/.test(tid) ? tid : '', start, end,
    rootSpanId: isRoot ? BigInt.asIntN(64, root.spanId) : null,
    rootService: root.service,
    rootName: root.name,
    rootResource: root.resource,
    env, spanCount: chunk.length, errorCount: errors, services: [...services].join(','),
  };
}

export function prepareWrite(batch: WriteBatch): PreparedWrite {
  const chunks = batch.chunks.filter((c) => c.length > 0);
  const { blob, offsets } = segmentOf(batch);
  const rows: ChunkRow[] = [];
  const index: IndexRow[] = [];
  let maxEnd = 0n;
  let spans = 0;
  chunks.forEach((chunk, i) => {
    const root = findRoot(chunk);
    // A span without env belongs to its chunk's env.
    const env = chunkEnv(chunk, root, batch.env);
    const row = chunkRowOf(chunk, root, env);
    const { traceId, end } = row;
    rows.push({ ...row, offset: offsets[i]! });
    // Search indexes service entry spans (top-level) and error spans, as Datadog's trace search does.
    for (const s of chunk) {
      if (indexedSpan(s, root)) {
        index.push({
          service: s.service, env: s.meta['env'] || env, name: s.name, resource: s.resource, type: s.type,
          start: s.start, duration: s.duration, error: s.error !== 0 ? 1 : 0, traceId,
        });
      }
    }
    if (end > maxEnd) maxEnd = end;
    spans += chunk.length;
  });
  return {
    blob, received: batch.receivedAt, maxEnd, lang: batch.lang, tracerVersion: batch.tracerVersion,
    containerId: batch.containerId, hostname: batch.hostname, chunks: rows, index, spans, tags: buildTagFilters(chunks),
    ...renameRows(countedRollups(batch)),
  };
}

/** The batch's stored chunks counted (those the pipeline did not count itself), and what it counted of the rest. */
function countedRollups(batch: WriteBatch): { rows: RollupRow[]; halves: Half[] } {
  const own = rollupsOf(batch.counted === undefined ? batch : { ...batch, chunks: batch.chunks.slice(0, batch.counted) }, batch.receivedAt);
  if (batch.sampledOut === undefined) return own;
  return { rows: [...own.rows, ...batch.sampledOut.rows], halves: [...own.halves, ...batch.sampledOut.halves] };
}

const renameRows = ({ rows, halves }: { rows: RollupRow[]; halves: Half[] }) => ({ rollups: rows, halves });
