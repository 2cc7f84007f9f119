import type { Setting } from '../runtime/index.js';

export interface QueryConfig {
  apiPort: number;
  apiHost: string;
  queryTimeoutMs: number;
  searchPageMs: number;
  apiAllowedHosts: string[];
  apiToken: string | undefined;
  apiTokenFile: string | undefined;
  apiInsecureNoAuth: boolean;
  apiSessionTtlMs: number;
  apiSecureCookie: boolean;
  apiTrustProxy: string[];
  logLinks: string | undefined;
}

export const querySettings: Setting<QueryConfig>[] = [
  { key: 'apiPort', env: ['ECS_TRACE_API_PORT'], flag: 'api-port', type: 'port', default: '8127', description: 'Port of the query API and web UI.' },
  { key: 'apiHost', env: ['ECS_TRACE_API_HOST'], flag: 'api-host', type: 'string', default: '127.0.0.1', description: 'Address of the query API and web UI; loopback unless you open it on purpose.' },
  { key: 'queryTimeoutMs', env: ['ECS_TRACE_QUERY_TIMEOUT'], flag: 'query-timeout', type: 'duration', default: '10s', description: 'Longest a query of the API may run; a longer one is stopped and answered 503 with the reason. Queries run on their own thread and never hold up intake.' },
  { key: 'searchPageMs', env: ['ECS_TRACE_SEARCH_PAGE_TIME'], flag: 'search-page-time', type: 'duration', default: '3s', description: 'How long one page of a trace search looks before it answers with what it found, how far back it searched (`searchedFrom`) and a cursor to go on; a search that covers its range sooner says it is complete.' },
  { key: 'apiAllowedHosts', env: ['ECS_TRACE_API_ALLOWED_HOSTS'], flag: 'api-allowed-hosts', type: 'list', default: '', description: 'Host names the API and UI answer to besides loopback ones, when bound to loopback (e.g. a name in /etc/hosts); other Host headers get 403, which stops DNS rebinding.' },
  { key: 'apiToken', secret: true, env: ['ECS_TRACE_API_TOKEN'], type: 'string', default: undefined, description: 'Token every API call must carry (`Authorization: Bearer ...`, or the cookie the UI\'s sign-in sets); required when the API listens beyond loopback. Never logged.' },
  { key: 'apiTokenFile', env: ['ECS_TRACE_API_TOKEN_FILE'], flag: 'api-token-file', type: 'string', default: undefined, description: 'A file holding the API token (an ECS secret mounted as a file), instead of `ECS_TRACE_API_TOKEN`.' },
  { key: 'apiInsecureNoAuth', env: ['ECS_TRACE_API_INSECURE_NO_AUTH'], flag: 'api-insecure-no-auth', type: 'boolean', default: 'false', description: 'Let the API listen beyond loopback without a token (anyone who reaches it reads every trace); logged as a warning at every start.' },
  { key: 'apiSessionTtlMs', env: ['ECS_TRACE_API_SESSION_TTL'], flag: 'api-session-ttl', type: 'duration', default: '12h', description: 'How long a sign-in on the web UI lasts. The cookie holds a session signed with a key derived from the token (not the token), revoked by sign-out; changing the token ends every session.' },
  { key: 'apiSecureCookie', env: ['ECS_TRACE_API_SECURE_COOKIE'], flag: 'api-secure-cookie', type: 'boolean', default: 'false', description: 'Mark the session cookie `Secure` on every sign-in. Without it, the cookie is `Secure` when the request came over TLS (`X-Forwarded-Proto: https` from a trusted proxy).' },
  { key: 'logLinks', env: ['ECS_TRACE_LOG_LINKS'], flag: 'log-links', type: 'string', default: undefined, description: 'Links from a span to the app\'s logs, a JSON list of `{"name", "url"}` whose URL templates the UI fills in: `{trace_id}`, `{trace_id_64}` (as dd-trace injects `dd.trace_id`), `{span_id}`, `{service}`, `{env}`, `{start}`/`{end}` (ms, 5 minutes either side), `{start_iso}`/`{end_iso}`, `{tag:NAME}`.' },
  { key: 'apiTrustProxy', env: ['ECS_TRACE_API_TRUST_PROXY'], flag: 'api-trust-proxy', type: 'list', default: '', description: 'Addresses or CIDRs of the proxies in front of the API (an ALB\'s subnets) whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed: the client address that sign-in limits count, and TLS for the cookie. Empty: none.' },
];
