export { buildApi, type ApiOptions } from './server.js';
export { querySettings, type QueryConfig } from './settings.js';
export type * from './api-types.js';
