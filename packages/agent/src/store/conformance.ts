import { markTopLevel, type Span } from '@ecs-trace/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TraceStore, WriteBatch } from './contract.js';
import { newSketch, type StatsRow, type TraceId } from './records.js';
import { histPercentile, type EdgeData, type ErrorData } from './trace-rollup.js';

/*
 * The conformance suite every TraceStore must pass. An implementation's test file calls
 * `storeConformance(name, factory)`; the suite never looks inside the store.
 */

const T0 = 1_795_576_142_000_000_000n;
const MS = 1_000_000n;

export function span(p: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span {
  return {
    service: 'checkout', name: 'web.request', resource: 'GET /cart', type: 'web',
    parentId: 0n, start: T0, duration: 10_000_000, error: 0, meta: { env: 'prod' }, metrics: {},
    ...p,
  };
}

export function batch(chunks: Span[][], extra: Partial<WriteBatch> = {}): WriteBatch {
  for (const c of chunks) markTopLevel(c, false);
  return { chunks, env: 'none', hostname: 'h', containerId: '', lang: 'nodejs', tracerVersion: '5', receivedAt: T0, ...extra };
}

/** A trace id from its hex form, as the query API reads it (upper half first, if any). */
export function tid(hex: string): TraceId {
  const low = BigInt('0x' + hex.slice(-16));
  return { high: hex.length > 16 ? BigInt('0x' + hex.slice(0, -16)) : 0n, low };
}

export interface Capabilities {
  /** Deletes the oldest data to stay under a size (a backend that frees disk only on VACUUM does not). */
  sizeRetention?: boolean;
  /**
   * Drops spans and stats only as whole partitions of this width (ns), aligned to the epoch: data
   * goes once its partition is wholly before the cutoff. Unset: to the row.
   */
  retentionPartitionNs?: bigint;
  /** Reads several traces in one (TraceReader.getTraces). */
  getTraces?: boolean;
}

/** The start of the partition of `width` after the one `t` is in. */
const nextPartition = (t: bigint, width: bigint): bigint => (t / width + 1n) * width;

export function storeConformance(name: string, create: () => Promise<TraceStore>, capabilities: Capabilities = {}): void {
  describe(`${name} store conformance`, () => {
    let store: TraceStore;
    beforeEach(async () => { store = await create(); });
    afterEach(async () => { await store.close(); });

    it('returns a trace with exact 64-bit ids, parentage, meta, metrics and 128-bit id', async () => {
      const root = span({ traceId: 0xfedcba9876543210n, spanId: 0xffffffffffffffffn, meta: { env: 'prod', '_dd.p.tid': '6b06514e00000000' }, metrics: { _sampling_priority_v1: 1 } });
      const child = span({ traceId: 0xfedcba9876543210n, spanId: 2n, parentId: 0xffffffffffffffffn, service: 'db', name: 'pg.query', resource: 'SELECT ?', type: 'sql', start: T0 + MS, duration: 2_000_000, error: 1, meta: { 'error.message': 'boom' } });
      await store.write(batch([[root, child]]));
      const t = await store.getTrace(tid('6b06514e00000000fedcba9876543210'));
      expect(t).toBeDefined();
      expect(t!.summary).toMatchObject({
        traceId: { high: 0x6b06514e00000000n, low: 0xfedcba9876543210n }, rootService: 'checkout', rootResource: 'GET /cart',
        spanCount: 2, errorCount: 1, services: ['checkout', 'db'], env: 'prod', incomplete: false, duration: 10_000_000, start: T0,
      });
      const [r, c] = t!.spans;
      expect(r!.span).toMatchObject({ spanId: 0xffffffffffffffffn, parentId: 0n, metrics: { _sampling_priority_v1: 1, _top_level: 1 } });
      expect(c!.span).toMatchObject({ spanId: 2n, parentId: 0xffffffffffffffffn, service: 'db', error: 1, meta: { 'error.message': 'boom' }, start: T0 + MS });
      expect(c!.env).toBe('prod');
      // The 64-bit form finds the same trace.
      expect((await store.getTrace(tid('0000000000000000fedcba9876543210')))?.spans).toHaveLength(2);
      // A different upper half is a different trace.
      expect(await store.getTrace(tid('1111111111111111fedcba9876543210'))).toBeUndefined();
    });

    it('rolls up calls across services (also when their sides arrive apart) and to databases, for the service map', async () => {
      const day = { start: T0 - 3_600_000n * MS, end: T0 + 3_600_000n * MS };
      // web calls api in one payload (both sides); api's client span to billing arrives after
      // billing's server span, in another payload; api queries PostgreSQL.
      const web = span({ traceId: 21n, spanId: 1n, service: 'web', meta: { env: 'prod', 'span.kind': 'server' } });
      const api = span({ traceId: 21n, spanId: 2n, parentId: 1n, service: 'api', duration: 4_000_000, meta: { env: 'prod', 'span.kind': 'server' } });
      const db = span({ traceId: 21n, spanId: 3n, parentId: 2n, service: 'api', name: 'pg.query', type: 'sql', duration: 1_000_000, error: 1, meta: { env: 'prod', 'span.kind': 'client', 'db.system': 'postgresql' } });
      const out = span({ traceId: 21n, spanId: 4n, parentId: 2n, service: 'api', name: 'http.request', type: 'http', meta: { env: 'prod', 'span.kind': 'client', 'out.host': 'billing', 'http.method': 'GET' } });
      const billing = span({ traceId: 21n, spanId: 5n, parentId: 4n, service: 'billing', duration: 2_000_000, meta: { env: 'prod', 'span.kind': 'server' } });
      await store.write(batch([[web, api, db]]));
      await store.write(batch([[billing]]));
      expect((await store.readRollups('edge', day)).map((r) => r.data).filter((d) => 'calls' in d && d.to === 'billing')).toEqual([]);
      await store.write(batch([[out]]));
      const edges = (await store.readRollups('edge', day)).map((r) => r.data as EdgeData).map(({ from, to, calls, errors, leaf, env }) => ({ from, to, calls, errors, leaf, env }));
      expect(edges.sort((a, b) => a.to.localeCompare(b.to))).toEqual([
        { from: 'web', to: 'api', calls: 1, errors: 0, leaf: false, env: 'prod' },
        { from: 'api', to: 'billing', calls: 1, errors: 0, leaf: false, env: 'prod' },
        { from: 'api', to: 'postgresql', calls: 1, errors: 1, leaf: true, env: 'prod' },
      ]);
      // A second call adds up; the p95 comes from the called side's durations.
      await store.write(batch([[span({ ...web, traceId: 22n }), span({ ...api, traceId: 22n, duration: 6_000_000 })]]));
      const webApi = (await store.readRollups('edge', day)).map((r) => r.data as EdgeData).find((d) => d.to === 'api')!;
      expect(webApi.calls).toBe(2);
      expect(histPercentile(webApi.hist, 0.95)).toBeGreaterThan(5_700_000);
      expect(histPercentile(webApi.hist, 0.95)).toBeLessThan(6_300_000);
      // Outside the range: nothing.
      expect(await store.readRollups('edge', { start: T0 + 7_200_000n * MS, end: T0 + 9_000_000n * MS })).toEqual([]);
    });

    it('counts a call out that no traced service answered as a call to its leaf, once its wait is over', async () => {
      const day = { start: T0 - 3_600_000n * MS, end: T0 + 3_600_000n * MS };
      await store.write(batch([[span({ traceId: 41n, spanId: 1n, service: 'api', name: 'http.request', type: 'http', meta: { env: 'prod', 'span.kind': 'client', 'out.host': 'payments.example', 'http.method': 'POST' } })]]));
      expect(await store.readRollups('edge', day)).toEqual([]);
      // Maintenance runs with retention; these halves were written long enough ago (T0).
      await store.enforceRetention(0n, 0);
      expect((await store.readRollups('edge', day)).map((r) => r.data)).toMatchObject([{ from: 'api', to: 'payments.example', toType: 'http', leaf: true, calls: 1 }]);
    });

    it('rolls up error spans by fingerprint, for error tracking', async () => {
      const day = { start: T0 - 3_600_000n * MS, end: T0 + 3_600_000n * MS };
      const boom = (traceId: bigint, id: string, at: bigint) => span({
        traceId, spanId: 1n, start: at, error: 1,
        meta: { env: 'prod', 'error.type': 'TypeError', 'error.message': `order ${id} not found`, 'error.stack': `TypeError: x\n    at find (/app/orders.js:${traceId}:3)\n    at main (/app/index.js:9:1)` },
      });
      await store.write(batch([[boom(31n, '1234', T0)]]));
      await store.write(batch([[boom(32n, '98765', T0 + 60_000n * MS)]]));
      await store.write(batch([[span({ traceId: 33n, spanId: 1n, error: 1, meta: { env: 'prod', 'error.type': 'RangeError', 'error.message': 'too big' } })]]));
      const groups = (await store.readRollups('error', day)).map((r) => r.data as ErrorData).sort((a, b) => b.count - a.count);
      expect(groups).toHaveLength(2);
      expect(groups[0]).toMatchObject({ service: 'checkout', env: 'prod', errorType: 'TypeError', message: 'order ? not found', count: 2, firstSeen: Number(T0 / MS), lastSeen: Number(T0 / MS) + 60_000 });
      expect(groups[0]!.samples.sort()).toEqual(['000000000000001f', '0000000000000020']);
      expect(groups[1]).toMatchObject({ errorType: 'RangeError', count: 1 });
    });

    it('keeps what people decided of error groups, the last word for each', async () => {
      if (!store.setErrorStatus || !store.errorStatuses) throw new Error('a store must keep error statuses');
      expect(await store.errorStatuses()).toEqual([]);
      await store.setErrorStatus('00000000000000aa', 'resolved', T0);
      await store.setErrorStatus('00000000000000bb', 'ignored', T0 + 1n);
      await store.setErrorStatus('00000000000000aa', 'open', T0 + 2n);
      expect((await store.errorStatuses()).sort((a, b) => (a.group < b.group ? -1 : 1))).toEqual([
        { group: '00000000000000aa', status: 'open', changedAt: T0 + 2n },
        { group: '00000000000000bb', status: 'ignored', changedAt: T0 + 1n },
      ]);
    });

    it('keeps monitors muted until when, for every replica; unmuting takes the mute away', async () => {
      if (!store.setMonitorMute || !store.monitorMutes) throw new Error('a store must keep monitor mutes');
      expect(await store.monitorMutes()).toEqual([]);
      await store.setMonitorMute('checkout-errors', T0);
      await store.setMonitorMute('checkout-p95', T0 + 5n);
      await store.setMonitorMute('checkout-errors', T0 + 9n);
      await store.setMonitorMute('checkout-p95', null);
      expect(await store.monitorMutes()).toEqual([{ monitor: 'checkout-errors', until: T0 + 9n }]);
    });

    it('keeps monitors made in the UI, replaced by their id, until deleted', async () => {
      if (!store.saveMonitor || !store.savedMonitors) throw new Error('a store must keep monitors');
      expect(await store.savedMonitors()).toEqual([]);
      await store.saveMonitor('b', '{"id":"b","service":"s","metric":"error_rate","critical":5}');
      await store.saveMonitor('a', '{"id":"a"}');
      await store.saveMonitor('b', '{"id":"b","critical":7}');
      expect(await store.savedMonitors()).toEqual([{ id: 'a', definition: '{"id":"a"}' }, { id: 'b', definition: '{"id":"b","critical":7}' }]);
      await store.saveMonitor('a', null);
      expect((await store.savedMonitors()).map((m) => m.id)).toEqual(['b']);
    });

    it('keeps remote configurations with a version each, and a revision that goes up at every change and removal', async () => {
      if (!store.saveRemoteConfig || !store.remoteConfigs) throw new Error('a store must keep remote configuration');
      expect(await store.remoteConfigs()).toEqual({ revision: 0, configs: [] });
      await store.saveRemoteConfig('b', '{"service":"b"}');
      await store.saveRemoteConfig('a', '{"service":"a"}');
      let kept = await store.remoteConfigs();
      expect(kept.configs.map((c) => c.id)).toEqual(['a', 'b']);
      const [va, vb] = [kept.configs[0]!.version, kept.configs[1]!.version];
      expect(va).toBeGreaterThan(vb);
      expect(kept.revision).toBe(va);
      await store.saveRemoteConfig('b', '{"service":"b","sampleRate":0.5}');
      kept = await store.remoteConfigs();
      expect(kept.configs[1]).toEqual({ id: 'b', definition: '{"service":"b","sampleRate":0.5}', version: kept.revision });
      expect(kept.revision).toBeGreaterThan(va);
      const before = kept.revision;
      await store.saveRemoteConfig('a', null);
      kept = await store.remoteConfigs();
      expect(kept.configs.map((c) => c.id)).toEqual(['b']);
      expect(kept.revision).toBeGreaterThan(before);
      // Removing what is not there changes nothing.
      await store.saveRemoteConfig('zz', null);
      expect((await store.remoteConfigs()).revision).toBe(kept.revision);
      // Set again after a removal: served again, at a newer version.
      await store.saveRemoteConfig('a', '{"service":"a"}');
      expect((await store.remoteConfigs()).configs.find((c) => c.id === 'a')!.version).toBeGreaterThan(kept.revision);
    });

    it("keeps monitors' changes of state, newest first, one per monitor and time", async () => {
      if (!store.saveMonitorEvent || !store.monitorEvents) throw new Error('a store must keep monitor events');
      await store.saveMonitorEvent('a', T0, '{"to":"ALERT"}');
      await store.saveMonitorEvent('b', T0 + 1n, '{"to":"WARN"}');
      await store.saveMonitorEvent('a', T0, '{"to":"ALERT","sent":[1]}');
      await store.saveMonitorEvent('a', T0 + 2n, '{"to":"OK"}');
      expect(await store.monitorEvents(10)).toEqual([
        { monitor: 'a', at: T0 + 2n, event: '{"to":"OK"}' }, { monitor: 'b', at: T0 + 1n, event: '{"to":"WARN"}' }, { monitor: 'a', at: T0, event: '{"to":"ALERT","sent":[1]}' },
      ]);
      expect(await store.monitorEvents(1)).toHaveLength(1);
      // Older than 30 days: gone with the next one kept.
      await store.saveMonitorEvent('c', T0 + 31n * 86_400_000_000_000n, '{"to":"OK"}');
      expect((await store.monitorEvents(10)).map((e) => e.monitor)).toEqual(['c']);
    });

    if (capabilities.getTraces) it('reads several traces at once as it reads each, in the order asked', async () => {
      if (!store.getTraces) throw new Error('this store says it reads several traces at once, and has no getTraces');
      await store.write(batch([[span({ traceId: 1n, spanId: 1n, meta: { env: 'prod', '_dd.p.tid': '00000000000000aa' } })], [span({ traceId: 2n, spanId: 1n, start: T0 + MS }), span({ traceId: 2n, spanId: 2n, parentId: 1n, start: T0 + 2n * MS })]]));
      const got = await store.getTraces([tid('2'), tid('63'), tid('00000000000000aa0000000000000001'), tid('00000000000000bb0000000000000001')]);
      expect(got).toEqual([await store.getTrace(tid('2')), undefined, await store.getTrace(tid('00000000000000aa0000000000000001')), undefined]);
      expect(got[0]!.spans).toHaveLength(2);
      expect(await store.getTraces([])).toEqual([]);
    });

    it('merges chunks of one trace that arrive in separate payloads, child first', async () => {
      await store.write(batch([[span({ traceId: 7n, spanId: 2n, parentId: 1n, service: 'db', start: T0 + MS, duration: 1_000_000 })]]));
      let t = await store.getTrace(tid('7'));
      expect(t!.summary.incomplete).toBe(true);
      await store.write(batch([[span({ traceId: 7n, spanId: 1n, duration: 50_000_000 })]]));
      t = await store.getTrace(tid('7'));
      // Services are listed in the order their chunks start: the root's first.
      expect(t!.summary).toMatchObject({ incomplete: false, rootService: 'checkout', spanCount: 2, duration: 50_000_000, services: ['checkout', 'db'] });
    });

    it('keeps span links, span events and meta_struct', async () => {
      const s = span({
        traceId: 9n, spanId: 1n,
        spanLinks: [{ traceId: 5n, traceIdHigh: 0n, spanId: 6n, attributes: { 'link.name': 'x' } }],
        spanEvents: [{ timeUnixNano: T0, name: 'exception', attributes: { 'exception.message': 'boom' } }],
        metaStruct: { appsec: new Uint8Array([1, 2, 3]) },
      });
      await store.write(batch([[s]]));
      const got = (await store.getTrace(tid('9')))!.spans[0]!.span;
      expect(got.spanLinks).toEqual([{ traceId: 5n, traceIdHigh: 0n, spanId: 6n, attributes: { 'link.name': 'x' } }]);
      expect(got.spanEvents).toEqual([{ timeUnixNano: T0, name: 'exception', attributes: { 'exception.message': 'boom' } }]);
      expect(got.metaStruct).toEqual({ appsec: new Uint8Array([1, 2, 3]) });
    });

    it('searches by service, resource, error, duration, env and time, newest first', async () => {
      await store.write(batch([
        [span({ traceId: 1n, spanId: 1n, start: T0, duration: 5_000_000 })],
        [span({ traceId: 2n, spanId: 1n, start: T0 + 10n * MS, error: 1 }), span({ traceId: 2n, spanId: 2n, parentId: 1n, service: 'db', resource: 'SELECT ?', start: T0 + 11n * MS, duration: 300_000_000 })],
        [span({ traceId: 3n, spanId: 1n, start: T0 + 20n * MS, meta: { env: 'staging' }, resource: 'POST /pay' })],
      ]));
      const ids = async (q: Parameters<TraceStore['searchTraces']>[0]) => (await store.searchTraces(q)).map((t) => t.traceId.low.toString(16));
      expect(await ids({ limit: 10 })).toEqual(['3', '2', '1']);
      expect(await ids({ limit: 2 })).toEqual(['3', '2']);
      expect(await ids({ service: 'checkout', limit: 10 })).toEqual(['3', '2', '1']);
      expect(await ids({ service: 'db', limit: 10 })).toEqual(['2']);
      expect(await ids({ service: 'checkout', resource: 'POST /pay', limit: 10 })).toEqual(['3']);
      expect(await ids({ error: true, limit: 10 })).toEqual(['2']);
      expect(await ids({ error: false, service: 'checkout', limit: 10 })).toEqual(['3', '1']);
      expect(await ids({ minDurationNs: 100_000_000, limit: 10 })).toEqual(['2']);
      expect(await ids({ env: 'staging', limit: 10 })).toEqual(['3']);
      expect(await ids({ service: 'checkout', env: 'prod', limit: 10 })).toEqual(['2', '1']);
      expect(await ids({ start: T0 + MS, end: T0 + 15n * MS, limit: 10 })).toEqual(['2']);
      expect(await ids({ service: 'nope', limit: 10 })).toEqual([]);
    });

    it('finds the newest traces when their matches fill many pages of the index', async () => {
      // Five traces of 300 error spans each, one after the other: the newest three are 5, 4, 3.
      for (let t = 1n; t <= 5n; t++) {
        const chunk = [span({ traceId: t, spanId: 1n, start: T0 + t * 1000n * MS, error: 1 })];
        for (let i = 2n; i <= 300n; i++) chunk.push(span({ traceId: t, spanId: i, parentId: 1n, start: T0 + t * 1000n * MS + i * MS, error: 1, service: 'db' }));
        await store.write(batch([chunk]));
      }
      const ids = async (q: Parameters<TraceStore['searchTraces']>[0]) => (await store.searchTraces(q)).map((t) => t.traceId.low.toString(16));
      expect(await ids({ error: true, limit: 3 })).toEqual(['5', '4', '3']);
      expect(await ids({ service: 'db', limit: 5 })).toEqual(['5', '4', '3', '2', '1']);
      expect(await ids({ error: true, end: T0 + 3000n * MS, limit: 10 })).toEqual(['2', '1']);
    });

    it('finds traces by a tag any of their spans carries, in the range, through the tag index', async () => {
      // 40 payloads of 10 traces, 10 ms apart; every 37th trace's child span carries the tag, in
      // any case; some traces carry it as a metric, one has it in meta with another value (which
      // wins over its metric, as searches read tags).
      const want = new Set<bigint>();
      for (let p = 0n; p < 40n; p++) {
        const chunks: Span[][] = [];
        for (let i = 0n; i < 10n; i++) {
          const t = p * 10n + i + 1n;
          const start = T0 + t * 10n * MS;
          const child: Partial<Span> = t % 37n === 0n ? { meta: { env: 'prod', 'customer.tier': t % 2n === 0n ? 'Platinum' : 'platinum' } } : {};
          if (t % 53n === 0n) child.metrics = { 'http.status_code': 503 };
          if (t === 106n) child.meta = { env: 'prod', 'http.status_code': '200' };
          chunks.push([span({ traceId: t, spanId: 1n, start }), span({ traceId: t, spanId: 2n, parentId: 1n, service: 'db', start: start + MS, ...child })]);
          if (t % 37n === 0n) want.add(t);
        }
        await store.write(batch(chunks, { receivedAt: T0 + (p * 10n + 10n) * 10n * MS }));
      }
      const ids = async (q: Parameters<TraceStore['searchTraces']>[0]) => (await store.searchTraces(q)).map((t) => t.traceId.low);
      const tier = { key: 'customer.tier', value: 'PLATINUM' };
      const all = [...want].sort((a, b) => (a > b ? -1 : 1));
      expect(await ids({ tag: tier, limit: 1000 })).toEqual(all);
      for (const limit of [1, 3, 10]) {
        const page = await ids({ tag: tier, limit });
        expect(page).toHaveLength(limit);
        for (const id of page) expect(want.has(id)).toBe(true);
      }
      // The range holds the span with the tag: the child starts 1 ms after its trace.
      expect(await ids({ tag: tier, start: T0 + 370n * MS + MS, end: T0 + 740n * MS + 2n * MS, limit: 100 })).toEqual([74n, 37n]);
      expect(await ids({ tag: tier, start: T0 + 370n * MS + 2n * MS, end: T0 + 740n * MS + MS, limit: 100 })).toEqual([]);
      expect(await ids({ tag: { key: 'http.status_code', value: '503' }, limit: 100 })).toEqual([371n, 318n, 265n, 212n, 159n, 53n]);
      expect(await ids({ tag: { key: 'customer.tier', value: 'gold' }, limit: 100 })).toEqual([]);
      expect(await ids({ tag: { key: 'customer.tiers', value: 'platinum' }, limit: 100 })).toEqual([]);
    });

    it('finds free text in resources, operation names and error messages through the tag index', async () => {
      const at = (t: bigint) => T0 + t * 10n * MS;
      await store.write(batch([
        [span({ traceId: 1n, spanId: 1n, start: at(1n), resource: 'GET /carts/{id}' })],
        [span({ traceId: 2n, spanId: 1n, start: at(2n), resource: 'POST /pay' }), span({ traceId: 2n, spanId: 2n, parentId: 1n, start: at(2n), name: 'redis.command', resource: 'GET' })],
        [span({ traceId: 3n, spanId: 1n, start: at(3n), resource: 'POST /ship', error: 1, meta: { env: 'prod', 'error.message': 'Upstream TIMEOUT after 30s' } })],
        [span({ traceId: 4n, spanId: 1n, start: at(4n), resource: 'GET /time' })],
      ]));
      const ids = async (value: string, range: { start?: bigint; end?: bigint } = {}) =>
        (await store.searchTraces({ tag: { key: '*text', value }, limit: 100, ...range })).map((t) => t.traceId.low).sort();
      expect(await ids('/cart')).toEqual([1n]);
      expect(await ids('CARTS/{ID}')).toEqual([1n]);
      expect(await ids('redis.com')).toEqual([2n]);
      expect(await ids('timeout')).toEqual([3n]);
      expect(await ids('time')).toEqual([3n, 4n]);
      expect(await ids('time', { start: at(4n) })).toEqual([4n]);
      expect(await ids('nowhere')).toEqual([]);
    });

    it('uses the payload env for spans without one', async () => {
      await store.write(batch([[span({ traceId: 1n, spanId: 1n, meta: {} })]], { env: 'from-payload' }));
      expect((await store.getTrace(tid('1')))!.spans[0]!.env).toBe('from-payload');
    });

    it('deletes by age and leaves newer data whole', async () => {
      // With partitions, the later trace is in the next one and the cutoff just past its start.
      const width = capabilities.retentionPartitionNs;
      const later = width === undefined ? T0 + 3600n * 1000n * MS : nextPartition(T0, width) + 3600n * 1000n * MS;
      const cutoff = width === undefined ? T0 + 1000n * MS : nextPartition(T0, width) + 1000n * MS;
      await store.write(batch([[span({ traceId: 1n, spanId: 1n, start: T0 })]]));
      await store.write(batch([[span({ traceId: 2n, spanId: 1n, start: later })]], { receivedAt: later }));
      expect(await store.stats()).toMatchObject({ spans: 2, payloads: 2 });
      // Within the partition the cutoff falls in, nothing is deleted row by row.
      if (width !== undefined) {
        expect(await store.enforceRetention(T0 + 1000n * MS, 0)).toMatchObject({ deletedSpans: 0, reason: 'none' });
        expect(await store.stats()).toMatchObject({ spans: 2, payloads: 2 });
      }
      const r = await store.enforceRetention(cutoff, 0);
      expect(r).toMatchObject({ deletedSpans: 1, reason: 'age' });
      // The counts follow writes and deletions.
      expect(await store.stats()).toMatchObject({ spans: 1, payloads: 1 });
      await store.write(batch([[span({ traceId: 3n, spanId: 1n, start: later }), span({ traceId: 3n, spanId: 2n, parentId: 1n, start: later })]], { receivedAt: later }));
      expect(await store.stats()).toMatchObject({ spans: 3, payloads: 2 });
      expect(await store.getTrace(tid('1'))).toBeUndefined();
      expect((await store.getTrace(tid('2')))!.spans).toHaveLength(1);
    });

    // Only for a backend that can: a test it could not pass would be a skip in every run.
    if (capabilities.sizeRetention !== false) it('deletes the oldest data when over the size limit', async () => {
      const big = 'x'.repeat(4000);
      for (let i = 1; i <= 60; i++) {
        await store.write(batch([[span({ traceId: BigInt(i), spanId: 1n, start: T0 + BigInt(i) * MS, meta: { env: 'prod', big } })]]));
      }
      // 60 spans of 4 KB: about 240 KB of live data, whatever the write-ahead log holds; the
      // limit leaves room for the schema's own pages (a page or more a table and index) and some.
      const limit = 128 * 1024;
      const r = await store.enforceRetention(0n, limit);
      expect(r.reason).toBe('size');
      const after = await store.stats();
      expect(after.diskBytes).toBeLessThanOrEqual(limit);
      expect(await store.getTrace(tid('1'))).toBeUndefined();
      expect(await store.getTrace(tid(60n.toString(16)))).toBeDefined();
    });

    it('writes a batch atomically: a failing batch leaves nothing behind', async () => {
      const bad = batch([[span({ traceId: 1n, spanId: 1n })]]);
      // A value the store cannot serialize makes the write fail midway.
      (bad.chunks[0]![0]!.meta as Record<string, unknown>)['loop'] = 1n;
      bad.chunks.unshift([span({ traceId: 2n, spanId: 1n })]);
      await expect(store.write(bad)).rejects.toThrow();
      expect(await store.getTrace(tid('2'))).toBeUndefined();
      expect((await store.stats()).spans).toBe(0);
    });

    it('keeps stats rows with their sketches, finds them by group fields and time, and expires them', async () => {
      const row = (start: bigint, resource: string, durations: number[]): StatsRow => {
        const ok = newSketch();
        for (const d of durations) ok.accept(d);
        return {
          start, durationNs: 10_000_000_000n, service: 'checkout', name: 'web.request', resource, type: 'web', env: 'prod', version: '1.2',
          httpStatusCode: 200, spanKind: 'server', isTraceRoot: true, synthetics: false, peerTags: ['peer.service:db'],
          hits: durations.length, topLevelHits: durations.length, errors: 0, totalDuration: durations.reduce((a, b) => a + b, 0),
          okSketch: ok, errorSketch: newSketch(), source: 'agent',
        };
      };
      await store.writeStats([row(T0, 'GET /a', [1000, 2000, 3000]), row(T0 + 10_000_000_000n, 'GET /b', [5000])]);
      const all = await store.queryStats({ start: T0, end: T0 + 20_000_000_000n });
      expect(all).toHaveLength(2);
      expect(all[0]).toMatchObject({ start: T0, resource: 'GET /a', hits: 3, totalDuration: 6000, peerTags: ['peer.service:db'], isTraceRoot: true, httpStatusCode: 200 });
      expect(all[0]!.okSketch.count).toBe(3);
      expect(Math.abs(all[0]!.okSketch.getValueAtQuantile(0.5) - 2000) / 2000).toBeLessThan(0.011);
      // Counts only: the same rows and counts, no sketches read.
      const counts = await store.queryStats({ start: T0, end: T0 + 20_000_000_000n, countsOnly: true });
      expect(counts.map((r) => [r.resource, r.hits, r.errors, r.totalDuration, r.okSketch.count])).toEqual([['GET /a', 3, 0, 6000, 0], ['GET /b', 1, 0, 5000, 0]]);
      // Summed in the store per value of one field (and version).
      const summed = await store.queryStats({ start: T0, end: T0 + 20_000_000_000n, countsOnly: true, sumBy: 'service' });
      expect(summed.map((r) => [r.service, r.version, r.hits, r.errors, r.totalDuration, r.isTraceRoot])).toEqual([['checkout', '1.2', 4, 0, 11000, true]]);
      expect(await store.queryStats({ start: T0, end: T0 + 20_000_000_000n, resource: 'GET /b' })).toHaveLength(1);
      expect(await store.queryStats({ start: T0 + 10_000_000_000n, end: T0 + 20_000_000_000n })).toHaveLength(1);
      expect(await store.queryStats({ start: T0, end: T0 + 20_000_000_000n, service: 'other' })).toEqual([]);
      // Expired with the cutoff (a partitioned store: with their partition, so both rows of it).
      const width = capabilities.retentionPartitionNs;
      await store.enforceRetention(width === undefined ? T0 + 5_000_000_000n : nextPartition(T0, width), 0);
      expect((await store.queryStats({ start: T0, end: T0 + 20_000_000_000n })).map((r) => r.resource)).toEqual(width === undefined ? ['GET /b'] : []);
    });

    it('sums top-level stats per service, operation and version for any range, exactly at its ragged ends', async () => {
      const S = 1_000_000_000n;
      const slot = 600n * S;
      // An hour-aligned origin, so the range below starts 9 minutes into a 10-minute slot.
      const base = (T0 / (6n * slot)) * 6n * slot;
      const row = (at: bigint, name: string, hits: number, errors: number, version = '1.0'): StatsRow => {
        const ok = newSketch();
        for (let i = 0; i < hits - errors; i++) ok.accept(1000 * (i + 1));
        const err = newSketch();
        for (let i = 0; i < errors; i++) err.accept(5000);
        return {
          start: base + at, durationNs: 10n * S, service: 'web', name, resource: 'GET /', type: 'web', env: 'prod', version,
          httpStatusCode: 200, spanKind: 'server', isTraceRoot: true, synthetics: false, peerTags: [], hits, topLevelHits: hits, errors,
          totalDuration: hits * 1000, okSketch: ok, errorSketch: err, source: 'agent',
        };
      };
      // One bucket before the range, then buckets across three slots, one after; and a row that is not top-level.
      const inner = { ...row(700n * S, 'db.query', 7, 0), topLevelHits: 0 };
      await store.writeStats([row(530n * S, 'web.request', 100, 0), row(550n * S, 'web.request', 3, 1), row(590n * S, 'web.request', 4, 0, '1.1')]);
      await store.writeStats([row(700n * S, 'web.request', 5, 2), row(1300n * S, 'web.request', 6, 0), row(1310n * S, 'dns.lookup', 1, 0), inner]);
      await store.writeStats([row(1810n * S, 'web.request', 2, 0), row(1850n * S, 'web.request', 100, 0)]);
      const got = await store.serviceStats({ start: base + 540n * S, end: base + 1820n * S });
      const by = (name: string, version: string) => got.find((r) => r.name === name && r.version === version);
      expect(by('web.request', '1.0')).toMatchObject({ service: 'web', env: 'prod', type: 'web', topLevelHits: 3 + 5 + 6 + 2, errors: 3, lastSeen: base + 1820n * S, firstSeen: base + 550n * S });
      // A group's first request in the range, to its 10-s bucket, whether read from the 10-s rows
      // or a slot (dns.lookup's, at 1310 s, from the 10-minute slot of 1200 s).
      expect(by('dns.lookup', '1.0')!.firstSeen).toBe(base + 1310n * S);
      expect(by('web.request', '1.0')!.okSketch.count + by('web.request', '1.0')!.errorSketch.count).toBe(16);
      expect(by('web.request', '1.1')).toMatchObject({ topLevelHits: 4 });
      expect(by('dns.lookup', '1.0')).toMatchObject({ topLevelHits: 1 });
      expect(got.find((r) => r.name === 'db.query')).toBeUndefined();
      // Within one slot, and a range that is all of it.
      expect((await store.serviceStats({ start: base + 1300n * S, end: base + 1305n * S })).map((r) => [r.name, r.topLevelHits])).toEqual([['web.request', 6]]);
      const whole = await store.serviceStats({ start: 0n, end: base + 3600n * S });
      expect(whole.filter((r) => r.name === 'web.request').reduce((n, r) => n + r.topLevelHits, 0)).toBe(220);
      // Retention takes the rows before the cutoff and the slots that ended before it.
      await store.writeStats([row(3700n * S, 'web.request', 50, 0)]);
      await store.enforceRetention(base + 3610n * S, 0);
      for (const [start, end] of [[0n, base + 7200n * S], [base + 3610n * S, base + 3800n * S]] as const) {
        const after = await store.serviceStats({ start, end });
        expect(after.filter((r) => r.name === 'web.request').reduce((n, r) => n + r.topLevelHits, 0)).toBe(50);
      }
      // The 10-s rows go with the cutoff, or a partitioned store's with their partition (all ten here).
      expect(await store.queryStats({ start: 0n, end: base + 7200n * S })).toHaveLength(capabilities.retentionPartitionNs === undefined ? 1 : 10);
    });
  });
}
