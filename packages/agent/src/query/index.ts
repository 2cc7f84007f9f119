export { apiRoutes, buildApi, type ApiOptions, type ApiRoute } from './server.js';
export { querySettings, type QueryConfig } from './settings.js';
export { isLoopback } from './security.js';
export type * from './api-types.js';
export { parseLogLinks, type LogLink } from './log-links.js';
