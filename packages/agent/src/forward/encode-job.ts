import { encodeOtlpFromDatadog, type TraceIdHighCache } from '@ecs-trace/protocol';
import { unpackBatch, type PackedBatch } from '../store/index.js';
import { encodeAgentPayload, type AgentPayloadInfo } from './agent-payload.js';

/*
 * What an outlet hands its encoding thread: kept batches packed around the store's segment blob
 * (store/batch-segment.ts: already encoded for the store, so the intake thread only copies bytes).
 * The thread decodes the spans back and writes the destination's format.
 */

export type EncodeJob =
  | { format: 'datadog'; info: AgentPayloadInfo; batches: PackedBatch[] }
  | { format: 'otlp'; batches: PackedBatch[] };

/** The job's body, uncompressed. `highs` carries 128-bit trace ids from one OTLP job to the next. */
export function encodeJob(job: EncodeJob, highs: TraceIdHighCache): Buffer {
  const payloads = job.batches.map(unpackBatch);
  return job.format === 'datadog' ? encodeAgentPayload(job.info, payloads) : encodeOtlpFromDatadog(payloads, highs);
}
