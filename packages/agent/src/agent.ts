import type { AddressInfo } from 'node:net';
import type { AgentConfig } from './config.js';
import { EncoderThread, Forwarder, ForwardingWriter, intakeBaseUrl, OtlpExporter, otlpExportUrl, parseOtlpHeaders, TelemetryForwarder, telemetryIntakeUrl, type Outlet } from './forward/index.js';
import { ByteBudget, otlpAddress, otlpGrpcReceiver, OtlpHttpReceiver, Receiver, receiverHost } from './intake/index.js';
import { loadMonitors, MonitorReader, MonitorRunner, monitorToFile, parseMonitor, type Monitor } from './monitors/index.js';
import { createPipeline } from './process/index.js';
import { Instances } from './telemetry/index.js';
import { RemoteConfig } from './remote-config/index.js';
import { apiRoutes, buildApi, parseLogLinks, type ApiRoute } from './query/index.js';
import { AGENT_VERSION, ConfigError, ECS_TRACE_VERSION, agentMetrics, createLogger, isOrchestrated, LogOnce, type Logger } from './runtime/index.js';
import { DataDirLock, maskedStoreUrl, openReader, openStore, sharedLease, sharedStore, StoreMaintenance, storeKind, type StoreCondition, type StoreHealth, type StoreTransports, type TraceStore } from './store/index.js';

export interface RunningAgent {
  /** The intake address, or undefined when DD_APM_ENABLED=false or there is no TCP listener. */
  receiver: AddressInfo | undefined;
  /** The intake's unix socket, when DD_APM_RECEIVER_SOCKET is set. */
  receiverSocket: string | undefined;
  /** The OTLP/HTTP intake, when it is on. */
  otlpHttp: AddressInfo | undefined;
  /** The OTLP/gRPC intake's port, when it is on. */
  otlpGrpcPort: number | undefined;
  api: AddressInfo;
  /** Every route the query API serves, and whether it is public (no token asked). */
  apiRoutes: readonly ApiRoute[];
  store: TraceStore;
  /** Resolves once every kept trace handed to forwarding so far is sent, or dropped and counted. */
  forwarded(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Overrides whether the agent was started by an orchestrator, which opens intake beyond loopback by default (tests). */
  containerized?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Listen on ports the OS picks (tests, embedding); `receiverPort: 0` still turns intake off. */
  ephemeralPorts?: boolean;
  /**
   * `ui`: the query API and web UI over a shared store, without intake: no data directory, no
   * retention (the agents do it), so that several replicas can run behind a load balancer.
   */
  role?: 'agent' | 'ui';
  /** How a shared store is reached when not as its URL says (tests: ClickHouse's engine in process). */
  transports?: StoreTransports;
}

/**
 * /healthz's word on the store: a failing write (a full disk) first, then how a shared store is
 * reached (spool.ts: healthy while it spools with room, since nothing acknowledged is lost).
 */
function storeHealth(writes: StoreHealth, condition: StoreCondition | undefined): { ok: boolean; status: string; problem?: string } {
  if (!writes.ok) return { ...writes, status: condition?.status ?? 'error' };
  return condition ?? { ok: true, status: 'ok' };
}

/** Starts the store, the intake (unless disabled) and the query API. */
export async function startAgent(givenConfig: AgentConfig, opts: StartOptions = {}): Promise<RunningAgent> {
  let config = givenConfig;
  const log = opts.log ?? createLogger(config.logLevel);
  const metrics = agentMetrics();
  // What has been started, closed in reverse order on shutdown or when a later step fails.
  const started: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const close of started.splice(0).reverse()) await close();
  };
  try {
    const ui = opts.role === 'ui';
    if (ui && !sharedStore(config)) throw new Error('ecs-trace ui serves a shared store: give --store postgres://... or clickhouse://... (the embedded store is served by its own agent)');
    if (ui) config = { ...config, apmEnabled: false };
    // Checked before anything starts: a bad monitors file names its field and the agent does not start.
    const monitorsFile = loadMonitors(config, opts.env ?? process.env);
    const logLinks = parseLogLinks(config.logLinks);
    if (storeKind(config) === 'none' && !config.apiKey && !config.otlpExportEndpoint) throw new ConfigError('ECS_TRACE_STORE=none keeps nothing: set DD_API_KEY to forward to Datadog or ECS_TRACE_OTLP_EXPORT_ENDPOINT to export over OTLP, or use ECS_TRACE_STORE=sqlite');
    if (config.dataDir !== ':memory:' && !ui && storeKind(config) !== 'none') {
      const lock = DataDirLock.acquire(config.dataDir);
      started.push(() => lock.release());
    }
    // Agents spool for a shared store; a UI replica writes nothing.
    const store = await openStore(config, new LogOnce(log), ui ? undefined : { metrics }, opts.transports);
    started.push(() => store.close());
    const env = opts.env ?? process.env;
    // A shared store's disk is the cluster's (PostgreSQL gives it back on VACUUM, ClickHouse by its
    // own merges): with one, --max-disk bounds the spool.
    const shared = sharedStore(config);
    const maxDiskBytes = shared ? 0 : config.maxDiskBytes;
    if (shared) log.info({ store: maskedStoreUrl(config.store) }, `storing traces in ${storeKind(config) === 'postgres' ? 'PostgreSQL' : 'ClickHouse'} through a local spool (retention by age; --max-disk bounds the spool)`);
    const maintenance = new StoreMaintenance({ store, retentionMs: config.retentionMs, maxDiskBytes, dataDir: config.dataDir, metrics, log, retention: !ui });
    started.push(() => maintenance.close());
    // With DD_API_KEY, kept traces and stats also go to Datadog, and with an OTLP export endpoint
    // kept traces go there too: each after the local store has them.
    let writer: ConstructorParameters<typeof ForwardingWriter>[0] = maintenance;
    const outlets: Outlet[] = [];
    const forwarding = !ui && (Boolean(config.apiKey) || Boolean(config.otlpExportEndpoint));
    // One encoding thread for every outlet; closed after them (they flush into it).
    const encoder = forwarding ? new EncoderThread(config.forwardQueueBytes) : undefined;
    if (encoder) started.push(() => encoder.close());
    if (config.apiKey && encoder) {
      const forwarder = new Forwarder({
        baseUrl: intakeBaseUrl(config), apiKey: config.apiKey, maxQueueBytes: config.forwardQueueBytes, metrics, logOnce: new LogOnce(log),
        info: { hostName: config.hostname, env: config.env, agentVersion: AGENT_VERSION, targetTPS: config.targetTps, errorTPS: config.errorTps, rareSamplerEnabled: config.rareSampler },
        encoder,
      });
      started.push(() => forwarder.close());
      outlets.push(forwarder);
      log.info({ url: intakeBaseUrl(config) }, 'forwarding kept traces and stats to Datadog');
    }
    // The tracers' telemetry goes to Datadog too, as the Datadog Agent proxies it.
    let telemetryForwarder: TelemetryForwarder | undefined;
    if (config.apiKey && !ui) {
      const tf = new TelemetryForwarder({
        baseUrl: telemetryIntakeUrl(config), apiKey: config.apiKey, hostname: config.hostname, env: config.env, agentVersion: AGENT_VERSION,
        maxQueueBytes: config.forwardQueueBytes, metrics, logOnce: new LogOnce(log),
      });
      started.push(() => tf.close());
      telemetryForwarder = tf;
    }
    if (config.otlpExportEndpoint && encoder) {
      const url = otlpExportUrl(config.otlpExportEndpoint);
      const headers = parseOtlpHeaders(config.otlpExportHeaders);
      const exporter = new OtlpExporter({ url, headers, userAgent: `ecs-trace/${ECS_TRACE_VERSION}`, maxQueueBytes: config.forwardQueueBytes, metrics, logOnce: new LogOnce(log), encoder });
      started.push(() => exporter.close());
      outlets.push(exporter);
      log.info({ url: url.href, headers: Object.keys(headers) }, 'exporting kept traces over OTLP/HTTP');
    }
    if (outlets.length > 0) writer = new ForwardingWriter(maintenance, outlets, new LogOnce(log));
    const { pipeline, clientStats, stats, sampler } = createPipeline(config, { store: writer, metrics, log, env });
    // The tracers' telemetry: each instance of a service as it describes itself, in memory.
    const instances = new Instances();
    // Tracing settings for the tracers (remote configuration), kept by the store and read again
    // every 5 s for what other replicas of a shared store changed.
    let remoteConfig: RemoteConfig | undefined;
    if (store.saveRemoteConfig && store.remoteConfigs) {
      const logOnceRc = new LogOnce(log);
      const rc = new RemoteConfig({
        store: { saveRemoteConfig: store.saveRemoteConfig.bind(store), remoteConfigs: store.remoteConfigs.bind(store) },
        defaultEnv: config.env,
        onError: (err) => logOnceRc.warn('remote-config', { err: (err as Error).message }, 'remote configuration could not be read from the store: the last settings read are served'),
      });
      await rc.start();
      started.push(() => rc.close());
      remoteConfig = rc;
    }
    started.push(() => stats.close());

    // One budget for the bytes of every intake's bodies: one more payload than the decoders hold.
    const bodies = new ByteBudget((config.decoders + 1) * config.maxPayloadBytes);
    const otlpLimits = { maxAttributes: config.otlpMaxAttributes, maxMappedBytes: config.otlpMaxMappedBytes };
    let receiver: Receiver | undefined;
    let receiverAddress: AddressInfo | undefined;
    const containerized = opts.containerized ?? isOrchestrated(env);
    if (config.apmEnabled && (config.receiverPort !== 0 || config.receiverSocket)) {
      const r = new Receiver({ config, traces: pipeline, rates: sampler, clientStats, metrics, log, logOnce: new LogOnce(log), bodies, telemetry: instances, ...(remoteConfig ? { remoteConfig } : {}),
        ...(telemetryForwarder ? { forwardTelemetry: (b: Buffer, gz: boolean, h: NodeJS.Dict<string | string[]>) => telemetryForwarder.forward(b, gz, h) } : {}) });
      receiver = r;
      started.push(() => r.close());
      if (config.receiverPort !== 0) {
        const host = receiverHost(config, containerized);
        try {
          receiverAddress = await r.listen(host, opts.ephemeralPorts ? 0 : config.receiverPort);
        } catch (err) {
          throw new Error(`cannot listen for traces on ${host}:${config.receiverPort}: ${(err as Error).message}`);
        }
        log.info({ host: receiverAddress.address, port: receiverAddress.port, nonLocal: host !== '127.0.0.1' && host !== '::1', containerized }, 'trace intake listening');
      } else {
        log.warn('DD_APM_RECEIVER_PORT=0: the TCP trace receiver is off');
      }
      if (config.receiverSocket) {
        try {
          await r.listenSocket(config.receiverSocket);
        } catch (err) {
          throw new Error(`cannot listen for traces on unix socket ${config.receiverSocket}: ${(err as Error).message}`);
        }
        log.info({ socket: config.receiverSocket }, 'trace intake listening on a unix socket');
      }
    } else if (!config.apmEnabled && !ui) {
      log.warn('DD_APM_ENABLED=false: the trace receiver is not started; the query API still serves stored traces');
    } else {
      log.warn('DD_APM_RECEIVER_PORT=0: the TCP trace receiver is off');
    }

    let otlpHttpBound: AddressInfo | undefined;
    const otlpAt = config.apmEnabled ? otlpAddress('http', config, containerized) : undefined;
    if (otlpAt) {
      const otlp = new OtlpHttpReceiver({
        traces: pipeline, metrics, logOnce: new LogOnce(log), maxPayloadBytes: config.maxPayloadBytes, receiverTimeoutMs: config.receiverTimeoutMs,
        decoders: config.decoders, decoderTimeoutMs: config.decoderTimeoutMs, bodies, limits: otlpLimits,
      });
      started.push(() => otlp.close());
      try {
        otlpHttpBound = await otlp.listen(otlpAt.host, opts.ephemeralPorts ? 0 : otlpAt.port);
      } catch (err) {
        throw new Error(`cannot listen for OTLP on ${otlpAt.host}:${otlpAt.port}: ${(err as Error).message}`);
      }
      log.info({ host: otlpHttpBound.address, port: otlpHttpBound.port }, 'OTLP/HTTP trace intake listening (POST /v1/traces)');
      metrics.otlpIntakes.set(1, { protocol: 'http' });
    }
    let otlpGrpcPort: number | undefined;
    const grpcAt = config.apmEnabled ? otlpAddress('grpc', config, containerized) : undefined;
    if (grpcAt) {
      const grpcIntake = await otlpGrpcReceiver({
        traces: pipeline, metrics, logOnce: new LogOnce(log), maxPayloadBytes: config.maxPayloadBytes, decoders: config.decoders, decoderTimeoutMs: config.decoderTimeoutMs, bodies, limits: otlpLimits,
      });
      started.push(() => grpcIntake.close());
      try {
        otlpGrpcPort = await grpcIntake.listen(grpcAt.host, opts.ephemeralPorts ? 0 : grpcAt.port);
      } catch (err) {
        throw new Error(`cannot listen for OTLP/gRPC on ${grpcAt.host}:${grpcAt.port}: ${(err as Error).message}`);
      }
      log.info({ host: grpcAt.host, port: otlpGrpcPort }, 'OTLP/gRPC trace intake listening (TraceService/Export)');
      metrics.otlpIntakes.set(1, { protocol: 'grpc' });
    }

    if (config.apiInsecureNoAuth && !config.apiToken) {
      log.warn({ apiHost: config.apiHost }, 'the API and UI ask for no token (--api-insecure-no-auth): anyone who reaches them reads every trace');
    }
    const reader = openReader(config, store, config.queryTimeoutMs);
    started.push(() => reader.close());
    // Monitors read the stats and the error rollups through the query reader: never the intake's thread.
    // Always on: with no monitors file, monitors made in the UI are evaluated (and a round with no
    // monitor at all reads nothing but the store's short list of them).
    let monitors: MonitorRunner | undefined;
    {
      const file = monitorsFile ?? { monitors: [], channels: [] };
      const logOnceMonitors = new LogOnce(log);
      const monitorReader = new MonitorReader({
        stats: { query: (q) => stats.query(q, reader) }, serviceStats: (r) => stats.serviceStats(r, reader), rollups: reader,
        ...(store.errorStatuses ? { statuses: store.errorStatuses.bind(store) } : {}),
      });
      const lease = await sharedLease(config, 'monitors', opts.transports);
      if (lease) started.push(() => lease.close());
      const runner = new MonitorRunner({
        file, log, intervalMs: config.monitorsIntervalMs, ...(lease ? { leader: () => lease.holds() } : {}),
        ...(store.monitorMutes ? { mutes: store.monitorMutes.bind(store) } : {}),
        ...(store.saveMonitorEvent && store.monitorEvents ? { events: { save: store.saveMonitorEvent.bind(store), recent: store.monitorEvents.bind(store) } } : {}),
        ...(store.savedMonitors ? { saved: async () => (await store.savedMonitors!()).flatMap((x) => {
          try {
            return [parseMonitor(JSON.parse(x.definition), file.channels.map((c) => c.name))];
          } catch (err) {
            // One the file's channels no longer have, say: said, and left out until mended.
            logOnceMonitors.warn(`monitor ${x.id}`, { monitor: x.id, err: (err as Error).message }, 'a monitor made in the UI is no longer valid and is not evaluated');
            return [];
          }
        }) } : {}),
        read: (m, now) => monitorReader.read(m, now),
      });
      runner.start();
      started.push(() => runner.close());
      monitors = runner;
      if (monitorsFile) log.info({ monitors: monitorsFile.monitors.length, channels: monitorsFile.channels.length, file: config.monitorsFile }, 'monitors evaluated every round');
    }
    const receiverText = receiverAddress ? `${receiverAddress.address}:${receiverAddress.port}` : null;
    const api = buildApi({
      store: reader, storeStats: () => store.stats(), stats: { query: (q) => stats.query(q, reader), serviceStats: (r) => stats.serviceStats(r, reader) }, metrics, searchPageMs: config.searchPageMs,
      hardening: { bindHost: config.apiHost, allowedHosts: config.apiAllowedHosts },
      auth: { token: config.apiToken || undefined, sessionTtlMs: config.apiSessionTtlMs, secureCookie: config.apiSecureCookie },
      trustProxy: config.apiTrustProxy,
      ...(receiver ? { live: pipeline.live } : {}),
      logOnce: new LogOnce(log),
      ...(store.setErrorStatus && store.errorStatuses ? { errorStatus: { set: store.setErrorStatus.bind(store), all: store.errorStatuses.bind(store) } } : {}),
      health: () => ({ version: ECS_TRACE_VERSION, receiver: receiverText, store: storeHealth(maintenance.health(), store.condition?.()) }),
      red: () => stats.redMetrics(),
      logLinks,
      ...(receiver ? { instances } : {}),
      ...(remoteConfig ? { remoteConfig: { remoteConfig, served: receiver !== undefined && config.remoteConfig } } : {}),
      ...(monitors ? { monitors: {
        statuses: () => monitors.statuses(), test: (id: string) => monitors.test(id), file: config.monitorsFile ?? (config.monitors !== undefined ? 'ECS_TRACE_MONITORS' : undefined), channels: () => monitors.channelNames(),
        ...(store.saveMonitor ? { save: async (id: string, m: Monitor | null) => {
          await store.saveMonitor!(id, m === null ? null : JSON.stringify(monitorToFile(m)));
          await monitors.readSaved();
        } } : {}),
        ...(store.setMonitorMute ? { mute: async (id: string, untilMs: number | null) => {
          if (!monitors.statuses().some((s) => s.monitor.id === id)) return false;
          await store.setMonitorMute!(id, untilMs === null ? null : BigInt(untilMs) * 1_000_000n);
          return monitors.muted(id, untilMs);
        } } : {}),
      } } : {}),
    });
    started.push(() => api.close());
    try {
      await api.listen({ host: config.apiHost, port: opts.ephemeralPorts ? 0 : config.apiPort });
    } catch (err) {
      throw new Error(`cannot listen for the query API on ${config.apiHost}:${config.apiPort}: ${(err as Error).message}`);
    }
    const apiAddress = api.server.address() as AddressInfo;
    log.info({ host: apiAddress.address, port: apiAddress.port, dataDir: config.dataDir }, 'query API listening');

    // Shutdown order: stop taking traces, stop answering, flush stats, then the store.
    const receiverClose = receiver ? () => receiver.close() : undefined;
    return {
      receiver: receiverAddress,
      otlpHttp: otlpHttpBound,
      otlpGrpcPort,
      receiverSocket: receiver && config.receiverSocket ? config.receiverSocket : undefined,
      api: apiAddress,
      apiRoutes: apiRoutes(api),
      store,
      async forwarded() {
        await Promise.all([...outlets.map((o) => o.drained()), telemetryForwarder?.idle()]);
      },
      async close() {
        await receiverClose?.();
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
