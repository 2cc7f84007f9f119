import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** The variables an env file exports, as `set -a; . file` would set them. */
function readEnvFile(file: string): Record<string, string> {
  return Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => {
    const m = /^export ([A-Z0-9_]+)='(.*)'$/.exec(l)!;
    return [m[1]!, m[2]!];
  }));
}

describe('ecs-trace simulate', () => {
  it('writes each container\'s variables to a file it names, so one simulator serves every app', async () => {
    const sim = spawn(process.execPath, [BIN, 'simulate', '--imds-port', '0', '--ecs-port', '0', '--local-ipv4', '127.0.0.9', '--ready-after', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        sim.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('Run an app')) resolve(); });
        sim.once('exit', (code) => reject(new Error(`simulate exited ${code}`)));
      });
      const files = [...out.matchAll(/variables in (\S+)/g)].map((m) => m[1]!);
      expect(files.length).toBeGreaterThanOrEqual(2);
      for (const f of files) expect(existsSync(f)).toBe(true);
      const web = files.find((f) => f.endsWith('/web.env'))!;
      expect(out).toContain(`set -a; . ${files[0]}; set +a; ecs-trace run -- node app.js`);
      // An app started with those variables finds the simulated host's private IP.
      const env = readEnvFile(web);
      expect(env['ECS_CONTAINER_METADATA_FILE']).toBeTruthy();
      const found = spawnSync(process.execPath, [BIN, 'discover', '--order', 'metadata-file'], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
      expect(found.stdout.trim()).toBe('127.0.0.9');
    } finally {
      sim.kill('SIGTERM');
      await new Promise((r) => sim.once('exit', r));
    }
  });
});
