import { encodeOtlpFromDatadog, type DatadogTracerPayload, type TraceIdHighCache } from '@ecs-trace/protocol';
import { decodeSegmentChunk, readDictionary, segmentOf, type WriteBatch } from '../store/index.js';
import { encodeAgentPayload, type AgentPayloadInfo } from './agent-payload.js';

/*
 * What an outlet hands its encoding thread: each kept batch as the store's segment blob (already
 * encoded for the store, so the intake thread only copies bytes) with the payload's own fields.
 * The thread decodes the spans back and writes the destination's format.
 */

export interface PackedBatch {
  env: string;
  hostname: string;
  containerId: string;
  lang: string;
  tracerVersion: string;
  /** A segment blob (store/segment-codec.ts) in its own ArrayBuffer, so it can be transferred. */
  blob: Uint8Array;
  offsets: number[];
  spans: number;
}

export type EncodeJob =
  | { format: 'datadog'; info: AgentPayloadInfo; batches: PackedBatch[] }
  | { format: 'otlp'; batches: PackedBatch[] };

export function packBatch(batch: WriteBatch): PackedBatch {
  const { blob, offsets } = segmentOf(batch);
  let spans = 0;
  for (const c of batch.chunks) spans += c.length;
  // A copy: the store's blob may share its ArrayBuffer with Node's buffer pool.
  return {
    env: batch.env, hostname: batch.hostname, containerId: batch.containerId, lang: batch.lang, tracerVersion: batch.tracerVersion,
    blob: new Uint8Array(blob), offsets, spans,
  };
}

export function unpackBatch(p: PackedBatch): DatadogTracerPayload {
  const blob = Buffer.from(p.blob.buffer, p.blob.byteOffset, p.blob.byteLength);
  const dict = readDictionary(blob);
  return {
    env: p.env, hostname: p.hostname, containerId: p.containerId, lang: p.lang, tracerVersion: p.tracerVersion,
    chunks: p.offsets.map((o) => decodeSegmentChunk(blob, dict, o)),
  };
}

/** The job's body, uncompressed. `highs` carries 128-bit trace ids from one OTLP job to the next. */
export function encodeJob(job: EncodeJob, highs: TraceIdHighCache): Buffer {
  const payloads = job.batches.map(unpackBatch);
  return job.format === 'datadog' ? encodeAgentPayload(job.info, payloads) : encodeOtlpFromDatadog(payloads, highs);
}
