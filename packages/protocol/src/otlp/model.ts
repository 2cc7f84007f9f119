/*
 * An OTLP ExportTraceServiceRequest as plain data, whether it came as protobuf or JSON: what the
 * mapping to Datadog spans reads. Ids are bytes (16 and 8), times nanoseconds as bigint.
 */

export type OtlpValue =
  | { string: string } | { bool: boolean } | { int: bigint } | { double: number }
  | { array: OtlpValue[] } | { kvlist: OtlpAttribute[] } | { bytes: Uint8Array } | { empty: true };

export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

export interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: OtlpAttribute[];
  droppedAttributesCount: number;
}

export interface OtlpLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: OtlpAttribute[];
  droppedAttributesCount: number;
}

export interface OtlpSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  name: string;
  /** 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpAttribute[];
  events: OtlpEvent[];
  links: OtlpLink[];
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
}

export interface OtlpScopeSpans {
  scopeName: string;
  scopeVersion: string;
  scopeAttributes: OtlpAttribute[];
  spans: OtlpSpan[];
}

export interface OtlpResourceSpans {
  resourceAttributes: OtlpAttribute[];
  scopeSpans: OtlpScopeSpans[];
}

export interface OtlpTraceRequest {
  resourceSpans: OtlpResourceSpans[];
}

/** An attribute's value as Datadog meta keeps it: a string (arrays and maps as JSON). */
export function valueString(v: OtlpValue): string {
  if ('string' in v) return v.string;
  if ('bool' in v) return v.bool ? 'true' : 'false';
  if ('int' in v) return v.int.toString();
  if ('double' in v) return String(v.double);
  if ('bytes' in v) return Buffer.from(v.bytes).toString('base64');
  if ('empty' in v) return '';
  return JSON.stringify(plain(v));
}

/** A value as plain JSON data (int64 as a number when safe). */
export function plain(v: OtlpValue): unknown {
  if ('string' in v) return v.string;
  if ('bool' in v) return v.bool;
  if ('int' in v) return Number.isSafeInteger(Number(v.int)) ? Number(v.int) : v.int.toString();
  if ('double' in v) return v.double;
  if ('bytes' in v) return Buffer.from(v.bytes).toString('base64');
  if ('array' in v) return v.array.map(plain);
  if ('kvlist' in v) return Object.fromEntries(v.kvlist.map((a) => [a.key, plain(a.value)]));
  return null;
}
