export { Pipeline, normalizedDefaultEnv, type IntakePayload, type PipelineOptions, type ProcessResult, type StoredChunk } from './pipeline.js';
export { createPipeline, type CreatedPipeline, type PipelineDeps } from './create.js';
export { normalizeChunk, type NormalizeCounters } from './normalize.js';
export { TraceSampler } from './sampler/sampler.js';
export { Obfuscator } from './obfuscate/obfuscator.js';
export { FilterConfigError } from './filters.js';
export { processSettings, traceFilters, obfuscationConfig, sqlObfuscation, ecsAgentUrl, type ProcessConfig } from './settings.js';
