import { emptySpan, type Span } from '@ecs-trace/protocol';
import { describe, expect, it } from 'vitest';
import { foldRollups, rollupsOf, type EdgeData, type ErrorData } from '../store/trace-rollup.js';
import type { WriteBatch } from '../store/index.js';
import type { ApiService } from './api-types.js';
import { errorGroupsOf } from './errors.js';
import { serviceMapOf } from './service-map.js';

/* The service map and error groups as the API answers them, from rollup rows made of spans. */

const T = 1_700_000_000_000_000_000n;
const s = (p: Partial<Span>): Span => ({ ...emptySpan(), traceId: 1n, duration: 1_000_000, start: T, ...p, meta: { env: 'prod', ...p.meta } });
const batch = (spans: Span[]): WriteBatch => ({ chunks: [spans], env: 'none', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: T });
const hourRows = <D>(rows: ReturnType<typeof rollupsOf>['rows'], kind: 'edge' | 'error') =>
  foldRollups(rows).filter((r) => r.kind === kind && r.width === 3_600_000_000_000n).map((r) => ({ key: r.key, data: r.data as D }));
const svc = (service: string, hits: number, errors: number, p95: number): ApiService => ({ service, env: 'prod', type: 'web', operation: 'web.request', hits, errors, lastSeen: '0', firstSeen: '0', avgDuration: p95, p50: p95, p95, p99: p95, versions: [] });

describe('service map', () => {
  it('draws an edge where a parent is in another service, and leaves for databases and outside hosts', () => {
    const { rows, halves } = rollupsOf(batch([
      s({ spanId: 1n, service: 'web', name: 'web.request', type: 'web' }),
      s({ spanId: 2n, parentId: 1n, service: 'web', name: 'http.request', type: 'http', meta: { 'span.kind': 'client' } }),
      s({ spanId: 3n, parentId: 2n, service: 'api', name: 'web.request', type: 'web', error: 1, duration: 5_000_000 }),
      s({ spanId: 4n, parentId: 3n, service: 'api', name: 'pg.query', type: 'sql', meta: { 'db.system': 'postgresql', 'db.instance': 'orders', 'span.kind': 'client' } }),
      s({ spanId: 5n, parentId: 1n, service: 'web', name: 'http.request', type: 'http', meta: { 'span.kind': 'client', 'out.host': 'api.stripe.com', 'http.method': 'POST' } }),
      s({ spanId: 6n, parentId: 5n, service: 'web', name: 'tcp.connect', meta: { 'span.kind': 'client', 'out.host': 'api.stripe.com' } }),
    ]), T);
    // The call to Stripe waits for a traced answer that may come from another payload.
    expect(halves.map((h) => [h.side, h.data.service, h.data.leaf?.name])).toEqual([['client', 'web', 'api.stripe.com']]);
    const map = serviceMapOf(hourRows<EdgeData>(rows, 'edge').map((r) => r.data), [svc('web', 10, 0, 9e6), svc('api', 4, 1, 5e6)]);
    expect(map.edges.map((e) => [e.from, e.to, e.calls, e.errors])).toEqual(expect.arrayContaining([['web', 'api', 1, 1], ['api', 'postgresql:orders', 1, 0]]));
    expect(map.edges).toHaveLength(2);
    expect(map.edges.find((e) => e.to === 'api')!.p95).toBeGreaterThan(4_800_000);
    expect(map.nodes.find((n) => n.service === 'api')).toMatchObject({ hits: 4, errors: 1, p95: 5e6, leaf: false });
    expect(map.nodes.find((n) => n.service === 'postgresql:orders')).toMatchObject({ type: 'sql', leaf: true, hits: 1 });
    expect(serviceMapOf(hourRows<EdgeData>(rows, 'edge').map((r) => r.data), [], 'staging').edges).toEqual([]);
  });

  it('draws an inferred database service (dd-trace\'s `orders-postgres`) as one hop from its caller', () => {
    const { rows } = rollupsOf(batch([
      s({ spanId: 1n, service: 'orders', name: 'web.request', type: 'web' }),
      s({ spanId: 2n, parentId: 1n, service: 'orders-postgres', name: 'pg.query', type: 'sql', meta: { 'db.system': 'postgres', 'db.name': 'orders', 'span.kind': 'client' } }),
      s({ spanId: 3n, parentId: 1n, service: 'orders-postgres', name: 'pg.query', type: 'sql', error: 1, meta: { 'db.system': 'postgres', 'db.name': 'orders', 'span.kind': 'client' } }),
    ]), T);
    const map = serviceMapOf(hourRows<EdgeData>(rows, 'edge').map((r) => r.data), [svc('orders', 1, 0, 9e6), { ...svc('orders-postgres', 2, 1, 1e6), type: 'sql' }]);
    expect(map.edges.map((e) => [e.from, e.to, e.calls, e.errors])).toEqual([['orders', 'orders-postgres', 2, 1]]);
    expect(map.nodes.map((n) => [n.service, n.type, n.hits])).toEqual([['orders', 'web', 1], ['orders-postgres', 'sql', 2]]);
  });
});

describe('error groups', () => {
  it('one bug is one group however its numbers vary; another type or stack is another group', () => {
    const stack = 'TypeError: x\n    at f (/app/a.js:10:5)';
    const { rows } = rollupsOf(batch([
      s({ traceId: 1n, spanId: 1n, service: 'api', resource: 'GET /x', error: 1, meta: { 'error.type': 'TypeError', 'error.message': 'order 17 failed', 'error.stack': stack } }),
      s({ traceId: 2n, spanId: 2n, service: 'api', resource: 'GET /x', error: 1, start: T + 1_000_000_000n, meta: { 'error.type': 'TypeError', 'error.message': 'order 99 failed', 'error.stack': stack.replace(':10:5', ':11:7') } }),
      s({ traceId: 3n, spanId: 3n, service: 'api', error: 1, meta: { 'error.type': 'RangeError', 'error.message': 'order 1 failed', 'error.stack': stack } }),
      s({ traceId: 4n, spanId: 4n, service: 'api' }),
    ]), T);
    const list = errorGroupsOf(hourRows<ErrorData>(rows, 'error'), {});
    expect(list.map((x) => [x.errorType, x.message, x.count, x.sampleTraceIds])).toEqual([
      ['TypeError', 'order ? failed', 2, ['0000000000000001', '0000000000000002']],
      ['RangeError', 'order ? failed', 1, ['0000000000000003']],
    ]);
    expect(list[0]).toMatchObject({ service: 'api', resource: 'GET /x', firstSeen: 1_700_000_000_000, lastSeen: 1_700_000_001_000 });
    expect(errorGroupsOf(hourRows<ErrorData>(rows, 'error'), { service: 'web' })).toEqual([]);
  });

  it('counts a group per version of the failing service: the versions it occurred in, and each version alone', () => {
    const err = (traceId: bigint, version: string, at: bigint) => s({ traceId, spanId: traceId, service: 'api', error: 1, start: T + at, meta: { version, 'error.type': 'TypeError', 'error.message': 'boom', 'error.stack': 'TypeError: boom\n    at f (/app/a.js:1:1)' } });
    const { rows } = rollupsOf(batch([err(1n, '1.0', 0n), err(2n, '1.0', 60_000_000_000n), err(3n, '1.1', 120_000_000_000n), err(4n, '', 180_000_000_000n)]), T);
    const hour = hourRows<ErrorData>(rows, 'error');
    const [all] = errorGroupsOf(hour, {});
    expect(all).toMatchObject({ count: 4, versions: [
      { version: '1.0', count: 2, firstSeen: 1_700_000_000_000, lastSeen: 1_700_000_060_000 },
      { version: '1.1', count: 1, firstSeen: 1_700_000_120_000, lastSeen: 1_700_000_120_000 },
      { version: '', count: 1, firstSeen: 1_700_000_180_000, lastSeen: 1_700_000_180_000 },
    ] });
    const [v11] = errorGroupsOf(hour, { version: '1.1' });
    expect(v11).toMatchObject({ id: all!.id, count: 1, firstSeen: 1_700_000_120_000, sampleTraceIds: ['0000000000000003'] });
    expect(errorGroupsOf(hour, { version: '2.0' })).toEqual([]);
    // Rows counted before versions were kept are said to be so, not put under a version.
    const [old] = errorGroupsOf(hour.map((r) => ({ key: r.key, data: { ...r.data, version: undefined } })), {});
    expect(old!.versions).toEqual([{ version: null, count: 4, firstSeen: 1_700_000_000_000, lastSeen: 1_700_000_180_000 }]);
  });
});
