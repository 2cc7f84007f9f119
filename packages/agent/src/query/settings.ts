import type { Setting } from '../runtime/index.js';

export interface QueryConfig {
  apiPort: number;
  apiHost: string;
  queryTimeoutMs: number;
  apiAllowedHosts: string[];
  apiToken: string | undefined;
  apiTokenFile: string | undefined;
  apiInsecureNoAuth: boolean;
}

export const querySettings: Setting<QueryConfig>[] = [
  { key: 'apiPort', env: ['ECS_TRACE_API_PORT'], flag: 'api-port', type: 'port', default: '8127', description: 'Port of the query API and web UI.' },
  { key: 'apiHost', env: ['ECS_TRACE_API_HOST'], flag: 'api-host', type: 'string', default: '127.0.0.1', description: 'Address of the query API and web UI; loopback unless you open it on purpose.' },
  { key: 'queryTimeoutMs', env: ['ECS_TRACE_QUERY_TIMEOUT'], flag: 'query-timeout', type: 'duration', default: '10s', description: 'Longest a query of the API may run; a longer one is stopped and answered 503 with the reason. Queries run on their own thread and never hold up intake.' },
  { key: 'apiAllowedHosts', env: ['ECS_TRACE_API_ALLOWED_HOSTS'], flag: 'api-allowed-hosts', type: 'list', default: '', description: 'Host names the API and UI answer to besides loopback ones, when bound to loopback (e.g. a name in /etc/hosts); other Host headers get 403, which stops DNS rebinding.' },
  { key: 'apiToken', env: ['ECS_TRACE_API_TOKEN'], type: 'string', default: undefined, description: 'Token every API call must carry (`Authorization: Bearer ...`, or the cookie the UI\'s sign-in sets); required when the API listens beyond loopback. Never logged.' },
  { key: 'apiTokenFile', env: ['ECS_TRACE_API_TOKEN_FILE'], flag: 'api-token-file', type: 'string', default: undefined, description: 'A file holding the API token (an ECS secret mounted as a file), instead of `ECS_TRACE_API_TOKEN`.' },
  { key: 'apiInsecureNoAuth', env: ['ECS_TRACE_API_INSECURE_NO_AUTH'], flag: 'api-insecure-no-auth', type: 'boolean', default: 'false', description: 'Let the API listen beyond loopback without a token (anyone who reaches it reads every trace); logged as a warning at every start.' },
];
