import { describe, expect, it } from 'vitest';
import { linksOf } from './span-links.js';

describe('a span\'s links to other traces', () => {
  it('reads dd-trace\'s _dd.span_links tag (hex ids) and span links (decimal ids) alike', () => {
    const links = linksOf({
      meta: { '_dd.span_links': '[{"trace_id":"6b06514e00000000fedcba9876543210","span_id":"00000000000004d2","attributes":{"link.reason":"batch"},"flags":1}]' },
      spanLinks: [{ traceId: '5', traceIdHigh: '1', spanId: '6', attributes: { 'link.name': 'x' } }],
    });
    expect(links).toEqual([
      { traceId: '00000000000000010000000000000005', spanId: '0000000000000006', attributes: { 'link.name': 'x' } },
      { traceId: '6b06514e00000000fedcba9876543210', spanId: '00000000000004d2', attributes: { 'link.reason': 'batch' } },
    ]);
  });

  it('pads 64-bit hex ids and skips what is not a link', () => {
    expect(linksOf({ meta: { '_dd.span_links': '[{"trace_id":"fedcba9876543210","span_id":"4d2"},{"trace_id":"zz","span_id":"1"},{"nothing":1}]' } }))
      .toEqual([{ traceId: '0000000000000000fedcba9876543210', spanId: '00000000000004d2', attributes: {} }]);
    expect(linksOf({ meta: { '_dd.span_links': '[{"trace_id":"1"' } })).toEqual([]);
    expect(linksOf({ meta: {} })).toEqual([]);
  });
});
