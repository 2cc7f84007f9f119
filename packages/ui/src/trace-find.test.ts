import { describe, expect, it } from 'vitest';
import { spanMatches } from './trace-find.js';

const span = { service: 'checkout', name: 'pg.query', resource: 'SELECT * FROM orders', meta: { 'db.instance': 'orders', 'peer.service': 'orders-postgres' } };

describe('finding spans in a trace', () => {
  it.each(['checkout', 'PG.QUERY', 'from orders', 'db.instance', 'orders-postgres', 'peer.service:orders', '  '])('finds the span by %j', (text) => {
    expect(spanMatches(span, text)).toBe(true);
  });

  it.each(['payments', 'redis', 'db.instance:payments'])('does not by %j', (text) => {
    expect(spanMatches(span, text)).toBe(false);
  });
});
