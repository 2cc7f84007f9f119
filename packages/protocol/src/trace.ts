import type { Span, TraceChunk } from './span.js';

/*
 * Facts about a trace chunk that every stage agrees on: which span is its root and which spans
 * are top-level (a service's entry spans), by the Datadog Agent's rules.
 */

/** The span with parent 0, else the one whose parent is not in the chunk, else the last. */
export function findRoot(chunk: TraceChunk): Span {
  for (let i = chunk.length - 1; i >= 0; i--) if (chunk[i]!.parentId === 0n) return chunk[i]!;
  const ids = new Set<bigint>();
  for (const s of chunk) ids.add(s.spanId);
  for (const s of chunk) if (!ids.has(s.parentId)) return s;
  return chunk[chunk.length - 1]!;
}

/**
 * Sets `_top_level` on roots and on spans whose parent is of another service (or absent). A
 * tracer that computed it itself (`Datadog-Client-Computed-Top-Level`) is trusted.
 */
export function markTopLevel(chunk: TraceChunk, clientComputed: boolean): void {
  if (clientComputed) {
    for (const s of chunk) if (s.metrics['_dd.top_level'] === 1) s.metrics['_top_level'] = 1;
    return;
  }
  const services = new Map<bigint, string>();
  for (const s of chunk) services.set(s.spanId, s.service);
  for (const s of chunk) {
    if (s.parentId === 0n) { s.metrics['_top_level'] = 1; continue; }
    const parentService = services.get(s.parentId);
    if (parentService === undefined || parentService !== s.service) s.metrics['_top_level'] = 1;
  }
}
