import type { Tracer } from '../tracer.js';
import { instrumentFetch } from './fetch.js';
import { instrumentHttp } from './http.js';

export function instrument(tracer: Tracer): void {
  instrumentHttp(tracer);
  instrumentFetch(tracer);
}
