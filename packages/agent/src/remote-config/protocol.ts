/*
 * The tracer side of Datadog's remote configuration (/v0.7/config): a tracer posts what it is and
 * what it holds (ClientGetConfigsRequest, JSON), and is answered with the TUF-style targets index
 * of what it should hold (path -> sha256, length, version), the files it lacks, and the paths it
 * should apply (ClientGetConfigsResponse). Fields as the Datadog Agent's proto (remoteconfig.proto)
 * names them; what the tracers check of an answer is what it must hold: dd-trace-js (targets by
 * path, files by path), libdatadog for ddtrace (every TUF field, each file's sha256), dd-trace-go's
 * repository (the path's form, `custom.v`, each file's hashes) and dd-java-agent.
 */

export class RemoteConfigRequestError extends Error {}

export interface ConfigState {
  id: string;
  version: number;
  product: string;
  /** 1 unacknowledged, 2 acknowledged (applied), 3 error. */
  applyState: number;
  applyError: string;
}

export interface ClientRequest {
  id: string;
  products: string[];
  isTracer: boolean;
  /** Capability bits (base64 in the request). */
  capabilities: bigint;
  tracer?: { runtimeId: string; language: string; tracerVersion: string; service: string; env: string; appVersion: string };
  rootVersion: number;
  targetsVersion: number;
  configStates: ConfigState[];
  hasError: boolean;
  error: string;
  /** The files the client holds: path -> sha256. */
  cached: Map<string, string>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : 0);
const MAX_LIST = 1000;

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RemoteConfigRequestError(`${field}: give a list`);
  if (v.length > MAX_LIST) throw new RemoteConfigRequestError(`${field}: more than ${MAX_LIST} entries`);
  return v;
}

function capabilities(v: unknown): bigint {
  // Base64 of a big-endian number (Go's []byte, dd-trace-js's Buffer); some clients send a list of bytes.
  let bytes: Buffer;
  if (typeof v === 'string') bytes = Buffer.from(v, 'base64');
  else if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) bytes = Buffer.from(v as number[]);
  else return 0n;
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

/** A request's JSON as a client; one that is not a remote-config request throws, saying why. */
export function parseClientRequest(body: unknown): ClientRequest {
  if (!isObj(body)) throw new RemoteConfigRequestError('give a JSON object (ClientGetConfigsRequest)');
  const c = body.client;
  if (!isObj(c)) throw new RemoteConfigRequestError('client: missing (ClientGetConfigsRequest.client)');
  const id = str(c.id);
  if (id === '') throw new RemoteConfigRequestError('client.id: missing');
  const state = isObj(c.state) ? c.state : {};
  const out: ClientRequest = {
    id: id.slice(0, 128),
    products: list(c.products, 'client.products').map(str).filter((p) => p !== ''),
    isTracer: c.is_tracer === true,
    capabilities: capabilities(c.capabilities),
    rootVersion: num(state.root_version),
    targetsVersion: num(state.targets_version),
    configStates: list(state.config_states, 'client.state.config_states').filter(isObj).map((s) => ({
      id: str(s.id), version: num(s.version), product: str(s.product), applyState: num(s.apply_state), applyError: str(s.apply_error).slice(0, 500),
    })),
    hasError: state.has_error === true,
    error: str(state.error).slice(0, 500),
    cached: new Map(),
  };
  if (out.isTracer) {
    const t = c.client_tracer;
    if (!isObj(t)) throw new RemoteConfigRequestError('client.client_tracer: missing for a tracer (is_tracer true)');
    out.tracer = {
      runtimeId: str(t.runtime_id), language: str(t.language), tracerVersion: str(t.tracer_version),
      service: str(t.service), env: str(t.env), appVersion: str(t.app_version),
    };
  }
  for (const f of list(body.cached_target_files, 'cached_target_files')) {
    if (!isObj(f)) continue;
    const sha = list(f.hashes, 'cached_target_files.hashes').filter(isObj).find((h) => str(h.algorithm) === 'sha256');
    if (sha) out.cached.set(str(f.path), str(sha.hash));
  }
  return out;
}

/** A file served: its path's config id, version (custom.v) and bytes. */
export interface ServedFile {
  path: string;
  version: number;
  raw: Buffer;
  sha256: string;
}

/** Targets are signed for a year from the answer: tracers take the field; none checks it against a key. */
const EXPIRES_MS = 365 * 86_400_000;

/**
 * The answer to a client holding `req` when it should hold `files`, at `revision` (the targets
 * version: greater after every change). `{}` when the client is up to date, as the Datadog Agent
 * answers then.
 */
export function buildResponse(req: ClientRequest, revision: number, files: ServedFile[], now: number): string {
  const upToDate = req.targetsVersion === revision
    && files.every((f) => req.cached.get(f.path) === f.sha256)
    && [...req.cached.keys()].every((p) => files.some((f) => f.path === p));
  if (upToDate) return '{}';
  const targets: Record<string, { custom: { v: number }; hashes: { sha256: string }; length: number }> = {};
  for (const f of files) targets[f.path] = { custom: { v: f.version }, hashes: { sha256: f.sha256 }, length: f.raw.length };
  const signed = {
    signatures: [],
    signed: {
      _type: 'targets',
      custom: { opaque_backend_state: Buffer.from(JSON.stringify({ ecs_trace: revision })).toString('base64') },
      expires: new Date(now + EXPIRES_MS).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      spec_version: '1.0.0',
      targets,
      version: revision,
    },
  };
  return JSON.stringify({
    roots: [],
    targets: Buffer.from(JSON.stringify(signed)).toString('base64'),
    target_files: files.filter((f) => req.cached.get(f.path) !== f.sha256).map((f) => ({ path: f.path, raw: f.raw.toString('base64') })),
    client_configs: files.map((f) => f.path),
  });
}
