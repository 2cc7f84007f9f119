// Rewrites the configuration table of README.md from the agent's settings registry.
import { readFileSync, writeFileSync } from 'node:fs';
import { configMarkdownTable } from '@ecs-trace/agent';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';
const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error(`README.md has no ${START} ... ${END} block`);
writeFileSync(path, readme.slice(0, a + START.length) + '\n' + configMarkdownTable() + '\n' + readme.slice(b));
