import { emptySpan, type Span } from '@ecs-trace/protocol';
import { describe, expect, it } from 'vitest';
import { ErrorGroups, normalizeMessage, topFrames } from './errors.js';

const err = (p: Partial<Span>, meta: Record<string, string>): Span => ({ ...emptySpan(), service: 'api', resource: 'GET /x', error: 1, start: 1_700_000_000_000_000_000n, ...p, meta });

describe('error groups', () => {
  it('makes what varies between occurrences `?`, and keeps the stack\'s top frames without line numbers', () => {
    expect(normalizeMessage('user 42 not found in "orders" (id 9f8e7d6c5b4a)')).toBe('user ? not found in ? (id ?)');
    expect(topFrames('TypeError: boom\n    at f (/app/a.js:10:5)\n    at g (/app/b.js:20:1)\n    at h (/app/c.js:1:1)\n    at i (/app/d.js:2:2)')).toEqual(['at f (/app/a.js', 'at g (/app/b.js', 'at h (/app/c.js']);
  });

  it('one bug is one group however its numbers vary; another type or stack is another group', () => {
    const g = new ErrorGroups();
    const stack = 'TypeError: x\n    at f (/app/a.js:10:5)';
    g.add(err({ traceId: 1n }, { 'error.type': 'TypeError', 'error.message': 'order 17 failed', 'error.stack': stack }), 'a');
    g.add(err({ traceId: 2n, start: 1_700_000_001_000_000_000n }, { 'error.type': 'TypeError', 'error.message': 'order 99 failed', 'error.stack': stack.replace(':10:5', ':11:7') }), 'b');
    g.add(err({ traceId: 3n }, { 'error.type': 'RangeError', 'error.message': 'order 1 failed', 'error.stack': stack }), 'c');
    g.add({ ...err({}, {}), error: 0 }, 'd');
    const list = g.list();
    expect(list.map((x) => [x.errorType, x.message, x.count, x.sampleTraceIds])).toEqual([
      ['TypeError', 'order ? failed', 2, ['a', 'b']],
      ['RangeError', 'order ? failed', 1, ['c']],
    ]);
    expect(list[0]).toMatchObject({ service: 'api', resource: 'GET /x', firstSeen: 1_700_000_000_000, lastSeen: 1_700_000_001_000 });
  });
});
