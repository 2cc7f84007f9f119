import type { Container } from './input.js';

/** Environment edits that keep the order of what is there: a changed value stays in place. */

export function getEnv(c: Container, name: string): string | undefined {
  return c.environment?.find((e) => e.name === name)?.value;
}

/** Sets a variable; returns the previous value (undefined if it was not set). */
export function setEnv(c: Container, name: string, value: string): string | undefined {
  c.environment ??= [];
  const e = c.environment.find((x) => x.name === name);
  if (e) {
    const prev = e.value;
    e.value = value;
    return prev;
  }
  c.environment.push({ name, value });
  return undefined;
}

export function removeEnv(c: Container, name: string): string | undefined {
  const i = c.environment?.findIndex((e) => e.name === name) ?? -1;
  if (i < 0) return undefined;
  const [e] = c.environment!.splice(i, 1);
  return e!.value;
}

export function hasSecret(c: Container, name: string): boolean {
  return c.secrets?.some((s) => s.name === name) ?? false;
}
