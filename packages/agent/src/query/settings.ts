import type { Setting } from '../runtime/index.js';

export interface QueryConfig {
  apiPort: number;
  apiHost: string;
  queryTimeoutMs: number;
  apiAllowedHosts: string[];
}

export const querySettings: Setting<QueryConfig>[] = [
  { key: 'apiPort', env: ['ECS_TRACE_API_PORT'], flag: 'api-port', type: 'port', default: '8127', description: 'Port of the query API and web UI.' },
  { key: 'apiHost', env: ['ECS_TRACE_API_HOST'], flag: 'api-host', type: 'string', default: '127.0.0.1', description: 'Address of the query API and web UI; loopback unless you open it on purpose.' },
  { key: 'queryTimeoutMs', env: ['ECS_TRACE_QUERY_TIMEOUT'], flag: 'query-timeout', type: 'duration', default: '10s', description: 'Longest a query of the API may run; a longer one is stopped and answered 503 with the reason. Queries run on their own thread and never hold up intake.' },
  { key: 'apiAllowedHosts', env: ['ECS_TRACE_API_ALLOWED_HOSTS'], flag: 'api-allowed-hosts', type: 'list', default: '', description: 'Host names the API and UI answer to besides loopback ones, when bound to loopback (e.g. a name in /etc/hosts); other Host headers get 403, which stops DNS rebinding.' },
];
