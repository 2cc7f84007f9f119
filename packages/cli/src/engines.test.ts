import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/*
 * The Node versions the project says it runs on are ones every installed package accepts, so that
 * `npm ci` warns of no engine (the first command a new user runs): the oldest of each line the
 * root package.json names, against the engines of every package in the lockfile.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('supported Node versions', () => {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean }> };
  // The oldest version of each line the range names (^20.19.0 || ^22.13.0 || ^24.0.0: 20.19.0, 22.13.0, 24.0.0).
  const oldest = root.engines.node.split('||').map((part) => semver.minVersion(part.trim())!.version);

  it('names the lines it supports', () => {
    expect(oldest.length).toBeGreaterThan(0);
  });

  it.each(oldest)('Node %s is accepted by every installed package', (version) => {
    const refused = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !Array.isArray(p.engines) && p.engines?.node !== undefined && !p.optional)
      .filter(([, p]) => !semver.satisfies(version, (p.engines as { node: string }).node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version} needs node ${(p.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });
});
