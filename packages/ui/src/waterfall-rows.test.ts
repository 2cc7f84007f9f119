import { describe, expect, it } from 'vitest';
import { collapsedToDepth, parents, visibleRows } from './waterfall-rows.js';

// root > a > (a1, a2 > a21), root > b
const order = [
  { id: 'root', depth: 0 }, { id: 'a', depth: 1 }, { id: 'a1', depth: 2 }, { id: 'a2', depth: 2 }, { id: 'a21', depth: 3 }, { id: 'b', depth: 1 },
];
const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

describe('waterfall rows', () => {
  it('hides what a collapsed span holds, and nothing else', () => {
    expect(ids(visibleRows(order, new Set()))).toEqual(['root', 'a', 'a1', 'a2', 'a21', 'b']);
    expect(ids(visibleRows(order, new Set(['a'])))).toEqual(['root', 'a', 'b']);
    expect(ids(visibleRows(order, new Set(['a2'])))).toEqual(['root', 'a', 'a1', 'a2', 'b']);
    expect(ids(visibleRows(order, new Set(['root'])))).toEqual(['root']);
    expect(ids(visibleRows(order, new Set(['a', 'a2'])))).toEqual(['root', 'a', 'b']);
  });

  it('knows which spans have children, and collapses to a depth', () => {
    expect([...parents(order)]).toEqual(['root', 'a', 'a2']);
    expect(ids(visibleRows(order, collapsedToDepth(order, 0)))).toEqual(['root']);
    expect(ids(visibleRows(order, collapsedToDepth(order, 1)))).toEqual(['root', 'a', 'b']);
    expect(ids(visibleRows(order, collapsedToDepth(order, 2)))).toEqual(['root', 'a', 'a1', 'a2', 'b']);
  });
});
