import { AsyncLocalStorage } from 'node:async_hooks';
import type { SpanImpl } from './span.js';

/** The active span, carried through async work by AsyncLocalStorage. */
export const storage = new AsyncLocalStorage<SpanImpl | null>();

export interface Scope {
  active(): SpanImpl | null;
  activate<T>(span: SpanImpl | null, fn: () => T): T;
}

export const scope: Scope = {
  active: () => storage.getStore() ?? null,
  activate: (span, fn) => storage.run(span, fn),
};
