import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { configMarkdownTable } from '@ecs-trace/agent';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  it('has the configuration table generated from the settings registry (npm run docs:config)', () => {
    const block = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(block?.[1]).toBe(configMarkdownTable());
  });

  // What a browser downloads for the UI, gzipped, as the README states it (within a tenth).
  const dist = new URL('../../../packages/ui/dist/', import.meta.url);
  it.skipIf(!existsSync(new URL('index.html', dist)))('states the UI\'s size as the build makes it', () => {
    const files = [new URL('index.html', dist), ...readdirSync(new URL('assets/', dist)).map((f) => new URL(`assets/${f}`, dist))];
    const kB = files.reduce((n, f) => n + gzipSync(readFileSync(f)).length, 0) / 1000;
    const stated = Number(/about (\d+) kB gzipped/.exec(readme)?.[1]);
    expect(Math.abs(stated - kB) / kB, `the README says about ${stated} kB gzipped; the build is ${kB.toFixed(1)} kB`).toBeLessThan(0.1);
  });

  it('keeps the two-command quick start', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
