import { describe, expect, it } from 'vitest';
import { accept, completing, statsScopeOf } from './query-terms.js';

describe('the search box as terms', () => {
  it('finds the term at the caret: a key being typed, or a key\'s value', () => {
    expect(completing('service:shop cust', 17)).toMatchObject({ prefix: 'cust', context: 'service:shop' });
    expect(completing('service:shop customer.tier:go', 29)).toMatchObject({ key: 'customer.tier', prefix: 'go', context: 'service:shop' });
    expect(completing('resource:"GET /ca env:prod', 15)).toMatchObject({ key: 'resource', prefix: 'GET /ca env:prod' });
    expect(completing('', 0)).toMatchObject({ prefix: '', context: '' });
    expect(completing('-status:er', 10)).toMatchObject({ key: 'status', prefix: 'er' });
  });

  it('puts a suggestion in place of the term: a key with its colon, a value quoted when it has spaces', () => {
    const q = 'service:shop cust';
    expect(accept(q, completing(q, 17), 'customer.tier')).toEqual({ text: 'service:shop customer.tier:', caret: 27 });
    const v = 'customer.tier:go env:prod';
    expect(accept(v, completing(v, 16), 'gold')).toEqual({ text: 'customer.tier:gold env:prod', caret: 19 });
    expect(accept('resource:GE', completing('resource:GE', 11), 'GET /cart').text).toBe('resource:"GET /cart" ');
  });

  it('says when the stats can count a query whole', () => {
    expect(statsScopeOf('service:shop env:prod')).toEqual({ service: 'shop', env: 'prod' });
    expect(statsScopeOf('service:shop status:error')).toBeUndefined();
    expect(statsScopeOf('resource:"GET /cart" operation:web.request')).toEqual({ resource: 'GET /cart', name: 'web.request' });
    expect(statsScopeOf('')).toEqual({});
    expect(statsScopeOf('service:sh*')).toBeUndefined();
    expect(statsScopeOf('-service:shop')).toBeUndefined();
    expect(statsScopeOf('customer.tier:gold')).toBeUndefined();
    expect(statsScopeOf('timeout')).toBeUndefined();
  });
});
