// OTLP ExportTraceServiceRequests written by hand (field numbers of opentelemetry-proto), for the
// perimeter's benchmark and tests: sizes and shapes the SDKs would not send on purpose.
import { randomBytes } from 'node:crypto';

export function varint(n) {
  const out = [];
  while (n >= 128) { out.push((n % 128) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field. */
export const field = (num, body) => Buffer.concat([varint((num << 3) | 2), varint(body.length), body]);
const fixed64 = (num, v) => { const b = Buffer.alloc(9); b[0] = (num << 3) | 1; b.writeBigUInt64LE(v, 1); return b; };
/** A KeyValue's body with a string value; the caller frames it in its field (resource 1, scope 3, span 9). */
export const stringAttr = (key, value) => Buffer.concat([field(1, Buffer.from(key)), field(2, field(1, Buffer.from(value)))]);

/** One span: ids, name, kind server, times, and `attrs` (already encoded KeyValues). */
export function span(name, attrs = [], traceId = randomBytes(16)) {
  const start = BigInt(Date.now()) * 1_000_000n;
  return field(2, Buffer.concat([
    field(1, traceId), field(2, randomBytes(8)), field(5, Buffer.from(name)), Buffer.from([0x30, 2]),
    fixed64(7, start), fixed64(8, start + 1_000_000n), ...attrs.map((a) => field(9, a)),
  ]));
}

/** resourceSpans: a resource with `resourceAttrs`, and scopes each with `scopeAttrs` and its spans. */
export function request(resources) {
  return Buffer.concat(resources.map((r) => field(1, Buffer.concat([
    field(1, Buffer.concat((r.attrs ?? []).map((a) => field(1, a)))),
    ...r.scopes.map((s) => field(2, Buffer.concat([field(1, Buffer.concat([field(1, Buffer.from('bench')), ...(s.attrs ?? []).map((a) => field(3, a))])), ...s.spans]))),
  ]))));
}

/** A request of about `bytes`, of spans with a few attributes each, for one service. */
export function requestOfSize(bytes, service = 'bench-otlp') {
  const one = span('GET /x', [stringAttr('http.request.method', 'GET'), stringAttr('http.route', '/x'), stringAttr('custom', 'v'.repeat(40))]);
  const spans = Array.from({ length: Math.max(1, Math.floor(bytes / one.length)) }, () => span('GET /x', [stringAttr('http.request.method', 'GET'), stringAttr('http.route', '/x'), stringAttr('custom', 'v'.repeat(40))]));
  return request([{ attrs: [stringAttr('service.name', service)], scopes: [{ spans }] }]);
}

/** Export over gRPC with @grpc/grpc-js, resolving the status code (0: OK) and details. */
export function grpcExport(grpc, client, body, deadlineMs = 60_000) {
  return new Promise((resolve) => {
    client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', (b) => b, (b) => b, body, { deadline: Date.now() + deadlineMs }, (err) => {
      resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' });
    });
  });
}
