import { emptySpan, type Span } from '@ecs-trace/protocol';
import { describe, expect, it } from 'vitest';
import { ServiceMap } from './service-map.js';

const s = (p: Partial<Span>): { span: Span; env: string } => ({ span: { ...emptySpan(), traceId: 1n, duration: 1_000_000, ...p }, env: 'prod' });

describe('service map', () => {
  it('draws an edge where a parent is in another service, and leaves for databases and outside hosts', () => {
    const m = new ServiceMap();
    m.add([
      s({ spanId: 1n, service: 'web', name: 'web.request', type: 'web' }),
      s({ spanId: 2n, parentId: 1n, service: 'web', name: 'http.request', type: 'http', meta: { 'span.kind': 'client' } }),
      s({ spanId: 3n, parentId: 2n, service: 'api', name: 'web.request', type: 'web', error: 1, duration: 5_000_000 }),
      s({ spanId: 4n, parentId: 3n, service: 'api', name: 'pg.query', type: 'sql', meta: { 'db.system': 'postgresql', 'db.instance': 'orders', 'span.kind': 'client' } }),
      s({ spanId: 5n, parentId: 1n, service: 'web', name: 'http.request', type: 'http', meta: { 'span.kind': 'client', 'out.host': 'api.stripe.com' } }),
    ]);
    const r = m.result();
    expect(r.edges.map((e) => [e.from, e.to, e.calls, e.errors])).toEqual(expect.arrayContaining([
      ['web', 'api', 1, 1], ['api', 'postgresql:orders', 1, 0], ['web', 'api.stripe.com', 1, 0],
    ]));
    expect(r.edges).toHaveLength(3);
    expect(r.nodes.find((n) => n.service === 'api')).toMatchObject({ hits: 1, errors: 1, p95: 5_000_000, leaf: false });
    expect(r.nodes.find((n) => n.service === 'postgresql:orders')).toMatchObject({ type: 'sql', leaf: true });
  });
});
