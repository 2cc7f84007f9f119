import type { Setting } from '../runtime/index.js';

export interface QueryConfig {
  apiPort: number;
  apiHost: string;
  queryTimeoutMs: number;
}

export const querySettings: Setting<QueryConfig>[] = [
  { key: 'apiPort', env: ['ECS_TRACE_API_PORT'], flag: 'api-port', type: 'port', default: '8127', description: 'Port of the query API and web UI.' },
  { key: 'apiHost', env: ['ECS_TRACE_API_HOST'], flag: 'api-host', type: 'string', default: '127.0.0.1', description: 'Address of the query API and web UI; loopback unless you open it on purpose.' },
  { key: 'queryTimeoutMs', env: ['ECS_TRACE_QUERY_TIMEOUT'], flag: 'query-timeout', type: 'duration', default: '10s', description: 'Longest a query of the API may run; a longer one is stopped and answered 503 with the reason. Queries run on their own thread and never hold up intake.' },
];
