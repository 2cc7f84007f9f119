import { describe, expect, it } from 'vitest';
import type { Span } from '@ecs-trace/protocol';
import { errorGroupOf, histPercentile, meetWaiting, normalizeMessage, rollupsOf, rollupSlots, type Half, type RollupRow } from './trace-rollup.js';
import { WaitingHalves } from './waiting-halves.js';

describe('trace rollups', () => {
  it('counts a failing request once, its error where it was raised; handled errors once each; ids and line numbers make no new group', () => {
    const at = 1_795_576_142_000_000_000n;
    const mk = (spanId: bigint, parentId: bigint, p: Partial<Span> = {}): Span => ({
      service: 'shop', name: 'flask.request', resource: 'POST /checkout', type: 'web', traceId: 9n, spanId, parentId, start: at, duration: 1000, error: 0, meta: {}, metrics: {}, ...p,
    });
    const py = (customer: string, line: number) => `Traceback (most recent call last):\n  File "/app/shop/views.py", line ${line}, in checkout\n    charge(order)\n  File "/app/shop/payments.py", line 12, in charge\n    raise CardDeclined()\nshop.payments.CardDeclined: card declined for ${customer}`;
    const failing = (traceId: bigint, customer: string, line: number): Span[] => [
      // The request (a service entry) failed without a message of its own; the handler, the
      // dispatch and the route's span each carry the exception, as ddtrace marks them.
      { ...mk(1n, 0n, { error: 1, metrics: { _top_level: 1, 'http.status_code': 500 } }), traceId },
      { ...mk(2n, 1n, { name: 'flask.dispatch_request', error: 1, meta: { 'error.type': 'shop.payments.CardDeclined', 'error.message': `card declined for ${customer}`, 'error.stack': py(customer, line) } }), traceId },
      { ...mk(3n, 2n, { name: 'flask.handler', error: 1, meta: { 'error.type': 'shop.payments.CardDeclined', 'error.message': `card declined for ${customer}`, 'error.stack': py(customer, line) } }), traceId },
      { ...mk(4n, 3n, { service: 'payments-db', name: 'pg.query', type: 'sql', metrics: { _top_level: 1 } }), traceId },
    ];
    const errorsOf = (chunks: Span[][]) => rollupsOf({ chunks, env: 'prod', hostname: 'h', containerId: '', lang: 'python', tracerVersion: '2', receivedAt: at }, at).rows
      .filter((r) => r.kind === 'error' && r.width === 60_000_000_000n).map((r) => r.data as { errorType: string; message: string; count: number; resource: string });
    const one = errorsOf([failing(9n, 'c135', 33), failing(10n, 'c977', 35)]);
    expect(one).toEqual([expect.objectContaining({ errorType: 'shop.payments.CardDeclined', message: 'card declined for ?', count: 2, resource: 'POST /checkout' })]);
    // A request that did not fail, under which two errors were handled (one of them twice).
    const handled = [
      mk(1n, 0n, { metrics: { _top_level: 1 } }),
      mk(2n, 1n, { name: 'cache.get', error: 1, meta: { 'error.type': 'TimeoutError', 'error.message': 'cache timeout after 50ms' } }),
      mk(3n, 1n, { name: 'cache.get', error: 1, meta: { 'error.type': 'TimeoutError', 'error.message': 'cache timeout after 51ms' } }),
      mk(5n, 1n, { name: 'render', error: 1, meta: { 'error.type': 'KeyError', 'error.message': "'price'" } }),
    ];
    expect(errorsOf([handled]).map((e) => [e.errorType, e.count]).sort()).toEqual([['KeyError', 1], ['TimeoutError', 1]]);
    // A failing request with nothing raised under it is named by what it answered.
    expect(errorsOf([[mk(1n, 0n, { error: 1, metrics: { _top_level: 1, 'http.status_code': 502 } })]])).toEqual([expect.objectContaining({ message: 'HTTP 502', count: 1 })]);
  });

  it('makes what varies between occurrences of an error `?`, and keeps the stack\'s top frames without line numbers', () => {
    expect(normalizeMessage('user 42 not found in "orders" (id 9f8e7d6c5b4a)')).toBe('user ? not found in ? (id ?)');
    // Ids with letters and digits, e-mail addresses, UUIDs, numbers with units: one group each.
    for (const [a, b] of [['card declined for customer c135', 'card declined for customer c99812'], ['order ord_8f3k2 failed', 'order ord_77xk1 failed'],
      ['no user ann@example.com', 'no user bo.b+x@mail.example.org'], ['UUID 3f2504e0-4f89-11d3-9a0c-0305e82c3301 missing', 'UUID 9a2504e0-4f89-11d3-9a0c-0305e82c3301 missing'],
      ['timeout after 30s', 'timeout after 120s']]) expect(normalizeMessage(a!)).toBe(normalizeMessage(b!));
    expect(normalizeMessage('card declined for customer c135')).toBe('card declined for customer ?');
    expect(normalizeMessage('timeout after 30s')).toBe('timeout after ?s');
    // Words with one digit are words.
    expect(normalizeMessage('HTTP2 stream reset: invalid utf8 in v2 api')).toBe('HTTP2 stream reset: invalid utf8 in v2 api');
  });

  it('names an error without a message by what it is: the answer a server gave, the answer a call got', () => {
    const span = (p: Partial<Span>): Span => ({ service: 'web', name: 'op', resource: 'r', type: 'web', traceId: 1n, spanId: 2n, parentId: 0n, start: 1n, duration: 1, error: 1, meta: {}, metrics: {}, ...p });
    expect(errorGroupOf(span({ metrics: { 'http.status_code': 502 }, meta: { 'span.kind': 'server' } })).message).toBe('HTTP 502');
    expect(errorGroupOf(span({ type: 'http', meta: { 'span.kind': 'client', 'http.status_code': '404', 'peer.service': 'payments' } })).message).toBe('HTTP 404 from payments');
    expect(errorGroupOf(span({ meta: { 'span.kind': 'client', 'rpc.grpc.status_code': '14' } })).message).toBe('gRPC status 14');
    expect(errorGroupOf(span({ meta: { 'error.type': 'Error' } })).message).toBe('');
    // A message, when there is one, is the message.
    expect(errorGroupOf(span({ metrics: { 'http.status_code': 500 }, meta: { 'error.message': 'boom 42' } })).message).toBe('boom ?');
    // The fingerprint follows: a 502 and a 503 of one service are two groups.
    expect(errorGroupOf(span({ metrics: { 'http.status_code': 502 } })).id).not.toBe(errorGroupOf(span({ metrics: { 'http.status_code': 503 } })).id);
  });

  it('reads percentiles from the histogram within its 2.5%', () => {
    const hist: Record<string, number> = {};
    for (let i = 1; i <= 100; i++) {
      const k = String(Math.floor(Math.log(i * 1_000_000) / Math.log(1.05)));
      hist[k] = (hist[k] ?? 0) + 1;
    }
    expect(Math.abs(histPercentile(hist, 0.95) - 95_000_000) / 95_000_000).toBeLessThan(0.025);
    expect(histPercentile({}, 0.95)).toBe(0);
  });

  it('covers a range with hour, 10-minute and minute slots, its ragged ends widened to the minute', () => {
    const M = 60_000_000_000n;
    const H = 60n * M;
    expect(rollupSlots(2n * H - 90n * 1_000_000_000n, 3n * H + 30n * 1_000_000_000n)).toEqual([
      { width: M, from: 2n * H - 2n * M, to: 2n * H },
      { width: H, from: 2n * H, to: 3n * H },
      { width: M, from: 3n * H, to: 3n * H + M },
    ]);
  });

  it('keeps at most so many halves waiting: the oldest go as expired ones do, and what came in time still meets', () => {
    const half = (traceId: bigint, side: Half['side'], service: string, leaf?: string): Half => ({
      traceId, spanId: 7n, side, at: 0n,
      data: { service, env: 'prod', type: 'http', start: '1700000000000000000', duration: 1000, error: 0, ...(leaf ? { leaf: { name: leaf, type: 'http' } } : {}) },
    });
    const edges = (rows: RollupRow[]) => rows.filter((r) => r.kind === 'edge' && r.width === 60_000_000_000n).map((r) => r.key);
    const waiting = new WaitingHalves();
    expect(meetWaiting(waiting, [half(1n, 'client', 'web', 'payments.internal'), half(2n, 'client', 'web', 'users.internal'), half(3n, 'server', 'cart')], 10)).toEqual([]);
    const more = Array.from({ length: 8 }, (_, i) => half(BigInt(10 + i), 'client', 'web', `h${i}.internal`));
    // Past 10 waiting, the oldest tenth and what passes the bound go: web's calls to
    // payments.internal and users.internal count as calls to their leaves.
    const out = meetWaiting(waiting, more, 10);
    expect(edges(out).map((k) => k.split('\u001f').slice(1, 3).join('>'))).toEqual(['web>payments.internal', 'web>users.internal']);
    expect(waiting.size).toBe(9);
    // The server of trace 1 came too late: nothing to meet, it waits. Trace 10's server meets.
    const met = meetWaiting(waiting, [half(1n, 'server', 'payments'), half(10n, 'server', 'api')], 10);
    expect(edges(met).map((k) => k.split('\u001f').slice(1, 3).join('>'))).toEqual(['web>api']);
  });

  it('finds a trace\'s calls the same in a small chunk, a large one, and a trace flushed in two chunks of one payload', () => {
    const start = 1_700_000_000_000_000_000n;
    const span = (spanId: bigint, parentId: bigint, service: string, meta: Record<string, string> = {}, error = 0): Span => ({
      service, name: 'op', resource: 'r', type: 'web', traceId: 99n, spanId, parentId, start, duration: 1_000_000, error, meta, metrics: {},
    });
    // web calls api over http (answered here: no half), api queries postgres (a leaf), web calls
    // payments (no answer here: a client half waits), and api's own child is in api (no edge).
    const trace = (pad: number): Span[] => [
      span(1n, 0n, 'web'),
      span(2n, 1n, 'web', { 'span.kind': 'client', 'http.method': 'GET' }),
      span(3n, 2n, 'api', { 'span.kind': 'server' }),
      span(4n, 3n, 'api', { 'db.system': 'postgresql', 'db.instance': 'orders' }, 1),
      span(5n, 1n, 'web', { 'span.kind': 'client', 'http.method': 'POST', 'peer.service': 'payments' }),
      ...Array.from({ length: pad }, (_, i) => span(100n + BigInt(i), 3n, 'api')),
    ];
    const of = (chunks: Span[][]) => {
      const { rows, halves } = rollupsOf({ chunks, env: 'prod', hostname: 'h', containerId: '', lang: 'go', tracerVersion: '1', receivedAt: start }, start);
      const minute = rows.filter((r) => r.width === 60_000_000_000n);
      return {
        edges: minute.filter((r) => r.kind === 'edge').map((r) => r.key.split('\u001f').slice(1).join('>')).sort(),
        errors: minute.filter((r) => r.kind === 'error').map((r) => (r.data as { samples: string[] }).samples),
        halves: halves.map((h) => `${h.side}:${h.spanId}:${h.data.service}`).sort(),
      };
    };
    const small = of([trace(0)]);
    expect(small).toEqual({
      edges: ['api>postgresql:orders', 'web>api'],
      errors: [['0000000000000063']],
      halves: ['client:5:web'],
    });
    // Over 16 spans a trace's links come from maps instead of scans: the same calls.
    expect(of([trace(20)])).toEqual(small);
    // Flushed in two parts: the server span's parent is in the other chunk.
    const parts = trace(0);
    expect(of([parts.slice(0, 2), parts.slice(2)])).toEqual(small);
    // Another trace in the same payload reusing the span ids is no part of this one.
    const other = trace(0).map((s) => ({ ...s, traceId: 7n, meta: {}, error: 0, service: 'batch' }));
    expect(of([trace(0), other]).edges).toEqual(small.edges);
  });
});
