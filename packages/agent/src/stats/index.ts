export { StatsService } from './stats-service.js';
export { BUCKET_NS, Concentrator, MAX_GROUPS_PER_BUCKET, OTHER_RESOURCE, type ChunkInfo } from './concentrator.js';
export { clientStatsRows, type ClientStatsResult } from './client-stats.js';
