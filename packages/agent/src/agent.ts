import type { AddressInfo } from 'node:net';
import type { AgentConfig } from './config.js';
import { Receiver, receiverHost } from './intake/index.js';
import { createPipeline } from './process/index.js';
import { buildApi } from './query/index.js';
import { AGENT_VERSION, agentMetrics, createLogger, isContainerized, LogOnce, type Logger } from './runtime/index.js';
import { openReader, openStore, type TraceStore } from './store/index.js';

export interface RunningAgent {
  /** The intake address, or undefined when DD_APM_ENABLED=false or there is no TCP listener. */
  receiver: AddressInfo | undefined;
  /** The intake's unix socket, when DD_APM_RECEIVER_SOCKET is set. */
  receiverSocket: string | undefined;
  api: AddressInfo;
  store: TraceStore;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Overrides container detection (tests). */
  containerized?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Listen on ports the OS picks (tests, embedding); `receiverPort: 0` still turns intake off. */
  ephemeralPorts?: boolean;
}

const RETENTION_INTERVAL_MS = 30_000;

/** Starts the store, the intake (unless disabled) and the query API. */
export async function startAgent(config: AgentConfig, opts: StartOptions = {}): Promise<RunningAgent> {
  const log = opts.log ?? createLogger(config.logLevel);
  const metrics = agentMetrics();
  const store = await openStore(config);
  const env = opts.env ?? process.env;
  const { pipeline, stats, sampler } = createPipeline(config, { store, metrics, log, env });

  let receiver: Receiver | undefined;
  let receiverAddress: AddressInfo | undefined;
  const containerized = opts.containerized ?? isContainerized(env);
  if (config.apmEnabled && (config.receiverPort !== 0 || config.receiverSocket)) {
    receiver = new Receiver({ config, traces: pipeline, rates: sampler, clientStats: stats, metrics, log, logOnce: new LogOnce(log) });
    if (config.receiverPort !== 0) {
      const host = receiverHost(config, containerized);
      try {
        receiverAddress = await receiver.listen(host, opts.ephemeralPorts ? 0 : config.receiverPort);
      } catch (err) {
        await store.close();
        throw new Error(`cannot listen for traces on ${host}:${config.receiverPort}: ${(err as Error).message}`);
      }
      log.info({ host: receiverAddress.address, port: receiverAddress.port, nonLocal: host !== '127.0.0.1' && host !== '::1', containerized }, 'trace intake listening');
    } else {
      log.warn('DD_APM_RECEIVER_PORT=0: the TCP trace receiver is off');
    }
    if (config.receiverSocket) {
      try {
        await receiver.listenSocket(config.receiverSocket);
      } catch (err) {
        await receiver.close();
        await store.close();
        throw new Error(`cannot listen for traces on unix socket ${config.receiverSocket}: ${(err as Error).message}`);
      }
      log.info({ socket: config.receiverSocket }, 'trace intake listening on a unix socket');
    }
  } else if (!config.apmEnabled) {
    log.warn('DD_APM_ENABLED=false: the trace receiver is not started; the query API still serves stored traces');
  } else {
    log.warn('DD_APM_RECEIVER_PORT=0: the TCP trace receiver is off');
  }

  const reader = openReader(config, store, config.queryTimeoutMs);
  const api = buildApi({
    store: reader, stats: { query: (q) => stats.query(q, reader) }, metrics, queryTimeoutMs: config.queryTimeoutMs,
    ...(receiver ? { live: pipeline.live } : {}),
    health: () => ({ version: AGENT_VERSION, receiver: receiverAddress ? `${receiverAddress.address}:${receiverAddress.port}` : null }),
  });
  try {
    await api.listen({ host: config.apiHost, port: opts.ephemeralPorts ? 0 : config.apiPort });
  } catch (err) {
    await receiver?.close();
    await reader.close();
    await store.close();
    throw new Error(`cannot listen for the query API on ${config.apiHost}:${config.apiPort}: ${(err as Error).message}`);
  }
  const apiAddress = api.server.address() as AddressInfo;
  log.info({ host: apiAddress.address, port: apiAddress.port, dataDir: config.dataDir }, 'query API listening');

  let retentionRunning = false;
  const retention = setInterval(() => {
    if (retentionRunning) return;
    retentionRunning = true;
    const cutoff = (BigInt(Date.now()) - BigInt(config.retentionMs)) * 1_000_000n;
    store.enforceRetention(cutoff, config.maxDiskBytes)
      .then((r) => {
        if (r.deletedSpans > 0) {
          metrics.retentionDeleted.inc({ reason: r.reason }, r.deletedSpans);
          log.info(r, 'retention deleted old traces');
        }
      })
      .catch((err: unknown) => log.error({ err }, 'retention failed'))
      .finally(() => { retentionRunning = false; });
  }, RETENTION_INTERVAL_MS);
  retention.unref();

  let closed = false;
  return {
    receiver: receiverAddress,
    receiverSocket: receiver && config.receiverSocket ? config.receiverSocket : undefined,
    api: apiAddress,
    store,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(retention);
      await receiver?.close();
      await api.close();
      await stats.close();
      await reader.close();
      await store.close();
    },
  };
}
