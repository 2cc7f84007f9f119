export { StatsService } from './stats-service.js';
export { DEFAULT_PEER_TAGS, STATS_SPAN_KINDS } from './peer-tags.js';
export { BUCKET_NS, Concentrator, MAX_GROUPS_PER_BUCKET, OTHER_RESOURCE, type ChunkInfo } from './concentrator.js';
export { clientStatsRows, type ClientStatsResult } from './client-stats.js';
export { RedMetrics, BUCKETS_S, MAX_SERIES } from './red-metrics.js';
