import { describe, expect, it } from 'vitest';
import { traceIdIn } from './trace-id.js';

describe('a trace id in the search box', () => {
  it.each([
    ['6B06514E00000000FEDCBA9876543210', '6b06514e00000000fedcba9876543210'],
    ['  0af7651916cd43dd8448eb211c80319c ', '0af7651916cd43dd8448eb211c80319c'],
    ['fedcba9876543210', '0000000000000000fedcba9876543210'],
    ['18364758544493064720', '18364758544493064720'],
    ['1234567890123456', '1234567890123456'],
    ['42', '42'],
  ])('opens %s as %s', (typed, id) => expect(traceIdIn(typed)).toBe(id));

  it.each(['service:checkout', '18446744073709551616', '0', 'fedcba987654321', 'GET /cart', '0af7651916cd43dd8448eb211c80319'])('searches for %s', (typed) => {
    expect(traceIdIn(typed)).toBeUndefined();
  });
});
