import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LogOnce } from './log.js';

describe('LogOnce', () => {
  it('logs each kind once a minute, errors as warnings, with the count suppressed meanwhile', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString())); done(); } }));
    let now = 0;
    const once = new LogOnce(log, 60_000, () => now);
    for (let i = 0; i < 1000; i++) once.error('store-write', { i }, 'store write failed');
    once.warn('decode', {}, 'payload rejected');
    expect(lines.map((l) => [l['kind'], l['level']])).toEqual([['store-write', 50], ['decode', 40]]);
    now = 60_000;
    once.error('store-write', {}, 'store write failed');
    expect(lines[2]).toMatchObject({ kind: 'store-write', suppressedSinceLast: 999 });
  });
});
