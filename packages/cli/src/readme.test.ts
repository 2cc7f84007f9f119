import { readFileSync } from 'node:fs';
import { configMarkdownTable } from '@ecs-trace/agent';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  it('has the configuration table generated from the settings registry (npm run docs:config)', () => {
    const block = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(block?.[1]).toBe(configMarkdownTable());
  });

  it('keeps the two-command quick start', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
