// dd-trace-shaped payloads for the benchmarks, built from the captured dd-trace 5.132 request:
// the same keys, values and sizes, with fresh ids per trace.
import { readFileSync } from 'node:fs';
import { decodeV04, encodeV04, encodeV05 } from '@ecs-trace/protocol';

const FIXTURE = new URL('../packages/protocol/fixtures/dd-trace-js-5.132-v0.4-traces.msgpack', import.meta.url);

export function ddTraceChunks(traces) {
  const base = decodeV04(readFileSync(FIXTURE));
  const chunks = [];
  let id = 0x1000n;
  for (let i = 0; chunks.length < traces; i++) {
    const template = base[i % base.length];
    const traceId = 0x7000000000000000n + BigInt(i);
    const ids = new Map();
    for (const s of template) ids.set(s.spanId, id++);
    chunks.push(template.map((s) => ({
      ...s,
      traceId,
      spanId: ids.get(s.spanId),
      parentId: ids.get(s.parentId) ?? 0n,
      start: s.start + BigInt(i) * 1000n,
      meta: { ...s.meta },
      metrics: { ...s.metrics },
    })));
  }
  return chunks;
}

export function payloads(traces) {
  const chunks = ddTraceChunks(traces);
  const spans = chunks.reduce((n, c) => n + c.length, 0);
  return { chunks, spans, v04: encodeV04(chunks), v05: encodeV05(chunks) };
}
