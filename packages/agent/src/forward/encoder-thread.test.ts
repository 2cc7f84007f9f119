import { gunzipSync } from 'node:zlib';
import { emptySpan, encodeOtlpFromDatadog, TraceIdHighCache, type Span } from '@ecs-trace/protocol';
import { describe, expect, it } from 'vitest';
import { packBatch, type WriteBatch } from '../store/index.js';
import { encodeAgentPayload, type AgentPayloadInfo } from './agent-payload.js';
import { encodeJob } from './encode-job.js';
import { EncoderBusyError, EncoderThread } from './encoder-thread.js';

/*
 * Outlets encode from the store's segment blob, on a thread: what they send must be exactly what
 * encoding the kept spans themselves gives (the real dd-trace through forwarding is in e2e).
 */

const info: AgentPayloadInfo = { hostName: 'ip-10-0-0-1', env: 'prod', agentVersion: '7.60.0', targetTPS: 10, errorTPS: 10, rareSamplerEnabled: false };

function span(over: Partial<Span>): Span {
  return { ...emptySpan(), service: 'web', name: 'http.request', resource: 'GET /', type: 'web', traceId: 7n, spanId: 1n, start: 1_700_000_000_000_000_000n, duration: 1500, ...over };
}

function batch(n: number): WriteBatch {
  const chunks: Span[][] = [];
  for (let i = 0; i < n; i++) {
    const traceId = BigInt(1000 + i) * 0x1_0000_0001n;
    chunks.push([
      span({ traceId, spanId: 1n, meta: { env: 'prod', '_dd.p.tid': '6650a1b200000000', 'http.url': 'http://x/' }, metrics: { _sampling_priority_v1: 2, _top_level: 1 } }),
      span({
        traceId, spanId: 2n, parentId: 1n, service: 'db', name: 'pg.query', error: 1, meta: { 'error.message': 'boom', 'sql.query': 'SELECT ?' }, metrics: { 'db.row_count': 3.5 },
        metaStruct: { appsec: new Uint8Array([0x81, 0xa1, 0x61, 0x01]) },
        spanLinks: [{ traceId: 99n, traceIdHigh: 5n, spanId: 3n, attributes: { 'link.kind': 'follows' }, tracestate: 'dd=s:1', flags: 1 }],
      }),
    ]);
  }
  return { chunks, env: 'prod', hostname: 'h', containerId: 'c0ffee', lang: 'nodejs', tracerVersion: '5.0.0', receivedAt: 1n };
}

describe('encoding for outlets from the segment blob', () => {
  it('writes the same AgentPayload and OTLP request as the spans themselves give', () => {
    const batches = [batch(3), batch(1)];
    const packed = batches.map(packBatch);
    expect(packed.map((p) => p.spans)).toEqual([6, 2]);
    expect(encodeJob({ format: 'datadog', info, batches: packed }, new TraceIdHighCache())).toEqual(encodeAgentPayload(info, batches));
    expect(encodeJob({ format: 'otlp', batches: packed }, new TraceIdHighCache())).toEqual(encodeOtlpFromDatadog(batches));
  });

  it('on its thread: gzipped bodies in order, a job past the bound refused, close after the last job', async () => {
    const encoder = new EncoderThread(1);
    const job = () => ({ format: 'datadog' as const, info, batches: [packBatch(batch(50))] });
    const expected = encodeJob(job(), new TraceIdHighCache());
    const first = encoder.encode(job());
    // The first job always goes; another while it waits would pass the 1-byte bound.
    await expect(encoder.encode(job())).rejects.toThrow(EncoderBusyError);
    expect(gunzipSync(await first)).toEqual(expected);
    const otlp = () => ({ format: 'otlp' as const, batches: [packBatch(batch(2))] });
    expect(gunzipSync(await encoder.encode(otlp()))).toEqual(encodeJob(otlp(), new TraceIdHighCache()));
    // A blob that is not a segment fails its job, not the thread.
    const broken = { ...packBatch(batch(1)), blob: new Uint8Array([0x92, 0xa1]) };
    await expect(encoder.encode({ format: 'datadog', info, batches: [broken] })).rejects.toThrow(/could not be encoded/);
    expect(gunzipSync(await encoder.encode(job()))).toEqual(expected);
    const wide = new EncoderThread(1 << 30);
    const many = Array.from({ length: 5 }, (_, i) => wide.encode({ format: 'datadog', info: { ...info, env: `e${i}` }, batches: [packBatch(batch(i + 1))] }));
    const closing = wide.close();
    await expect(wide.encode(job())).rejects.toThrow(/closed/);
    await closing;
    const got = await Promise.all(many);
    got.forEach((b, i) => expect(gunzipSync(b)).toEqual(encodeAgentPayload({ ...info, env: `e${i}` }, [batch(i + 1)])));
    await encoder.close();
  });
});
