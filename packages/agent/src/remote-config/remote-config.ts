import { createHash } from 'node:crypto';
import { apmTracingFile } from './apm-tracing.js';
import { buildResponse, parseClientRequest, type ClientRequest, type ConfigState, type ServedFile } from './protocol.js';
import { parseTracingSettings, settingsId, type TracingSettings } from './tracing-settings.js';

/*
 * Remote configuration served by the agent: the tracing settings people set (the UI, the API),
 * kept by the store so every agent and UI replica of a shared store serves the same, answered to
 * the tracers that poll /v0.7/config, and the tracers seen polling with what they applied.
 */

/** Where the settings are kept: the store (store/contract.ts). */
export interface RemoteConfigStore {
  saveRemoteConfig(id: string, definition: string | null): Promise<void>;
  remoteConfigs(): Promise<{ revision: number; configs: { id: string; definition: string; version: number }[] }>;
}

export interface ServedSettings {
  id: string;
  /** Greater after each change (the file's `custom.v`). */
  version: number;
  settings: TracingSettings;
  file: ServedFile;
}

/** Capability bits a tracer sets for the settings it can take (remote_config/capabilities.js in dd-trace-js). */
const CAPABILITY = { sampleRate: 1n << 12n, logInjection: 1n << 13n, samplingRules: 1n << 29n } as const;

export interface RemoteConfigClient {
  id: string;
  runtimeId: string;
  service: string;
  env: string;
  appVersion: string;
  language: string;
  tracerVersion: string;
  products: string[];
  /** Which of the settings its capabilities say it applies. */
  supports: { sampleRate: boolean; samplingRules: boolean; logInjection: boolean };
  /** What it reports of the files it was sent: applied (2), error (3) or not yet (1). */
  configStates: ConfigState[];
  /** Its last poll's error, as it reported it. */
  error?: string;
  /** The targets version it holds. */
  targetsVersion: number;
  firstSeen: number;
  lastSeen: number;
}

/** Clients kept (the newest polls); one not heard from in FORGET_MS is forgotten. */
export const MAX_CLIENTS = 5000;
const FORGET_MS = 10 * 60_000;
const PATH_PREFIX = 'datadog/0/APM_TRACING/';

export function settingsPath(id: string): string {
  return `${PATH_PREFIX}${id}/config`;
}

export interface RemoteConfigOptions {
  store: RemoteConfigStore;
  /** The agent's env: a tracer that names none is in it, as its spans are. */
  defaultEnv: string;
  /** How often the store is read again, for what other replicas changed. */
  refreshMs?: number;
  now?: () => number;
  /** Told when a read of the store fails (the last settings are served meanwhile). */
  onError?: (err: unknown) => void;
}

export class RemoteConfig {
  private served: ServedSettings[] = [];
  private revision = 0;
  private readonly clients = new Map<string, RemoteConfigClient>();
  private timer: NodeJS.Timeout | undefined;
  private loaded: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: RemoteConfigOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Reads the store now, then again every refreshMs. */
  start(): Promise<void> {
    this.timer ??= setInterval(() => void this.refresh(), this.opts.refreshMs ?? 5000);
    this.timer.unref();
    return this.refresh();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the settings from the store (one read at a time; callers during it share it). */
  refresh(): Promise<void> {
    this.loaded ??= (async () => {
      try {
        const { revision, configs } = await this.opts.store.remoteConfigs();
        const served: ServedSettings[] = [];
        for (const c of configs) {
          let settings: TracingSettings;
          try {
            settings = parseTracingSettings(JSON.parse(c.definition));
          } catch (err) {
            this.opts.onError?.(new Error(`remote config ${c.id}: not kept as settings: ${(err as Error).message}`));
            continue;
          }
          const raw = apmTracingFile(c.id, c.version, settings);
          served.push({ id: c.id, version: c.version, settings, file: { path: settingsPath(c.id), version: c.version, raw, sha256: createHash('sha256').update(raw).digest('hex') } });
        }
        this.served = served;
        this.revision = revision;
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.loaded = undefined;
      }
    })();
    return this.loaded;
  }

  /** Every setting served, with the revision they are at. */
  list(): { revision: number; settings: ServedSettings[] } {
    return { revision: this.revision, settings: this.served };
  }

  /** Keeps settings for their service and env (replacing what was set), and serves them at once. */
  async save(settings: TracingSettings): Promise<ServedSettings> {
    const id = settingsId(settings.service, settings.env);
    await this.opts.store.saveRemoteConfig(id, JSON.stringify(settings));
    await this.refresh();
    const saved = this.served.find((s) => s.id === id);
    if (!saved) throw new Error(`remote config ${id}: saved, but not read back from the store`);
    return saved;
  }

  /** Removes settings; tracers go back to their own at their next poll. False: none had that id. */
  async remove(id: string): Promise<boolean> {
    if (!this.served.some((s) => s.id === id)) return false;
    await this.opts.store.saveRemoteConfig(id, null);
    await this.refresh();
    return true;
  }

  /** The answer to a tracer's poll (JSON text); a request that is not one throws RemoteConfigRequestError. */
  answer(body: unknown): string {
    const req = parseClientRequest(body);
    const now = this.now();
    this.seen(req, now);
    return buildResponse(req, this.revision, this.filesFor(req), now);
  }

  /** The clients that polled in the last minutes, newest first; `service` narrows them. */
  seenClients(service?: string): RemoteConfigClient[] {
    const cutoff = this.now() - FORGET_MS;
    return [...this.clients.values()].filter((c) => c.lastSeen >= cutoff && (service === undefined || c.service === service)).sort((a, b) => b.lastSeen - a.lastSeen);
  }

  private filesFor(req: ClientRequest): ServedFile[] {
    if (!req.tracer || !req.products.includes('APM_TRACING')) return [];
    const service = req.tracer.service;
    const env = req.tracer.env === '' ? this.opts.defaultEnv : req.tracer.env;
    return this.served.filter((s) => s.settings.service === service && (s.settings.env === '*' || s.settings.env === env)).map((s) => s.file);
  }

  private seen(req: ClientRequest, now: number): void {
    if (!req.tracer) return;
    const had = this.clients.get(req.id);
    this.clients.delete(req.id);
    if (this.clients.size >= MAX_CLIENTS) {
      const cutoff = now - FORGET_MS;
      for (const [id, c] of this.clients) if (c.lastSeen < cutoff) this.clients.delete(id);
      // Still full: the one polled longest ago goes (Map order is last poll order).
      if (this.clients.size >= MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
    }
    const t = req.tracer;
    this.clients.set(req.id, {
      id: req.id, runtimeId: t.runtimeId, service: t.service, env: t.env, appVersion: t.appVersion, language: t.language, tracerVersion: t.tracerVersion,
      products: req.products,
      supports: {
        sampleRate: (req.capabilities & CAPABILITY.sampleRate) !== 0n,
        samplingRules: (req.capabilities & CAPABILITY.samplingRules) !== 0n,
        logInjection: (req.capabilities & CAPABILITY.logInjection) !== 0n,
      },
      configStates: req.configStates.filter((s) => s.product === 'APM_TRACING'),
      ...(req.hasError ? { error: req.error } : {}),
      targetsVersion: req.targetsVersion,
      firstSeen: had?.firstSeen ?? now,
      lastSeen: now,
    });
  }
}
