// What the in-process benchmarks feed the agent's stages with: the pipeline over a store that
// discards, a decoded payload as intake hands it on, and a batch as the store receives it.
import { randomFillSync } from 'node:crypto';
import { decodeV04 } from '@ecs-trace/protocol';
import { createPipeline, agentMetrics, loadConfig, createLogger } from '@ecs-trace/agent';

/** The agent's whole pipeline (normalize, filter, obfuscate, stats, sample) over a store that discards. */
export function pipelineWithoutStore() {
  const discard = { write: async () => {}, writeStats: async () => {}, queryStats: async () => [] };
  return createPipeline(loadConfig({ env: {} }), { store: discard, metrics: agentMetrics(), log: createLogger('off'), env: {}, statsFlushIntervalMs: 0 }).pipeline;
}

/** A v0.4 body decoded with a new random id for each trace and its times moved to now, as real traffic comes. */
export function freshChunks(body) {
  const chunks = decodeV04(body);
  const shift = BigInt(Date.now()) * 1_000_000n - chunks[0][0].start;
  const ids = new BigUint64Array(chunks.length);
  randomFillSync(ids);
  chunks.forEach((c, i) => { for (const s of c) { s.traceId = ids[i]; s.start += shift; } });
  return chunks;
}

/** Chunks as the pipeline receives them from intake. */
export function payloadOf(chunks) {
  return { chunks, lang: 'nodejs', langVersion: '20', tracerVersion: '5.132.0', containerId: '', clientComputedStats: false, clientComputedTopLevel: false, clientDroppedP0Traces: 0, receivedAt: BigInt(Date.now()) * 1_000_000n };
}

/** Chunks as the store receives them from the pipeline. */
export function batchOf(chunks) {
  return { chunks, env: 'none', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: BigInt(Date.now()) * 1_000_000n };
}
