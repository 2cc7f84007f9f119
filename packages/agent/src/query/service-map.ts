import type { SpanRecord } from '../store/index.js';
import type { ApiServiceMap, ApiServiceMapEdge, ApiServiceMapNode } from './api-types.js';

/*
 * The service map of a set of traces: an edge wherever a span's parent is in another service
 * (a client call answered by a server, a producer read by a consumer), and a leaf node for calls
 * out of the traced world named by `peer.service`, `db.system` (with its instance) or
 * `out.host` on client spans that have no traced child. Each edge counts its calls and errors
 * and keeps their durations for its p95.
 */

interface Acc { calls: number; errors: number; durations: number[] }

const p95 = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
};

function leafOf(meta: Record<string, string>, type: string): { name: string; type: string } | undefined {
  const peer = meta['peer.service'];
  if (peer) return { name: peer, type: type || 'external' };
  const db = meta['db.system'] ?? meta['db.type'];
  if (db) return { name: meta['db.instance'] || meta['db.name'] ? `${db}:${meta['db.instance'] || meta['db.name']}` : db, type: type || 'db' };
  const host = meta['out.host'] ?? meta['peer.hostname'] ?? meta['server.address'];
  if (host && (meta['span.kind'] === 'client' || meta['span.kind'] === 'producer')) return { name: host, type: type || 'external' };
  return undefined;
}

export class ServiceMap {
  private readonly edges = new Map<string, Acc & { from: string; to: string }>();
  private readonly nodes = new Map<string, { type: string; hits: number; errors: number; durations: number[]; leaf: boolean }>();

  private node(name: string, type: string, leaf: boolean) {
    let n = this.nodes.get(name);
    if (!n) this.nodes.set(name, n = { type, hits: 0, errors: 0, durations: [], leaf });
    if (!leaf) n.leaf = false;
    if (!n.type && type) n.type = type;
    return n;
  }

  private edge(from: string, to: string, duration: number, error: boolean): void {
    const k = `${from}\u0000${to}`;
    let e = this.edges.get(k);
    if (!e) this.edges.set(k, e = { from, to, calls: 0, errors: 0, durations: [] });
    e.calls++;
    if (error) e.errors++;
    e.durations.push(duration);
  }

  add(spans: SpanRecord[]): void {
    const byId = new Map(spans.map((r) => [r.span.spanId, r.span]));
    const hasChild = new Set(spans.map((r) => r.span.parentId));
    for (const { span } of spans) {
      const parent = span.parentId !== 0n ? byId.get(span.parentId) : undefined;
      const entry = parent === undefined || parent.service !== span.service;
      if (entry) {
        const n = this.node(span.service, span.type, false);
        n.hits++;
        if (span.error) n.errors++;
        n.durations.push(span.duration);
      }
      if (parent && parent.service !== span.service) this.edge(parent.service, span.service, span.duration, span.error !== 0);
      else if (!hasChild.has(span.spanId)) {
        const leaf = leafOf(span.meta, span.type);
        if (leaf && leaf.name !== span.service) {
          const n = this.node(leaf.name, leaf.type, true);
          n.hits++;
          if (span.error) n.errors++;
          n.durations.push(span.duration);
          this.edge(span.service, leaf.name, span.duration, span.error !== 0);
        }
      }
    }
  }

  result(): ApiServiceMap {
    const nodes: ApiServiceMapNode[] = [...this.nodes].map(([service, n]) => ({ service, type: n.type || 'custom', hits: n.hits, errors: n.errors, p95: p95(n.durations), leaf: n.leaf }))
      .sort((a, b) => a.service.localeCompare(b.service));
    const edges: ApiServiceMapEdge[] = [...this.edges.values()].map((e) => ({ from: e.from, to: e.to, calls: e.calls, errors: e.errors, p95: p95(e.durations) }))
      .sort((a, b) => b.calls - a.calls);
    return { nodes, edges, scannedTraces: 0 };
  }
}
