import type { ChunkRecord } from '../chunk-summary.js';
import type { ChunkRow } from '../prepare-write.js';

/*
 * A chunk row's names (its root's service, name and resource, its env and its services) are
 * kept once per payload, as a list of the distinct tuples its chunks have, and each chunk row
 * holds the index of its tuple: a payload's traces mostly share a handful of tuples, and binding
 * five strings cost a chunk row 40% of its insert (bench/README.md, "Stores"). The upper half of
 * a 128-bit trace id is kept as an integer for the same reason.
 */

export type NameTuple = [rootService: string, rootName: string, rootResource: string, env: string, services: string];

/** The payload's distinct tuples (as JSON, for its chunk_names row) and each chunk's index among them. */
export function packChunkNames(chunks: readonly ChunkRow[]): { names: string; refs: number[] } {
  const tuples: NameTuple[] = [];
  const refs: number[] = [];
  // A payload has a handful of tuples, whose strings are mostly the decoder's same instances:
  // comparing them is cheaper than building a key to hash; past 16 tuples, a map by key.
  let index: Map<string, number> | undefined;
  for (const c of chunks) {
    let i = -1;
    if (index === undefined) {
      for (let j = 0; j < tuples.length; j++) {
        const t = tuples[j]!;
        if (t[0] === c.rootService && t[1] === c.rootName && t[2] === c.rootResource && t[3] === c.env && t[4] === c.services) { i = j; break; }
      }
    } else i = index.get(keyOf(tupleOf(c))) ?? -1;
    if (i === -1) {
      const t = tupleOf(c);
      i = tuples.push(t) - 1;
      if (index !== undefined) index.set(keyOf(t), i);
      else if (tuples.length > 16) index = new Map(tuples.map((x, j) => [keyOf(x), j]));
    }
    refs.push(i);
  }
  return { names: JSON.stringify(tuples), refs };
}

const tupleOf = (c: ChunkRow): NameTuple => [c.rootService, c.rootName, c.rootResource, c.env, c.services];
const keyOf = (t: NameTuple): string => t.join('\u0000');

/** '' (no upper half) is 0; 16 hex digits are their value as a signed 64-bit integer. */
export function highToInt(high: string): bigint {
  if (high === '') return 0n;
  // Tracers take the upper half from the second a trace starts: runs of chunks share it.
  if (high !== lastHigh) {
    lastHigh = high;
    lastInt = BigInt.asIntN(64, BigInt('0x' + high));
  }
  return lastInt;
}
let lastHigh = '';
let lastInt = 0n;

export function intToHigh(v: bigint): string {
  return v === 0n ? '' : BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

export interface StoredChunk {
  trace_id: bigint;
  payload: bigint;
  offset: bigint;
  trace_id_high: bigint;
  start: bigint;
  end: bigint;
  root_span_id: bigint | null;
  span_count: bigint;
  error_count: bigint;
  names: bigint;
}

/** A stored chunk with its names looked up, as the summaries read it. */
export function chunkRecord(c: StoredChunk, names: readonly NameTuple[]): ChunkRecord {
  const t = names[Number(c.names)] ?? ['', '', '', '', ''];
  return {
    trace_id: c.trace_id, payload: c.payload, offset: c.offset, trace_id_high: intToHigh(c.trace_id_high),
    start: c.start, end: c.end, root_span_id: c.root_span_id,
    root_service: t[0], root_name: t[1], root_resource: t[2], env: t[3],
    span_count: c.span_count, error_count: c.error_count, services: t[4],
  };
}
