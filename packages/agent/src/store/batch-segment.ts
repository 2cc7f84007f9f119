import type { WriteBatch } from './contract.js';
import { decodeSegmentChunk, encodeSegment, readDictionary, type EncodedSegment } from './segment-codec.js';

/*
 * A batch's spans as the store keeps them (segment-codec.ts), encoded once on the intake thread,
 * and the batch packed around that blob for another thread: the store's writer thread and the
 * forwarding encoder take bytes (a copy and a transfer) instead of a structured clone of every
 * span, and decode them there.
 */

const segments = new WeakMap<WriteBatch, EncodedSegment>();

/** The batch's non-empty chunks as a segment, encoded at most once. */
export function segmentOf(batch: WriteBatch): EncodedSegment {
  let seg = segments.get(batch);
  if (seg === undefined) {
    seg = encodeSegment(batch.chunks.filter((c) => c.length > 0));
    segments.set(batch, seg);
  }
  return seg;
}

export interface PackedBatch {
  env: string;
  hostname: string;
  containerId: string;
  lang: string;
  tracerVersion: string;
  receivedAt: bigint;
  /** The segment blob in an ArrayBuffer of its own, so that it can be transferred. */
  blob: Uint8Array;
  offsets: number[];
  spans: number;
  sampledOut?: WriteBatch['sampledOut'];
  counted?: number;
}

export function packBatch(batch: WriteBatch): PackedBatch {
  const { blob, offsets } = segmentOf(batch);
  let spans = 0;
  for (const c of batch.chunks) spans += c.length;
  // A copy: the segment's Buffer may share its ArrayBuffer with Node's buffer pool.
  return {
    env: batch.env, hostname: batch.hostname, containerId: batch.containerId, lang: batch.lang, tracerVersion: batch.tracerVersion,
    receivedAt: batch.receivedAt, blob: new Uint8Array(blob), offsets, spans,
    ...(batch.sampledOut ? { sampledOut: batch.sampledOut } : {}), ...(batch.counted !== undefined ? { counted: batch.counted } : {}),
  };
}

/** The batch back, its spans decoded; its segment is the blob it came in (not encoded again). */
export function unpackBatch(p: PackedBatch): WriteBatch {
  const blob = Buffer.from(p.blob.buffer, p.blob.byteOffset, p.blob.byteLength);
  const dict = readDictionary(blob);
  const batch: WriteBatch = {
    env: p.env, hostname: p.hostname, containerId: p.containerId, lang: p.lang, tracerVersion: p.tracerVersion, receivedAt: p.receivedAt,
    chunks: p.offsets.map((o) => decodeSegmentChunk(blob, dict, o)),
    ...(p.sampledOut ? { sampledOut: p.sampledOut } : {}), ...(p.counted !== undefined ? { counted: p.counted } : {}),
  };
  segments.set(batch, { blob, offsets: p.offsets });
  return batch;
}
