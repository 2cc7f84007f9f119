import type { DatadogTracerPayload, Span } from '@ecs-trace/protocol';
import { ProtoWriter } from '@ecs-trace/protocol';

/*
 * The trace-agent's AgentPayload (datadog.trace, agent_payload.proto and span.proto): one
 * TracerPayload per written batch, its chunks with their priority and origin, the spans with
 * meta, metrics, meta_struct and span links. Field numbers from the spec's table.
 */

export interface AgentPayloadInfo {
  hostName: string;
  env: string;
  agentVersion: string;
  targetTPS: number;
  errorTPS: number;
  rareSamplerEnabled: boolean;
}

function writeSpan(w: ProtoWriter, s: Span): void {
  w.string(1, s.service);
  w.string(2, s.name);
  w.string(3, s.resource);
  w.varint(4, s.traceId);
  w.varint(5, s.spanId);
  w.varint(6, s.parentId);
  w.varint(7, s.start);
  w.varint(8, BigInt(s.duration));
  w.varint(9, s.error);
  for (const k in s.meta) w.stringEntry(10, k, s.meta[k]!);
  for (const k in s.metrics) w.doubleEntry(11, k, s.metrics[k]!);
  w.string(12, s.type);
  for (const [k, v] of Object.entries(s.metaStruct ?? {})) w.message(13, (e) => { e.string(1, k); e.bytes(2, v); });
  for (const l of s.spanLinks ?? []) {
    w.message(14, (lw) => {
      lw.varint(1, l.traceId);
      lw.varint(2, l.traceIdHigh);
      lw.varint(3, l.spanId);
      for (const [k, v] of Object.entries(l.attributes ?? {})) lw.message(4, (e) => { e.string(1, k); e.string(2, v); });
      lw.string(5, l.tracestate ?? '');
      lw.varint(6, l.flags ?? 0);
    });
  }
}

function chunkPriority(chunk: Span[]): number {
  for (const s of chunk) {
    const p = s.metrics['_sampling_priority_v1'];
    if (p !== undefined) return Math.trunc(p);
  }
  return 1;
}

export function encodeAgentPayload(info: AgentPayloadInfo, batches: DatadogTracerPayload[]): Buffer {
  const w = new ProtoWriter();
  w.string(1, info.hostName);
  w.string(2, info.env);
  for (const b of batches) {
    w.message(5, (tp) => {
      tp.string(1, b.containerId);
      tp.string(2, b.lang);
      tp.string(4, b.tracerVersion);
      for (const chunk of b.chunks) {
        tp.message(6, (c) => {
          c.varint(1, chunkPriority(chunk));
          c.string(2, chunk.find((s) => s.meta['_dd.origin'])?.meta['_dd.origin'] ?? '');
          for (const s of chunk) c.message(3, (sw) => writeSpan(sw, s));
        });
      }
      tp.string(8, b.env);
      tp.string(9, b.hostname);
    });
  }
  w.string(7, info.agentVersion);
  w.double(8, info.targetTPS);
  w.double(9, info.errorTPS);
  w.varint(10, info.rareSamplerEnabled);
  return w.finish();
}
