import { checkJsonShape } from '../decode-json.js';
import { PayloadDecodeError } from '../errors.js';
import type { OtlpAttribute, OtlpEvent, OtlpLink, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpTraceRequest, OtlpValue } from './model.js';

/*
 * ExportTraceServiceRequest in OTLP/JSON (the protobuf JSON mapping with OTLP's exceptions): keys
 * lowerCamelCase, trace and span ids as hex (any case), int64 and fixed64 as decimal strings or
 * numbers, enums as integers, bytes values as base64, unknown fields ignored. The body's shape is
 * checked before it is parsed, as for Datadog's JSON payloads.
 */

type Json = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new PayloadDecodeError(`${where}: ${message}`);
}

const obj = (v: unknown, where: string): Json => {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(where, `expected an object, got ${Array.isArray(v) ? 'an array' : typeof v}`);
  return v as Json;
};
const arr = (v: unknown, where: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(where, `expected an array, got ${typeof v}`);
  return v;
};
const str = (v: unknown, where: string): string => {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(where, `expected a string, got ${typeof v}`);
  return v;
};
const int = (v: unknown, where: string): bigint => {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return BigInt(v);
  return fail(where, `expected an integer (a number or a decimal string), got ${JSON.stringify(v).slice(0, 40)}`);
};
const num = (v: unknown, where: string): number => {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  return fail(where, `expected a number, got ${JSON.stringify(v).slice(0, 40)}`);
};
const hexId = (v: unknown, bytes: number, where: string): Uint8Array => {
  const s = str(v, where);
  if (s === '') return new Uint8Array(0);
  if (s.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(s)) fail(where, `expected ${bytes * 2} hex digits, got ${JSON.stringify(s.slice(0, 40))}`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
};

function value(v: unknown, where: string): OtlpValue {
  const o = obj(v, where);
  if ('stringValue' in o) return { string: str(o['stringValue'], `${where}.stringValue`) };
  if ('boolValue' in o) {
    if (typeof o['boolValue'] !== 'boolean') fail(`${where}.boolValue`, 'expected true or false');
    return { bool: o['boolValue'] };
  }
  if ('intValue' in o) return { int: BigInt.asIntN(64, int(o['intValue'], `${where}.intValue`)) };
  if ('doubleValue' in o) return { double: num(o['doubleValue'], `${where}.doubleValue`) };
  if ('arrayValue' in o) return { array: arr(obj(o['arrayValue'], `${where}.arrayValue`)['values'], `${where}.arrayValue.values`).map((x, i) => value(x, `${where}.arrayValue.values[${i}]`)) };
  if ('kvlistValue' in o) return { kvlist: attributes(obj(o['kvlistValue'], `${where}.kvlistValue`)['values'], `${where}.kvlistValue.values`) };
  if ('bytesValue' in o) return { bytes: Uint8Array.from(Buffer.from(str(o['bytesValue'], `${where}.bytesValue`), 'base64')) };
  return { empty: true };
}

function attributes(v: unknown, where: string): OtlpAttribute[] {
  return arr(v, where).map((a, i) => {
    const o = obj(a, `${where}[${i}]`);
    return { key: str(o['key'], `${where}[${i}].key`), value: value(o['value'], `${where}[${i}].value`) };
  });
}

function span(v: unknown, where: string): OtlpSpan {
  const o = obj(v, where);
  const status = obj(o['status'], `${where}.status`);
  return {
    traceId: hexId(o['traceId'], 16, `${where}.traceId`),
    spanId: hexId(o['spanId'], 8, `${where}.spanId`),
    traceState: str(o['traceState'], `${where}.traceState`),
    parentSpanId: hexId(o['parentSpanId'], 8, `${where}.parentSpanId`),
    name: str(o['name'], `${where}.name`),
    kind: Number(int(o['kind'], `${where}.kind`)),
    startTimeUnixNano: BigInt.asUintN(64, int(o['startTimeUnixNano'], `${where}.startTimeUnixNano`)),
    endTimeUnixNano: BigInt.asUintN(64, int(o['endTimeUnixNano'], `${where}.endTimeUnixNano`)),
    attributes: attributes(o['attributes'], `${where}.attributes`),
    events: arr(o['events'], `${where}.events`).map((e, i): OtlpEvent => {
      const eo = obj(e, `${where}.events[${i}]`);
      return {
        timeUnixNano: BigInt.asUintN(64, int(eo['timeUnixNano'], `${where}.events[${i}].timeUnixNano`)), name: str(eo['name'], `${where}.events[${i}].name`),
        attributes: attributes(eo['attributes'], `${where}.events[${i}].attributes`), droppedAttributesCount: Number(int(eo['droppedAttributesCount'], `${where}.events[${i}].droppedAttributesCount`)),
      };
    }),
    links: arr(o['links'], `${where}.links`).map((l, i): OtlpLink => {
      const lo = obj(l, `${where}.links[${i}]`);
      return {
        traceId: hexId(lo['traceId'], 16, `${where}.links[${i}].traceId`), spanId: hexId(lo['spanId'], 8, `${where}.links[${i}].spanId`),
        traceState: str(lo['traceState'], `${where}.links[${i}].traceState`), attributes: attributes(lo['attributes'], `${where}.links[${i}].attributes`),
        droppedAttributesCount: Number(int(lo['droppedAttributesCount'], `${where}.links[${i}].droppedAttributesCount`)),
      };
    }),
    statusCode: Number(int(status['code'], `${where}.status.code`)),
    statusMessage: str(status['message'], `${where}.status.message`),
  };
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest; PayloadDecodeError names where it stopped. */
export function decodeOtlpJson(body: Buffer): OtlpTraceRequest {
  checkJsonShape(body);
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new PayloadDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  const root = obj(doc, 'request');
  return {
    resourceSpans: arr(root['resourceSpans'], 'resourceSpans').map((r, i): OtlpResourceSpans => {
      const ro = obj(r, `resourceSpans[${i}]`);
      return {
        resourceAttributes: attributes(obj(ro['resource'], `resourceSpans[${i}].resource`)['attributes'], `resourceSpans[${i}].resource.attributes`),
        scopeSpans: arr(ro['scopeSpans'], `resourceSpans[${i}].scopeSpans`).map((ss, j): OtlpScopeSpans => {
          const so = obj(ss, `resourceSpans[${i}].scopeSpans[${j}]`);
          const scope = obj(so['scope'], `resourceSpans[${i}].scopeSpans[${j}].scope`);
          return {
            scopeName: str(scope['name'], 'scope.name'), scopeVersion: str(scope['version'], 'scope.version'),
            scopeAttributes: attributes(scope['attributes'], 'scope.attributes'),
            spans: arr(so['spans'], `resourceSpans[${i}].scopeSpans[${j}].spans`).map((s, k) => span(s, `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`)),
          };
        }),
      };
    }),
  };
}
