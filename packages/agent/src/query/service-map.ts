import { histPercentile, mergeRollupData, type EdgeData } from '../store/index.js';
import type { ApiService, ApiServiceMap, ApiServiceMapEdge, ApiServiceMapNode } from './api-types.js';

/*
 * The service map of a range, from the store's rollups (store/trace-rollup.ts): its edges are the
 * calls rolled up across service boundaries and out to leaves; its traced nodes take their
 * requests, errors and p95 from the services list (the same stats rows), its leaves the calls
 * made to them.
 */

export function serviceMapOf(edgeRows: readonly EdgeData[], services: readonly ApiService[], env?: string): ApiServiceMap {
  const byPair = new Map<string, EdgeData>();
  for (const e of edgeRows) {
    if (env && e.env !== env) continue;
    const k = `${e.from}\u0000${e.to}`;
    const have = byPair.get(k);
    byPair.set(k, have ? (mergeRollupData(have, e) as EdgeData) : e);
  }
  const nodes = new Map<string, ApiServiceMapNode>();
  for (const s of services) {
    if (env && s.env !== env) continue;
    const have = nodes.get(s.service);
    if (have) {
      have.hits += s.hits;
      have.errors += s.errors;
      have.p95 = Math.max(have.p95, s.p95 ?? 0);
    } else {
      nodes.set(s.service, { service: s.service, type: s.type || 'custom', hits: s.hits, errors: s.errors, p95: s.p95 ?? 0, leaf: false });
    }
  }
  const leaves = new Map<string, EdgeData>();
  for (const e of byPair.values()) {
    if (!nodes.has(e.from)) nodes.set(e.from, { service: e.from, type: 'custom', hits: 0, errors: 0, p95: 0, leaf: false });
    if (e.leaf) {
      const have = leaves.get(e.to);
      leaves.set(e.to, have ? (mergeRollupData(have, e) as EdgeData) : e);
    } else if (!nodes.has(e.to)) {
      // A traced service without stats rows in the range (e.g. its tracer computes none): its calls in.
      nodes.set(e.to, { service: e.to, type: e.toType || 'custom', hits: e.calls, errors: e.errors, p95: histPercentile(e.hist, 0.95), leaf: false });
    }
  }
  for (const [name, e] of leaves) {
    if (nodes.get(name)?.leaf === false) continue;
    nodes.set(name, { service: name, type: e.toType || 'external', hits: e.calls, errors: e.errors, p95: histPercentile(e.hist, 0.95), leaf: true });
  }
  const edges: ApiServiceMapEdge[] = [...byPair.values()].map((e) => ({ from: e.from, to: e.to, calls: e.calls, errors: e.errors, p95: histPercentile(e.hist, 0.95) }))
    .sort((a, b) => b.calls - a.calls || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return { nodes: [...nodes.values()].sort((a, b) => a.service.localeCompare(b.service)), edges };
}
