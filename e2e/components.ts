/**
 * Whether tests that need a system component may run: true when nothing is missing; otherwise the
 * reason is printed and they are skipped, except under CI=true, where a missing component fails
 * the run (`.ci/run` installs them all).
 */
export function componentsAvailable(missing: string | undefined, tests: string): boolean {
  if (missing === undefined) return true;
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${missing}: .ci/run installs what the ${tests} need`);
  console.warn(`skipping ${tests}: ${missing}`);
  return false;
}
