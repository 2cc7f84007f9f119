import { describe, expect, it } from 'vitest';
import type { ChunkRow } from '../prepare-write.js';
import { chunkRecord, highToInt, intToHigh, packChunkNames, type NameTuple } from './chunk-names.js';

const row = (rootService: string, rootResource: string, services = rootService): ChunkRow => ({
  traceId: 1n, traceIdHigh: '', offset: 0, start: 0n, end: 1n, rootSpanId: null, rootService, rootName: 'web.request',
  rootResource, env: 'prod', spanCount: 1, errorCount: 0, services,
});

describe('chunk names', () => {
  it('keeps each distinct tuple once and points every chunk at its own', () => {
    // Strings built at run time, so that equal tuples are not the same string instances.
    const chunks = [row('web', 'GET /a'), row('web', 'GET /b'), row('w' + 'eb', 'GET ' + '/a'), row('web', 'GET /a', 'web,db')];
    const { names, refs } = packChunkNames(chunks);
    const tuples = JSON.parse(names) as NameTuple[];
    expect(tuples).toHaveLength(3);
    chunks.forEach((c, i) => expect(tuples[refs[i]!]).toEqual([c.rootService, c.rootName, c.rootResource, c.env, c.services]));
  });

  it('stays exact past the tuples it compares one by one', () => {
    const chunks = Array.from({ length: 200 }, (_, i) => row(`svc-${i % 40}`, `GET /${i % 7}`));
    const { names, refs } = packChunkNames(chunks);
    const tuples = JSON.parse(names) as NameTuple[];
    expect(tuples).toHaveLength(new Set(chunks.map((c) => `${c.rootService} ${c.rootResource}`)).size);
    chunks.forEach((c, i) => expect(tuples[refs[i]!]![0]).toBe(c.rootService));
    chunks.forEach((c, i) => expect(tuples[refs[i]!]![2]).toBe(c.rootResource));
  });

  it('keeps the upper half of a 128-bit trace id as an integer and gives it back as hex', () => {
    for (const h of ['', '6750c9b600000000', 'ffffffffffffffff', '8000000000000001', '0000000000000001']) {
      expect(intToHigh(highToInt(h))).toBe(h);
    }
    expect(highToInt('6750c9b600000000')).toBe(0x6750c9b600000000n);
    expect(highToInt('ffffffffffffffff')).toBe(-1n);
  });

  it('reads a stored chunk back with its names', () => {
    const r = chunkRecord({ trace_id: 5n, payload: 2n, offset: 9n, trace_id_high: highToInt('6750c9b600000000'), start: 1n, end: 4n, root_span_id: 7n, span_count: 3n, error_count: 1n, names: 1n },
      [['a', 'b', 'c', 'd', 'a'], ['web', 'web.request', 'GET /', 'prod', 'web,db']]);
    expect(r).toEqual({ trace_id: 5n, payload: 2n, offset: 9n, trace_id_high: '6750c9b600000000', start: 1n, end: 4n, root_span_id: 7n,
      root_service: 'web', root_name: 'web.request', root_resource: 'GET /', env: 'prod', span_count: 3n, error_count: 1n, services: 'web,db' });
  });
});
