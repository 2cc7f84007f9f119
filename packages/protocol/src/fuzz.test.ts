import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeClientStats, decodeJsonTraces, decodeV04, decodeV05, encodeV04, PayloadDecodeError, type Span } from './index.js';

/*
 * The fuzz harness of the decoders: whatever the bytes, a decoder returns traces or throws a
 * PayloadDecodeError (a 400 with a reason), never anything else. Inputs are random bytes, random
 * msgpack and JSON values, and mutations of what dd-trace really sends; the committed corpus
 * (../fuzz-corpus, the shapes that once took the agent down) is replayed on every run.
 * CI runs FUZZ_RUNS=300 (the default) cases per property; `FUZZ_RUNS=100000 npx vitest run fuzz`
 * searches longer. A failure prints the seed and the shrunk input: add it to the corpus.
 */

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const corpusDir = fileURLToPath(new URL('../fuzz-corpus/', import.meta.url));
const fixture = (name: string) => readFileSync(fixtures + name);

const DECODERS: Record<string, (b: Buffer) => unknown> = {
  v04: decodeV04,
  v05: decodeV05,
  json: decodeJsonTraces,
  stats: decodeClientStats,
};

/** Decodes and says how it ended: 'ok', 'rejected' (PayloadDecodeError), or rethrows anything else. */
function outcome(decode: (b: Buffer) => unknown, body: Buffer): 'ok' | 'rejected' {
  try {
    decode(body);
    return 'ok';
  } catch (err) {
    if (err instanceof PayloadDecodeError) return 'rejected';
    throw err;
  }
}

/** A valid payload changed the ways a network or a buggy tracer changes bytes. */
const mutated = (seed: Buffer) => fc.array(fc.tuple(fc.constantFrom('flip', 'truncate', 'insert', 'duplicate', 'zero'), fc.nat(), fc.uint8Array({ maxLength: 16 })), { minLength: 1, maxLength: 4 })
  .map((edits) => {
    let b = Buffer.from(seed);
    for (const [kind, at, bytes] of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (kind === 'flip') b[i] = (b[i]! ^ (bytes[0] ?? 0xff)) & 0xff;
      else if (kind === 'truncate') b = b.subarray(0, i);
      else if (kind === 'insert') b = Buffer.concat([b.subarray(0, i), bytes, b.subarray(i)]);
      else if (kind === 'duplicate') b = Buffer.concat([b.subarray(0, i), b.subarray(i, i + 64), b.subarray(i)]);
      else b.fill(0, i, Math.min(b.length, i + bytes.length));
    }
    return b;
  });

const packr = new Packr({ useRecords: false, variableMapSize: true });
const msgpackValue = fc.anything({ maxDepth: 6, withBigInt: true, withTypedArray: true, withNullPrototype: false, withMap: false, withSet: false, withDate: false, withBoxedValues: false, withSparseArray: false })
  .map((v) => {
    try {
      return packr.pack(v);
    } catch {
      return Buffer.from([0xc0]);
    }
  });

describe('decoder fuzzing', () => {
  it('replays the committed corpus: each input decodes or is refused with a reason', () => {
    for (const file of readdirSync(corpusDir)) {
      const kind = file.startsWith('json') ? 'json' : file.split('-')[0]!;
      const decode = DECODERS[kind];
      expect(decode, file).toBeDefined();
      expect(['ok', 'rejected']).toContain(outcome(decode!, readFileSync(corpusDir + file)));
    }
  });

  it.each(Object.keys(DECODERS))('%s: random bytes decode or are refused, never crash', (kind) => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      outcome(DECODERS[kind]!, Buffer.from(bytes));
    }), { numRuns: RUNS });
  });

  it.each(Object.keys(DECODERS))('%s: random msgpack and JSON values decode or are refused', (kind) => {
    const bodies = kind === 'json' ? fc.json({ maxDepth: 6 }).map((s) => Buffer.from(s)) : msgpackValue;
    fc.assert(fc.property(bodies, (body) => { outcome(DECODERS[kind]!, body); }), { numRuns: RUNS });
  });

  it.each([
    ['v04', 'dd-trace-js-5.132-v0.4-traces.msgpack'],
    ['v05', 'dd-trace-js-5.132-v0.5-traces.msgpack'],
    ['stats', 'dd-trace-js-5.132-v0.6-stats.msgpack'],
  ])('%s: mutations of what dd-trace sends decode or are refused', (kind, name) => {
    fc.assert(fc.property(mutated(fixture(name)), (body) => { outcome(DECODERS[kind]!, body); }), { numRuns: RUNS });
  });

  it('v04: any spans survive encode and decode unchanged', () => {
    const id = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const span = fc.record({
      service: fc.string(), name: fc.string(), resource: fc.string(), type: fc.string(),
      traceId: id, spanId: id, parentId: id,
      start: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
      duration: fc.integer({ min: -(2 ** 31), max: 2 ** 52 }), error: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      meta: fc.dictionary(fc.string(), fc.string(), { maxKeys: 5 }),
      metrics: fc.dictionary(fc.string(), fc.double({ noNaN: true }), { maxKeys: 5 }),
    });
    fc.assert(fc.property(fc.array(fc.array(span, { minLength: 1, maxLength: 4 }), { maxLength: 4 }), (chunks: Span[][]) => {
      // Lone surrogates are not valid UTF-8: they come back as U+FFFD, as the agent would store them.
      const wellFormed = (s: string) => Buffer.from(s).toString() === s;
      fc.pre(chunks.every((c) => c.every((s) => [s.service, s.name, s.resource, s.type, ...Object.keys(s.meta), ...Object.values(s.meta), ...Object.keys(s.metrics)].every(wellFormed))));
      expect(decodeV04(encodeV04(chunks))).toEqual(chunks);
    }), { numRuns: RUNS });
  });
});
