/*
 * Two traces side by side: their spans matched by service and operation name (the n-th such span
 * of one trace with the n-th of the other, in start order; resources often carry ids or ports), each match as same, slower or faster (by the
 * difference in duration), and what only one of them has as added or missing.
 */

export interface DiffSpan {
  service: string;
  name: string;
  resource: string;
  start: string;
  duration: number;
}

export interface DiffRow {
  key: string;
  service: string;
  name: string;
  resource: string;
  /** Durations in ns; undefined where that trace has no such span. */
  a: number | undefined;
  b: number | undefined;
  kind: 'added' | 'missing' | 'slower' | 'faster' | 'same';
  /** b - a, ns (0 for added and missing). */
  diff: number;
}

/** Within 5% (or 50 µs) a span counts as the same. */
const SAME = (a: number, b: number) => Math.abs(b - a) <= Math.max(50_000, 0.05 * Math.max(a, b));

export function diffTraces(a: DiffSpan[], b: DiffSpan[]): DiffRow[] {
  const group = (spans: DiffSpan[]) => {
    const m = new Map<string, DiffSpan[]>();
    for (const s of [...spans].sort((x, y) => (BigInt(x.start) < BigInt(y.start) ? -1 : 1))) {
      const k = `${s.service}\u0000${s.name}`;
      m.set(k, [...(m.get(k) ?? []), s]);
    }
    return m;
  };
  const ga = group(a);
  const gb = group(b);
  const rows: DiffRow[] = [];
  for (const key of new Set([...ga.keys(), ...gb.keys()])) {
    const xs = ga.get(key) ?? [];
    const ys = gb.get(key) ?? [];
    for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
      const x = xs[i];
      const y = ys[i];
      const s = (x ?? y)!;
      const n = Math.max(xs.length, ys.length) > 1 ? ` #${i + 1}` : '';
      const base = { key: key + n, service: s.service, name: s.name + n, resource: s.resource, a: x?.duration, b: y?.duration };
      if (!x) rows.push({ ...base, kind: 'added', diff: 0 });
      else if (!y) rows.push({ ...base, kind: 'missing', diff: 0 });
      else rows.push({ ...base, kind: SAME(x.duration, y.duration) ? 'same' : y.duration > x.duration ? 'slower' : 'faster', diff: y.duration - x.duration });
    }
  }
  const order = { added: 0, missing: 1, slower: 2, faster: 3, same: 4 };
  return rows.sort((p, q) => order[p.kind] - order[q.kind] || Math.abs(q.diff) - Math.abs(p.diff));
}
