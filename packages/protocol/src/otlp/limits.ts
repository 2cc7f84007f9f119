import { PayloadDecodeError } from '../errors.js';
import type { OtlpAttribute, OtlpResourceSpans, OtlpScopeSpans, OtlpTraceRequest, OtlpValue } from './model.js';

/*
 * What mapping an OTLP request will cost, bounded before it is paid. Mapping copies a resource's
 * and a scope's attributes into every span of theirs (as the Datadog Agent does), so a small
 * request of many attributes and many spans expands by their product. Attributes are capped per
 * span, resource and scope as the Collector's and SDKs' limits do (128 by default), the bytes the
 * copies will take are counted from the decoded request (no span mapped yet), and a request over
 * the bound is refused with the reason; a request under it is mapped in slices of bounded size,
 * so no slice holds much memory or the intake thread for long.
 */

export interface OtlpLimits {
  /** Attributes kept per span, per resource and per scope (the first ones); the rest dropped. */
  maxAttributes: number;
  /** Bytes of attributes mapping may produce for one request, copies included. */
  maxMappedBytes: number;
}

/** What a mapped span takes beyond its attributes: ids, names, times, its own tags. */
const SPAN_OVERHEAD = 256;

function valueBytes(v: OtlpValue): number {
  if ('string' in v) return v.string.length;
  if ('array' in v) return v.array.reduce((n, x) => n + valueBytes(x) + 2, 2);
  if ('kvlist' in v) return attributeBytes(v.kvlist) + 2;
  if ('bytes' in v) return v.bytes.length * 2;
  return 16;
}

function attributeBytes(list: readonly OtlpAttribute[]): number {
  let n = 0;
  for (const a of list) n += a.key.length + valueBytes(a.value);
  return n;
}

function cap(list: OtlpAttribute[], max: number): number {
  if (list.length <= max) return 0;
  const dropped = list.length - max;
  list.length = max;
  return dropped;
}

/** Mapped bytes of each span of a scope, beyond its own attributes: the copies it gets. */
const copiedBytes = (resource: number, scope: OtlpScopeSpans): number => resource + attributeBytes(scope.scopeAttributes) + SPAN_OVERHEAD;

/**
 * Caps the request's attributes in place and checks what mapping it will take. Returns how many
 * attributes were dropped; throws PayloadDecodeError when the mapped request would be over the
 * bound, saying by how much and what to change.
 */
export function limitOtlpRequest(req: OtlpTraceRequest, limits: OtlpLimits): { dropped: number; mappedBytes: number } {
  let dropped = 0;
  let mapped = 0;
  let spans = 0;
  for (const rs of req.resourceSpans) {
    dropped += cap(rs.resourceAttributes, limits.maxAttributes);
    const resource = attributeBytes(rs.resourceAttributes);
    for (const ss of rs.scopeSpans) {
      dropped += cap(ss.scopeAttributes, limits.maxAttributes);
      const copies = copiedBytes(resource, ss);
      for (const sp of ss.spans) {
        dropped += cap(sp.attributes, limits.maxAttributes);
        mapped += copies + attributeBytes(sp.attributes);
      }
      spans += ss.spans.length;
    }
  }
  if (mapped > limits.maxMappedBytes) {
    throw new PayloadDecodeError(`request: its ${spans} spans would take ${Math.ceil(mapped / 1048576)} MiB once mapped (each gets a copy of its resource's and scope's attributes), over the ${Math.floor(limits.maxMappedBytes / 1048576)} MiB a request may: send fewer spans per request, or fewer or shorter resource and scope attributes`);
  }
  return { dropped, mappedBytes: mapped };
}

/**
 * The request in slices of at most `maxBytes` mapped bytes each (at least one span), resources
 * and scopes repeated in each slice they have spans in: mapped and stored one after another.
 * (Letting the request give up each span as it is sliced was tried: a 20 MiB export's peak RSS
 * was 442 MB either way, bench/perimeter.bench.js grpc, so the request is left as it is.)
 */
export function* otlpSlices(req: OtlpTraceRequest, maxBytes: number): Generator<OtlpTraceRequest> {
  let slice: OtlpResourceSpans[] = [];
  let bytes = 0;
  for (const rs of req.resourceSpans) {
    const resource = attributeBytes(rs.resourceAttributes);
    let current: OtlpResourceSpans | undefined;
    for (const ss of rs.scopeSpans) {
      const copies = copiedBytes(resource, ss);
      let scope: OtlpScopeSpans | undefined;
      for (const sp of ss.spans) {
        const size = copies + attributeBytes(sp.attributes);
        if (bytes > 0 && bytes + size > maxBytes) {
          yield { resourceSpans: slice };
          slice = [];
          bytes = 0;
          current = undefined;
          scope = undefined;
        }
        if (current === undefined) {
          current = { resourceAttributes: rs.resourceAttributes, scopeSpans: [] };
          slice.push(current);
        }
        if (scope === undefined) {
          scope = { scopeName: ss.scopeName, scopeVersion: ss.scopeVersion, scopeAttributes: ss.scopeAttributes, spans: [] };
          current.scopeSpans.push(scope);
        }
        scope.spans.push(sp);
        bytes += size;
      }
    }
  }
  if (slice.length > 0) yield { resourceSpans: slice };
}
