import type { Instrumentation } from '../instrumentation.js';
import { fetchInstrumentation } from './fetch.js';
import { httpInstrumentation } from './http.js';

export { fetchInstrumentation, httpInstrumentation };

/** node:http/https servers and clients, and global fetch. */
export function defaultInstrumentations(): Instrumentation[] {
  return [httpInstrumentation, fetchInstrumentation];
}
