import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from './decode-json.js';
import { decodeOtlpProtobuf } from './decode-protobuf.js';
import { otlpToDatadog } from './to-datadog.js';
import type { OtlpSpan, OtlpTraceRequest } from './model.js';

/* The OTLP codecs and the mapping's rules, each with the Datadog Agent's expected form. */

const id = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

function request(span: Partial<OtlpSpan>, resource: Record<string, string> = { 'service.name': 'svc' }): OtlpTraceRequest {
  return {
    resourceSpans: [{
      resourceAttributes: Object.entries(resource).map(([key, v]) => ({ key, value: { string: v } })),
      scopeSpans: [{
        scopeName: 'lib', scopeVersion: '1', scopeAttributes: [],
        spans: [{
          traceId: id('0102030405060708090a0b0c0d0e0f10'), spanId: id('1112131415161718'), traceState: '', parentSpanId: new Uint8Array(0),
          name: 'op', kind: 1, startTimeUnixNano: 1_000n, endTimeUnixNano: 3_000n, attributes: [], events: [], links: [], statusCode: 0, statusMessage: '', ...span,
        }],
      }],
    }],
  };
}
const one = (r: OtlpTraceRequest) => otlpToDatadog(r)[0]!.chunks[0]![0]!;
const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? { int: BigInt(v) } : { string: v } });

describe('OTLP to Datadog spans', () => {
  it('takes ids big-endian (the trace id\'s low half), times and the service', () => {
    const s = one(request({}));
    expect(s).toMatchObject({ traceId: 0x090a0b0c0d0e0f10n, spanId: 0x1112131415161718n, parentId: 0n, start: 1000n, duration: 2000, service: 'svc' });
    expect(s.meta['otel.trace_id']).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(s.meta['_dd.p.tid']).toBe('0102030405060708');
    expect(one(request({}, {})).service).toBe('otlpresourcenoservicename');
  });

  it('names operations and resources as the Agent\'s V2 logic does', () => {
    const cases: [number, [string, string | number][], string, string, string][] = [
      [2, [['http.request.method', 'GET'], ['http.route', '/users/:id']], 'http.server.request', 'GET /users/:id', 'web'],
      [3, [['http.request.method', 'POST'], ['http.route', '/x']], 'http.client.request', 'POST', 'http'],
      [3, [['db.system', 'PostgreSQL'], ['db.statement', 'SELECT 1']], 'postgresql.query', 'SELECT 1', 'sql'],
      [3, [['db.system', 'mysql'], ['db.query.text', 'SELECT 2']], 'mysql.query', 'SELECT 2', 'sql'],
      [3, [['db.system', 'clickhouse']], 'clickhouse.query', 'op', 'sql'],
      [3, [['db.system', 'cassandra']], 'cassandra.query', 'op', 'cassandra'],
      [3, [['db.system', 'redis']], 'redis.query', 'op', 'redis'],
      [3, [['db.system', 'memcached']], 'memcached.query', 'op', 'memcached'],
      [3, [['db.system', 'mongodb']], 'mongodb.query', 'op', 'mongodb'],
      [3, [['db.system', 'opensearch']], 'opensearch.query', 'op', 'opensearch'],
      [3, [['db.system', 'dynamodb']], 'dynamodb.query', 'op', 'db'],
      [4, [['messaging.system', 'kafka'], ['messaging.operation', 'publish'], ['messaging.destination.name', 'orders']], 'kafka.publish', 'publish orders', 'custom'],
      [3, [['rpc.system', 'aws-api'], ['rpc.service', 'S3'], ['rpc.method', 'GetObject']], 'aws.s3.request', 'GetObject S3', 'http'],
      [2, [['rpc.system', 'grpc'], ['rpc.method', 'Get'], ['rpc.service', 'Users']], 'grpc.server.request', 'Get Users', 'web'],
      [2, [], 'server.request', 'op', 'web'],
      [1, [['operation.name', 'My.Op'], ['resource.name', 'R']], 'my.op', 'R', 'custom'],
      [5, [], 'Consumer', 'op', 'custom'],
      [2, [['http.request.method', '_OTHER']], 'http.server.request', 'HTTP', 'web'],
    ];
    for (const [kind, attributes, name, resource, type] of cases) {
      const s = one(request({ kind, attributes: attributes.map(([k, v]) => attr(k, v)) }));
      expect({ kind, attributes, name: s.name, resource: s.resource, type: s.type }).toEqual({ kind, attributes, name, resource, type });
    }
  });

  it('turns attributes into meta and metrics, renames HTTP conventions, and maps an ERROR with its exception', () => {
    const s = one(request({
      kind: 2, statusCode: 2, statusMessage: 'bad',
      attributes: [attr('http.response.status_code', 503), attr('url.full', 'http://x/y'), { key: 'ratio', value: { double: 0.5 } }, attr('sampling.priority', 2), attr('datadog.ignored', 'x')],
      events: [{ timeUnixNano: 5n, name: 'exception', attributes: [attr('exception.message', 'boom'), attr('exception.type', 'E'), attr('exception.stacktrace', 'E: boom\n  at x')], droppedAttributesCount: 0 }],
    }, { 'service.name': 'svc', 'deployment.environment.name': 'prod', 'service.version': '1.2', 'container.id': 'abc', 'aws.ecs.task.arn': 'arn:t', 'aws.ecs.cluster.arn': 'arn:aws:ecs:us-east-1:1:cluster/prod' }));
    expect(s.error).toBe(1);
    expect(s.metrics).toMatchObject({ 'http.status_code': 503, ratio: 0.5, _sampling_priority_v1: 2 });
    expect(s.meta).toMatchObject({
      'http.url': 'http://x/y', env: 'prod', version: '1.2', container_id: 'abc', task_arn: 'arn:t', ecs_cluster_name: 'prod',
      'error.msg': 'boom', 'error.type': 'E', 'error.stack': 'E: boom\n  at x', 'otel.status_code': 'Error', 'otel.status_description': 'bad',
      '_dd.span_events.has_exception': 'true', 'span.kind': 'server',
    });
    expect(s.meta).not.toHaveProperty('datadog.ignored');
    const p = otlpToDatadog(request({}, { 'service.name': 'svc', 'container.id': 'c1', 'telemetry.sdk.language': 'python', 'telemetry.sdk.version': '1.30.0' }))[0]!;
    expect(p).toMatchObject({ containerId: 'c1', lang: 'python', tracerVersion: 'otlp-1.30.0' });
  });

  it('keeps a chunk whose spans carry no priority, as the Agent does at 100%', () => {
    const s = one(request({}));
    expect(s.metrics['_sampling_priority_v1']).toBe(1);
    expect(s.meta['_dd.p.dm']).toBe('-9');
  });
});

describe('OTLP codecs', () => {
  it('reads the same request from protobuf and from JSON', () => {
    // trace_id, span_id, name "op", kind 2, start 1000, end 3000, one attribute k="v".
    const span = Buffer.concat([
      Buffer.from([0x0a, 16]), id('0102030405060708090a0b0c0d0e0f10'), Buffer.from([0x12, 8]), id('1112131415161718'),
      Buffer.from([0x2a, 2]), Buffer.from('op'), Buffer.from([0x30, 2]),
      Buffer.from([0x39, 0xe8, 0x03, 0, 0, 0, 0, 0, 0]), Buffer.from([0x41, 0xb8, 0x0b, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0x4a, 8, 0x0a, 1]), Buffer.from('k'), Buffer.from([0x12, 3, 0x0a, 1]), Buffer.from('v'),
    ]);
    const scope = Buffer.concat([Buffer.from([0x12, span.length]), span]);
    const rs = Buffer.concat([Buffer.from([0x12, scope.length]), scope]);
    const fromProto = decodeOtlpProtobuf(Buffer.concat([Buffer.from([0x0a, rs.length]), rs]));
    const fromJson = decodeOtlpJson(Buffer.from(JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0102030405060708090A0B0C0D0E0F10', spanId: '1112131415161718', name: 'op', kind: 2, startTimeUnixNano: '1000', endTimeUnixNano: 3000, attributes: [{ key: 'k', value: { stringValue: 'v' } }] }] }] }],
    })));
    expect(otlpToDatadog(fromJson)).toEqual(otlpToDatadog(fromProto));
    expect(fromProto.resourceSpans[0]!.scopeSpans[0]!.spans[0]).toMatchObject({ name: 'op', kind: 2, startTimeUnixNano: 1000n, endTimeUnixNano: 3000n });
  });

  it('skips fields it does not read, length-delimited ones too (schema_url, as the Go SDK sends it)', () => {
    const schema = (field: number) => Buffer.concat([Buffer.from([(field << 3) | 2, 5]), Buffer.from('s/1.0')]);
    const scope = Buffer.concat([schema(3)]);
    const rs = Buffer.concat([Buffer.from([0x12, scope.length]), scope, schema(3)]);
    const req = decodeOtlpProtobuf(Buffer.concat([Buffer.from([0x0a, rs.length]), rs, schema(9)]));
    expect(req.resourceSpans).toHaveLength(1);
    expect(req.resourceSpans[0]!.scopeSpans).toHaveLength(1);
  });

  it('refuses ids of the wrong length, naming the field, as the Collector does', () => {
    const wrap = (span: Buffer) => {
      const scope = Buffer.concat([Buffer.from([0x12, span.length]), span]);
      const rs = Buffer.concat([Buffer.from([0x12, scope.length]), scope]);
      return Buffer.concat([Buffer.from([0x0a, rs.length]), rs]);
    };
    const long = Buffer.concat([Buffer.from([0x0a, 20]), Buffer.alloc(20, 1), Buffer.from([0x12, 8]), Buffer.alloc(8, 2)]);
    expect(() => decodeOtlpProtobuf(wrap(long))).toThrow(/^request\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: traceId is 20 bytes; an id is 16 bytes \(or empty\)$/);
    const shortSpan = Buffer.concat([Buffer.from([0x0a, 16]), Buffer.alloc(16, 1), Buffer.from([0x12, 4]), Buffer.alloc(4, 2)]);
    expect(() => decodeOtlpProtobuf(wrap(shortSpan))).toThrow(/spans\[0\]: spanId is 4 bytes; an id is 8 bytes/);
    const parent = Buffer.concat([Buffer.from([0x0a, 16]), Buffer.alloc(16, 1), Buffer.from([0x12, 8]), Buffer.alloc(8, 2), Buffer.from([0x22, 9]), Buffer.alloc(9, 3)]);
    expect(() => decodeOtlpProtobuf(wrap(parent))).toThrow(/spans\[0\]: parentSpanId is 9 bytes/);
    const link = Buffer.concat([Buffer.from([0x0a, 16]), Buffer.alloc(16, 1), Buffer.from([0x12, 8]), Buffer.alloc(8, 2), Buffer.from([0x6a, 4, 0x0a, 2, 1, 2])]);
    expect(() => decodeOtlpProtobuf(wrap(link))).toThrow(/spans\[0\]\.links: traceId is 2 bytes/);
    expect(() => decodeOtlpJson(Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '01'.repeat(20), spanId: '02'.repeat(8) }] }] }] })))).toThrow(/spans\[0\]\.traceId: expected 32 hex digits/);
  });

  it('names the field where a body stops making sense', () => {
    expect(() => decodeOtlpProtobuf(Uint8Array.from([0x0a, 2, 0x12, 9]))).toThrow(/^request\.resourceSpans\[0\]: truncated scopeSpans\[0\]/);
    expect(() => decodeOtlpJson(Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}'))).toThrow(/spans\[0\]\.startTimeUnixNano: expected an integer/);
  });
});
