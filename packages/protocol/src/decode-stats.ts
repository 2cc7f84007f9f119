import { PayloadDecodeError } from './errors.js';
import { MAX_EXPANSION, MsgpackReader } from './msgpack-reader.js';

/*
 * /v0.6/stats payloads: stats a tracer computed itself (trace-agent spec 8.3). The msgpack keys
 * are the Go field names of the agent's ClientStatsPayload; values of the wrong type read as the
 * zero value, as the rest of the codecs do, except where a consumer must tell "absent" from
 * "wrong" (bucket times, sketches).
 */

export interface ClientGroupedStats {
  service: string;
  name: string;
  resource: string;
  type: string;
  httpStatusCode: number;
  spanKind: string;
  isTraceRoot: number;
  synthetics: boolean;
  peerTags: string[];
  hits: number;
  topLevelHits: number;
  errors: number;
  /** Sum of durations, ns. */
  duration: number;
  /** DDSketch protobuf bytes; empty when absent; undefined when present but not bytes. */
  okSummary: Uint8Array | undefined;
  errorSummary: Uint8Array | undefined;
}

export interface ClientStatsBucket {
  /** ns since the epoch; undefined when absent or not an integer. */
  start: bigint | undefined;
  duration: bigint | undefined;
  stats: ClientGroupedStats[];
}

export interface ClientStatsPayload {
  hostname: string;
  env: string;
  version: string;
  lang: string;
  tracerVersion: string;
  runtimeId: string;
  service: string;
  containerId: string;
  stats: ClientStatsBucket[];
}

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0);
const big = (v: unknown): bigint | undefined => (typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined);
const bytes = (v: unknown): Uint8Array | undefined => (v === undefined ? new Uint8Array(0) : v instanceof Uint8Array ? v : undefined);

function group(v: unknown): ClientGroupedStats {
  const o = obj(v);
  return {
    service: str(o['Service']), name: str(o['Name']), resource: str(o['Resource']), type: str(o['Type']),
    httpStatusCode: num(o['HTTPStatusCode']), spanKind: str(o['SpanKind']), isTraceRoot: num(o['IsTraceRoot']),
    synthetics: o['Synthetics'] === true,
    peerTags: arr(o['PeerTags']).filter((t): t is string => typeof t === 'string'),
    hits: num(o['Hits']), topLevelHits: num(o['TopLevelHits']), errors: num(o['Errors']), duration: num(o['Duration']),
    okSummary: bytes(o['OkSummary']), errorSummary: bytes(o['ErrorSummary']),
  };
}

/** A stats payload from its generic msgpack value (what MsgpackReader.readAny returns). */
export function clientStatsFromValue(value: unknown): ClientStatsPayload {
  const p = obj(value);
  return {
    hostname: str(p['Hostname']), env: str(p['Env']), version: str(p['Version']), lang: str(p['Lang']),
    tracerVersion: str(p['TracerVersion']), runtimeId: str(p['RuntimeID']), service: str(p['Service']),
    containerId: str(p['ContainerID']),
    stats: arr(p['Stats']).map((b) => {
      const bucket = obj(b);
      return { start: big(bucket['Start']), duration: big(bucket['Duration']), stats: arr(bucket['Stats']).map(group) };
    }),
  };
}

/** Decodes a /v0.6/stats body; throws PayloadDecodeError when it is not a msgpack map. */
export function decodeClientStats(body: Buffer): ClientStatsPayload {
  const r = new MsgpackReader(body, { maxExpansion: MAX_EXPANSION });
  if (r.readMapHeader('stats payload') < 0) throw new PayloadDecodeError('stats payload: expected a map, got nil');
  r.pos = 0;
  return clientStatsFromValue(r.readAny());
}
