export { buildApi, type ApiOptions } from './server.js';
export { querySettings, type QueryConfig } from './settings.js';
export { isLoopback } from './security.js';
export type * from './api-types.js';
