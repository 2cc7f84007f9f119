import { describe, expect, it } from 'vitest';
import { diffTraces, type DiffSpan } from './trace-diff.js';

const s = (name: string, duration: number, start = '1'): DiffSpan => ({ service: 'web', name, resource: name, start, duration });

describe('trace comparison', () => {
  it('says which spans were added, missing, slower or faster, by how much', () => {
    const a = [s('root', 10e6), s('db', 2e6), s('cache', 1e6), s('retry', 1e6, '1'), s('retry', 1e6, '2')];
    const b = [s('root', 30e6), s('db', 2.02e6), s('auth', 5e6), s('retry', 0.5e6, '1')];
    expect(diffTraces(a, b).map((r) => [r.name, r.kind, r.diff])).toEqual([
      ['auth', 'added', 0],
      ['cache', 'missing', 0],
      ['retry #2', 'missing', 0],
      ['root', 'slower', 20e6],
      ['retry #1', 'faster', -0.5e6],
      ['db', 'same', 0.02e6],
    ]);
  });
});
