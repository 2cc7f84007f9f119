// dd-trace-shaped payloads for the benchmarks, built from the captured dd-trace 5.132 request:
// the same keys, values and sizes, with fresh ids per trace.
import { randomFillSync } from 'node:crypto';
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

/**
 * Payloads as real traffic sends them: every call returns the v0.4 body with a fresh random trace
 * id for each trace (as tracers draw them: ids of one payload are spread over the whole 64-bit
 * range, so a store keyed by trace id writes all over its index) and start times moved to now.
 * Patching the encoded bytes in place costs a copy and a few hundred writes, so the sender does
 * not compete with the agent for the CPU as re-encoding would.
 */
/** Writes one new random id per trace at `positions` (8-byte ids, grouped by their value in `body`). */
function randomIds(body, positions) {
  const byTrace = new Map();
  for (const at of positions) {
    const id = body.readBigUInt64BE(at);
    if (!byTrace.has(id)) byTrace.set(id, []);
    byTrace.get(id).push(at);
  }
  const groups = [...byTrace.values()];
  const bytes = Buffer.alloc(8 * groups.length);
  return (out) => {
    randomFillSync(bytes);
    groups.forEach((list, g) => { for (const at of list) bytes.copy(out, at, 8 * g, 8 * g + 8); });
  };
}

export function freshV04(body) {
  const traceIdAt = [];
  const startAt = [];
  const key = (name) => Buffer.concat([Buffer.from([0xa0 | name.length]), Buffer.from(name)]);
  for (const [name, list] of [['trace_id', traceIdAt], ['start', startAt]]) {
    const k = key(name);
    for (let i = body.indexOf(k); i >= 0; i = body.indexOf(k, i + 1)) {
      if (body[i + k.length] === 0xcf) list.push(i + k.length + 1);
    }
  }
  const firstStart = body.readBigUInt64BE(startAt[0]);
  const fresh = randomIds(body, traceIdAt);
  return () => {
    const out = Buffer.from(body);
    fresh(out);
    const shift = BigInt(Date.now()) * 1_000_000n - firstStart;
    for (const at of startAt) out.writeBigUInt64BE(out.readBigUInt64BE(at) + shift, at);
    return out;
  };
}

/**
 * The same for v0.5 bodies: every call returns `body` (encoded from `chunks`) with fresh trace ids
 * and start times moved to now. The positions are found by value: each trace id and start time is
 * a distinct 64-bit number written after its msgpack marker (0xcf, or 0xd3 for a signed start).
 */
export function freshV05(body, chunks) {
  const at = (value, markers) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, value));
    const out = [];
    for (let i = body.indexOf(b); i >= 0; i = body.indexOf(b, i + 1)) if (markers.includes(body[i - 1])) out.push(i);
    return out;
  };
  const traceIdAt = [...new Set(chunks.map((c) => c[0].traceId))].flatMap((id) => at(id, [0xcf]));
  const startAt = chunks.flatMap((c) => c.map((s) => s.start)).flatMap((t) => at(t, [0xcf, 0xd3]));
  const firstStart = chunks[0][0].start;
  const fresh = randomIds(body, traceIdAt);
  return () => {
    const out = Buffer.from(body);
    fresh(out);
    const shift = BigInt(Date.now()) * 1_000_000n - firstStart;
    for (const i of new Set(startAt)) out.writeBigUInt64BE(out.readBigUInt64BE(i) + shift, i);
    return out;
  };
}
