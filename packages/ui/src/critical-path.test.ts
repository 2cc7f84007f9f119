import { describe, expect, it } from 'vitest';
import { criticalPath, shareByService, type PathNode } from './critical-path.js';

const n = (id: string, service: string, start: number, end: number, children: PathNode[] = []): PathNode => ({ id, service, start, end, children });

describe('critical path', () => {
  it('follows the child that finished last, then the one before it, and gives the gaps to the parent', () => {
    // root 0-100; a 10-40; b 30-90 (finishes last); c 50-60 inside b. `a` ends after b starts,
    // so the root was waiting for b, not a, until 30 (as Jaeger decides it).
    const c = n('c', 'db', 50, 60);
    const root = n('root', 'web', 0, 100, [n('a', 'api', 10, 40), n('b', 'api', 30, 90, [c])]);
    const path = criticalPath([root]);
    expect(path.map((s) => `${s.id} ${s.start}-${s.end}`)).toEqual([
      'root 0-30', 'b 30-50', 'c 50-60', 'b 60-90', 'root 90-100',
    ]);
    expect(shareByService(path)).toEqual([{ service: 'api', ns: 50 }, { service: 'web', ns: 40 }, { service: 'db', ns: 10 }]);
    // Sequential children are both on it.
    const seq = criticalPath([n('r', 'web', 0, 100, [n('x', 'api', 10, 40), n('y', 'db', 50, 80)])]);
    expect(seq.map((s) => `${s.id} ${s.start}-${s.end}`)).toEqual(['r 0-10', 'x 10-40', 'r 40-50', 'y 50-80', 'r 80-100']);
  });

  it('clips a child that outlives its parent (an async span) and covers the trace once', () => {
    const root = n('root', 'web', 0, 50, [n('late', 'worker', 40, 200)]);
    const path = criticalPath([root]);
    expect(path.map((s) => `${s.id} ${s.start}-${s.end}`)).toEqual(['root 0-40', 'late 40-50']);
    expect(path.reduce((a, s) => a + s.end - s.start, 0)).toBe(50);
  });
});
