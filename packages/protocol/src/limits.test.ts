import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeClientStats, decodeJsonTraces, decodeV04, decodeV05, MAX_EXPANSION, MsgpackReader, PayloadDecodeError } from './index.js';

/*
 * Decoding is bounded by the bytes it was given: shapes that cost a few bytes on the wire and
 * hundreds in memory (empty maps, tiny entries), and nesting without end, are refused with a
 * reason before they are built; what real tracers send stays well inside the bounds.
 */

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)));

/** A msgpack array32 header of n elements, followed by `fill`. */
function array32(n: number, fill: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0xdd;
  head.writeUInt32BE(n, 1);
  return Buffer.concat([head, fill]);
}

function charged(body: Buffer): number {
  const r = new MsgpackReader(body, { maxExpansion: 1e6 });
  r.readAny();
  return r.spent({ maxExpansion: 1e6 });
}

describe('decoding limits', () => {
  it('charges what dd-trace sends far below the bound', () => {
    expect(charged(fixture('dd-trace-js-5.132-v0.4-traces.msgpack'))).toBeLessThan(3);
    expect(charged(fixture('dd-trace-js-5.132-v0.5-traces.msgpack'))).toBeLessThan(4);
    expect(MAX_EXPANSION).toBe(16);
    expect(decodeV04(fixture('dd-trace-js-5.132-v0.4-traces.msgpack')).length).toBeGreaterThan(0);
    expect(decodeV05(fixture('dd-trace-js-5.132-v0.5-traces.msgpack')).length).toBeGreaterThan(0);
    expect(decodeClientStats(fixture('dd-trace-js-5.132-v0.6-stats.msgpack')).stats.length).toBeGreaterThan(0);
  });

  it('refuses a v0.4 trace of a million empty span maps', () => {
    const n = 1_000_000;
    const body = Buffer.concat([Buffer.from([0x91]), array32(n, Buffer.alloc(n, 0x80))]);
    expect(() => decodeV04(body)).toThrow(PayloadDecodeError);
    expect(() => decodeV04(body)).toThrow(/would take more than 16 times its size in memory/);
  });

  it('refuses v0.5 spans that are mostly empty maps', () => {
    const span = Buffer.from([0x9c, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0x80, 0x80, 0]);
    const n = 200_000;
    const body = Buffer.concat([Buffer.from([0x92, 0x91, 0xa0, 0x91]), array32(n, Buffer.concat(Array.from({ length: n }, () => span)))]);
    expect(() => decodeV05(body)).toThrow(/would take more than 16 times its size/);
  });

  it('refuses stats made of empty maps, and values nested without end', () => {
    const n = 1_000_000;
    const empty = Buffer.concat([Buffer.from([0x81, 0xa5, ...Buffer.from('Stats')]), array32(n, Buffer.alloc(n, 0x80))]);
    expect(() => decodeClientStats(empty)).toThrow(/would take more than 16 times its size/);
    const deep = Buffer.concat([Buffer.from([0x81, 0xa5, ...Buffer.from('Stats')]), Buffer.alloc(100_000, 0x91), Buffer.from([0xc0])]);
    expect(() => decodeClientStats(deep)).toThrow(PayloadDecodeError);
    expect(() => decodeClientStats(deep)).toThrow(/nested more than 64 deep/);
  });

  it('refuses span events nested without end', () => {
    // One span whose span_events attributes nest 10,000 arrays deep.
    const key = (k: string) => Buffer.from([0xa0 | k.length, ...Buffer.from(k)]);
    const events = Buffer.concat([key('span_events'), Buffer.from([0x91, 0x81]), key('attributes'), Buffer.alloc(10_000, 0x91), Buffer.from([0xc0])]);
    const body = Buffer.concat([Buffer.from([0x91, 0x91, 0x81]), events]);
    expect(() => decodeV04(body)).toThrow(/nested more than 64 deep/);
  });

  it('refuses JSON of empty objects and JSON nested without end, before parsing it', () => {
    const empties = Buffer.from('[[' + Array.from({ length: 500_000 }, () => '{}').join(',') + ']]');
    expect(() => decodeJsonTraces(empties)).toThrow(/would take more than 16 times their size/);
    const deep = Buffer.from('['.repeat(100_000) + ']'.repeat(100_000));
    expect(() => decodeJsonTraces(deep)).toThrow(/nested more than 64 deep/);
    // Brackets inside strings are text, not nesting.
    const text = JSON.stringify([[{ trace_id: 1, span_id: 1, name: '['.repeat(1000), meta: { q: '{"a":[1,2]}'.repeat(100) } }]]);
    expect(decodeJsonTraces(Buffer.from(text))[0]![0]!.name).toBe('['.repeat(1000));
  });
});
