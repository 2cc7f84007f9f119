import type { AgentMetrics, Logger } from '../runtime/index.js';
import { StatsService } from '../stats/index.js';
import type { StatsReader, StatsWriter, TraceWriter } from '../store/index.js';
import { ClientStatsIntake } from './client-stats.js';
import { isFargate } from '../runtime/index.js';
import { EcsTagger } from './ecs-tags.js';
import { Obfuscator } from './obfuscate/obfuscator.js';
import { normalizedDefaultEnv, Pipeline } from './pipeline.js';
import { TraceSampler } from './sampler/sampler.js';
import { dockerSocket, ecsAgentUrl, obfuscationConfig, traceFilters, type ProcessConfig } from './settings.js';

export interface PipelineDeps {
  store: TraceWriter & StatsWriter & StatsReader;
  metrics: AgentMetrics;
  log: Logger;
  /** The process environment, for finding the ECS agent (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** 0: the stats are flushed only on close (benchmarks). */
  statsFlushIntervalMs?: number;
}

export interface CreatedPipeline {
  pipeline: Pipeline;
  /** Where /v0.6/stats payloads go: obfuscated, then to the stats stage. */
  clientStats: ClientStatsIntake;
  stats: StatsService;
  sampler: TraceSampler;
  ecsTagger: EcsTagger | undefined;
}

/** The processing stage as the configuration describes it: one recipe for the agent and the benchmarks. */
export function createPipeline(config: ProcessConfig, deps: PipelineDeps): CreatedPipeline {
  const { store, metrics, log } = deps;
  const env = deps.env ?? process.env;
  // On Fargate the agent's own task is the only one, and task metadata v4 describes it.
  const fargate = isFargate(env) && env['ECS_CONTAINER_METADATA_URI_V4'] !== undefined && !config.ecsAgentUrl;
  const ecsUrl = fargate ? undefined : ecsAgentUrl(config, env);
  const onRefresh = (r: number | Error) => { if (r instanceof Error) metrics.ecsRefreshErrors.inc(); else metrics.ecsTasks.set(r); };
  const taskMetadataUrl = env['ECS_CONTAINER_METADATA_URI_V4'];
  const docker = fargate || !ecsUrl ? undefined : dockerSocket(config);
  const ecsTagger = fargate || ecsUrl
    ? new EcsTagger({ ...(ecsUrl ? { agentUrl: ecsUrl } : {}), ...(taskMetadataUrl ? { taskMetadataUrl } : {}), ...(docker ? { dockerSocket: docker } : {}), log, onRefresh })
    : undefined;
  if (ecsTagger) {
    log.info(fargate ? { taskMetadata: taskMetadataUrl, fargate: true } : { url: ecsUrl, dockerSocket: docker ?? null }, 'tagging spans with their ECS task and container');
    void ecsTagger.refresh();
  }
  const defaultEnv = normalizedDefaultEnv(config.env);
  const sampler = new TraceSampler({ targetTps: config.targetTps, errorTps: config.errorTps, rareSampler: config.rareSampler, defaultEnv });
  const stats = new StatsService(store, log, defaultEnv, {
    ...(deps.statsFlushIntervalMs !== undefined ? { flushIntervalMs: deps.statsFlushIntervalMs } : {}),
    ...(config.emfNamespace ? { emf: { namespace: config.emfNamespace, write: (line: string) => { process.stdout.write(line); } } } : {}),
  });
  const obfuscator = new Obfuscator(obfuscationConfig(config), () => metrics.sqlNonParsable.inc());
  const pipeline = new Pipeline({
    store, metrics, defaultEnv, hostname: config.hostname, sampler, stats, obfuscator, filters: traceFilters(config),
    ...(ecsTagger ? { ecsTagger } : {}),
  });
  return { pipeline, clientStats: new ClientStatsIntake(obfuscator, stats), stats, sampler, ecsTagger };
}
