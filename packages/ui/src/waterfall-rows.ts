/*
 * The waterfall's rows once some spans are collapsed: a collapsed span stays, its descendants go.
 * Rows come in the trace's depth-first order, each with its depth, so a span's descendants are the
 * rows after it that are deeper than it.
 */

export interface Row { id: string; depth: number }

export function visibleRows<T extends Row>(order: readonly T[], collapsed: ReadonlySet<string>): T[] {
  const out: T[] = [];
  // Rows deeper than this are inside a collapsed span.
  let hideBelow = Infinity;
  for (const r of order) {
    if (r.depth > hideBelow) continue;
    hideBelow = Infinity;
    out.push(r);
    if (collapsed.has(r.id)) hideBelow = r.depth;
  }
  return out;
}

/** The spans that have children (the ones a row can collapse). */
export function parents<T extends Row>(order: readonly T[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < order.length; i++) if (order[i + 1]!.depth > order[i]!.depth) out.add(order[i]!.id);
  return out;
}

/** What to collapse to show the tree to a depth (0: the roots alone). */
export function collapsedToDepth<T extends Row>(order: readonly T[], depth: number): Set<string> {
  const has = parents(order);
  return new Set(order.filter((r) => r.depth === depth && has.has(r.id)).map((r) => r.id));
}
