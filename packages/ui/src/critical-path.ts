/*
 * The critical path of a trace, as Jaeger computes it: from the root's end backwards, the child
 * that finished last (before the time reached so far) was what the parent waited for; its own
 * critical path is taken, time moves to that child's start, and the parent's remaining time is its
 * own. What is left are the segments of time, each owned by one span, that made the trace as long
 * as it is; each service's share of the trace is the sum of its segments.
 */

export interface PathNode {
  id: string;
  service: string;
  /** ns from the trace's start. */
  start: number;
  end: number;
  children: PathNode[];
}

export interface Segment {
  id: string;
  service: string;
  start: number;
  end: number;
}

export function criticalPath(roots: PathNode[]): Segment[] {
  if (roots.length === 0) return [];
  // The root that ends last is where the trace's length comes from.
  const root = roots.reduce((a, b) => (b.end > a.end ? b : a));
  const out: Segment[] = [];
  // Iterative, so that deep traces do not overflow the stack: [node, its end as clipped].
  const work: [PathNode, number, number][] = [[root, root.start, root.end]];
  while (work.length > 0) {
    const [node, from, to] = work.pop()!;
    let until = to;
    const children = node.children
      .map((c) => ({ c, start: Math.max(c.start, from), end: Math.min(c.end, to) }))
      .filter((x) => x.end > x.start)
      .sort((a, b) => b.end - a.end);
    const pending: [PathNode, number, number][] = [];
    for (const { c, start, end } of children) {
      if (end > until) continue; // overlaps the part already on the path
      if (until > end) out.push({ id: node.id, service: node.service, start: end, end: until });
      pending.push([c, start, end]);
      until = start;
    }
    if (until > from) out.push({ id: node.id, service: node.service, start: from, end: until });
    work.push(...pending);
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Each service's time on the critical path, largest first. */
export function shareByService(segments: Segment[]): { service: string; ns: number }[] {
  const by = new Map<string, number>();
  for (const s of segments) by.set(s.service, (by.get(s.service) ?? 0) + (s.end - s.start));
  return [...by].map(([service, ns]) => ({ service, ns })).sort((a, b) => b.ns - a.ns);
}
