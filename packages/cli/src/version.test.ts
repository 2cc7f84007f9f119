import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from '@ecs-trace/agent/testing';

/* One version everywhere a user or a tracer reads it. */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the version', () => {
  it('is the same in every package, the changelog, the image tag and the Dockerfile', () => {
    for (const dir of readdirSync(join(ROOT, 'packages'))) {
      expect((JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { version: string }).version, dir).toBe(version);
    }
    expect(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8')).toContain(`\n## ${version} (`);
    expect(readFileSync(join(ROOT, 'deploy/agent-task-definition.json'), 'utf8')).toContain(`/ecs-trace/agent:${version}"`);
    expect(readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8')).toContain(`ecs-trace/agent:${version}`);
  });

  it('is what ecs-trace --version prints and what /info reports', async () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), '--version'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(version);
    const agent = await startTestAgent();
    try {
      const info = (await (await fetch(`${agent.intake}/info`)).json()) as { version: string; git_commit: string };
      // The Datadog Agent version tracers gate features on, bare (see runtime/version.ts); ours beside it.
      expect(info.version).toBe('7.65.0');
      expect(info.git_commit).toBe(`ecs-trace ${version}`);
      const health = (await (await fetch(`${agent.apiUrl}/healthz`)).json()) as { version: string };
      expect(health.version).toBe(version);
    } finally {
      await agent.close();
    }
  });
});
