/*
 * What the tracers say about themselves (their telemetry, which they post through the agent as
 * the Datadog Agent proxies it: /telemetry/proxy/api/v2/apmtelemetry): each instance of a service
 * (a tracer's runtime id) with its language, runtime, tracer version, host, the integrations it
 * turned on, its configuration as it reports it, and the libraries it loaded. Kept in memory by
 * the agent the tracer sends to, bounded (MAX_INSTANCES, the newest kept; lists capped), and an
 * instance not heard from in a day forgotten.
 */

export const MAX_INSTANCES = 2000;
/** Entries kept of each list (dd-trace-js reports ~600 settings); past it, `truncated` says so. */
const MAX_ITEMS = 2000;
const FORGET_MS = 86_400_000;
/** Settings whose values are credentials: kept as set, never shown. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

export interface Instance {
  runtimeId: string;
  service: string;
  env: string;
  version: string;
  language: string;
  languageVersion: string;
  runtimeName: string;
  runtimeVersion: string;
  tracerVersion: string;
  hostname: string;
  /** ms since the epoch. */
  firstSeen: number;
  lastSeen: number;
  /** It said app-closing. */
  closed: boolean;
  integrations: { name: string; enabled: boolean; version?: string }[];
  configuration: { name: string; value: string; origin: string }[];
  dependencies: { name: string; version: string }[];
  /** A list met MAX_ITEMS: some of what the tracer reported was not kept. */
  truncated: boolean;
}

export class TelemetryError extends Error {}

/** A library at one version, and who runs it. */
export interface DependencyUse {
  name: string;
  version: string;
  /** Instances running it. */
  instances: number;
  services: { service: string; env: string; instances: number }[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/** Upserts `items` into `into` by name, keeping at most MAX_ITEMS (`inst.truncated` when more came). */
function merge<T extends { name: string }>(inst: { truncated: boolean }, into: T[], items: T[]): T[] {
  const by = new Map(into.map((x) => [x.name, x]));
  for (const x of items) {
    if (!by.has(x.name) && by.size >= MAX_ITEMS) {
      inst.truncated = true;
      continue;
    }
    by.set(x.name, x);
  }
  return [...by.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

export class Instances {
  private readonly byId = new Map<string, Instance>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A telemetry request's JSON body; a body that is not one is a TelemetryError saying why. */
  add(body: unknown): void {
    if (!isObj(body)) throw new TelemetryError('not a telemetry request: expected a JSON object');
    const app = body['application'];
    const runtimeId = str(body['runtime_id']);
    if (!isObj(app) || runtimeId === '') throw new TelemetryError('not a telemetry request: runtime_id and application are required');
    const host = isObj(body['host']) ? body['host'] : {};
    const at = this.now();
    let inst = this.byId.get(runtimeId);
    if (!inst) {
      if (this.byId.size >= MAX_INSTANCES) this.evict(at);
      inst = {
        runtimeId, service: str(app['service_name']), env: str(app['env']), version: str(app['service_version']), language: str(app['language_name']),
        languageVersion: str(app['language_version']), runtimeName: str(app['runtime_name']), runtimeVersion: str(app['runtime_version']), tracerVersion: str(app['tracer_version']),
        hostname: str(host['hostname']), firstSeen: at, lastSeen: at, closed: false, integrations: [], configuration: [], dependencies: [], truncated: false,
      };
      this.byId.set(runtimeId, inst);
    }
    inst.lastSeen = at;
    // The service and its version can change while a process runs (the app sets them late).
    if (str(app['service_name'])) inst.service = str(app['service_name']);
    if (str(app['service_version'])) inst.version = str(app['service_version']);
    this.apply(inst, str(body['request_type']), body['payload']);
  }

  private apply(inst: Instance, type: string, payload: unknown): void {
    const p = isObj(payload) ? payload : {};
    switch (type) {
      case 'message-batch':
        if (Array.isArray(payload)) for (const m of payload) if (isObj(m)) this.apply(inst, str(m['request_type']), m['payload']);
        return;
      case 'app-started':
      case 'app-client-configuration-change':
        if (Array.isArray(p['configuration'])) {
          inst.configuration = merge(inst, inst.configuration, p['configuration'].filter(isObj).map((c) => {
            const name = str(c['name']);
            const value = str(c['value']);
            return { name, value: SECRET_NAME.test(name) && value !== '' ? '(set, not shown)' : value.slice(0, 512), origin: str(c['origin']) };
          }).filter((c) => c.name !== ''));
        }
        if (Array.isArray(p['integrations'])) this.integrations(inst, p['integrations']);
        if (Array.isArray(p['dependencies'])) this.dependencies(inst, p['dependencies']);
        return;
      case 'app-integrations-change':
        if (Array.isArray(p['integrations'])) this.integrations(inst, p['integrations']);
        return;
      case 'app-dependencies-loaded':
        if (Array.isArray(p['dependencies'])) this.dependencies(inst, p['dependencies']);
        return;
      case 'app-closing':
        inst.closed = true;
        return;
      default:
        // app-heartbeat, metrics, logs: the instance is alive, nothing more is kept.
    }
  }

  private integrations(inst: Instance, list: unknown[]): void {
    inst.integrations = merge(inst, inst.integrations, list.filter(isObj).map((i) => ({ name: str(i['name']), enabled: i['enabled'] === true, ...(str(i['version']) ? { version: str(i['version']) } : {}) })).filter((i) => i.name !== ''));
  }

  private dependencies(inst: Instance, list: unknown[]): void {
    inst.dependencies = merge(inst, inst.dependencies, list.filter(isObj).map((d) => ({ name: str(d['name']), version: str(d['version']) })).filter((d) => d.name !== ''));
  }

  /** The instances not forgotten, of a service (and env) if asked, the most recently heard first. */
  list(filter: { service?: string; env?: string } = {}): Instance[] {
    this.evict(this.now());
    return [...this.byId.values()].filter((i) => (!filter.service || i.service === filter.service) && (!filter.env || i.env === filter.env)).sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /**
   * The dependency inventory: each library (a name holding `name`, case aside) at each version
   * (`version`: that one, or those starting with it), with the services and envs running it and
   * how many of their instances do.
   */
  inventory(filter: { name?: string; version?: string } = {}): DependencyUse[] {
    this.evict(this.now());
    const needle = filter.name?.toLowerCase();
    const by = new Map<string, DependencyUse & { at: Map<string, { service: string; env: string; instances: number }> }>();
    for (const i of this.byId.values()) {
      for (const d of i.dependencies) {
        if (needle !== undefined && !d.name.toLowerCase().includes(needle)) continue;
        if (filter.version !== undefined && d.version !== filter.version && !d.version.startsWith(filter.version)) continue;
        const key = `${d.name}\u0000${d.version}`;
        let use = by.get(key);
        if (!use) by.set(key, use = { name: d.name, version: d.version, instances: 0, services: [], at: new Map() });
        use.instances++;
        const where = `${i.service}\u0000${i.env}`;
        const s = use.at.get(where) ?? { service: i.service, env: i.env, instances: 0 };
        s.instances++;
        use.at.set(where, s);
      }
    }
    return [...by.values()]
      .map(({ at, ...u }) => ({ ...u, services: [...at.values()].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.env < b.env ? -1 : 1)) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  }

  /** Forgets instances silent for a day; past the bound, the least recently heard. */
  private evict(now: number): void {
    for (const [id, i] of this.byId) if (now - i.lastSeen > FORGET_MS) this.byId.delete(id);
    if (this.byId.size < MAX_INSTANCES) return;
    const oldest = [...this.byId.values()].sort((a, b) => a.lastSeen - b.lastSeen).slice(0, this.byId.size - MAX_INSTANCES + 1);
    for (const i of oldest) this.byId.delete(i.runtimeId);
  }
}
