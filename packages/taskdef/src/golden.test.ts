import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentTaskDefinition } from './agent.js';
import { patchAppTaskDefinition, type AppOptions } from './app.js';
import { formatTaskDefinition, parseTaskDefinition } from './input.js';
import { hasErrors, lintTaskDefinition } from './lint.js';

/*
 * Golden files: a task definition in, the expected JSON out, byte for byte (key order included).
 * UPDATE_GOLDEN=1 rewrites them; review the diff before committing.
 */

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const read = (name: string) => readFileSync(fixture(name), 'utf8');

function golden(name: string, actual: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(fixture(name), actual);
  expect(actual).toBe(read(name));
}

describe('taskdef agent', () => {
  it('patches the seed\'s Datadog agent definition: 8126/tcp host port, APM env, the API key from a secret', () => {
    const { doc } = parseTaskDefinition(read('seed-agent.json'));
    const { doc: out } = agentTaskDefinition(doc, {
      apiKeySecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-api-key',
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
    });
    golden('seed-agent.patched.json', formatTaskDefinition(out));
    expect(formatTaskDefinition(out)).not.toContain('<YOUR_DATADOG_API_KEY>');
    expect(hasErrors(lintTaskDefinition(out))).toBe(false);
  });

  it('adds the unix socket shared with apps through a host volume', () => {
    const { doc } = agentTaskDefinition(undefined, { uds: true, image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-trace/agent:0.2.0' });
    golden('agent.uds.json', formatTaskDefinition(doc));
    expect(lintTaskDefinition(doc)).toEqual([]);
  });

  it('generates a new ecs-trace agent daemon definition that lints clean', () => {
    const { doc } = agentTaskDefinition(undefined, { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-trace/agent:0.2.0' });
    golden('agent.generated.json', formatTaskDefinition(doc));
    expect(lintTaskDefinition(doc)).toEqual([]);
  });
});

describe('taskdef app', () => {
  const modes: [string, AppOptions][] = [
    ['launcher', { container: 'web', discovery: 'launcher', imageEntrypoint: [], service: 'checkout', env: 'prod', version: '1.4.2' }],
    ['metadata-file', { container: 'web', discovery: 'metadata-file', imageEntrypoint: ['docker-entrypoint.sh'] }],
    ['imdsv2', { container: 'web', discovery: 'imdsv2', imageEntrypoint: ['docker-entrypoint.sh'] }],
    ['imdsv1', { container: 'web', discovery: 'imdsv1', imageEntrypoint: [] }],
    ['uds', { container: 'web', discovery: 'uds', service: 'checkout' }],
  ];
  it.each(modes)('patches the app definition for discovery by %s', (mode, options) => {
    const { doc } = parseTaskDefinition(read('app.json'));
    const { doc: out } = patchAppTaskDefinition(doc, options);
    golden(`app.${mode}.json`, formatTaskDefinition(out));
    // The other container and the rest of the file are untouched.
    expect(out.containerDefinitions![1]).toEqual(doc.containerDefinitions![1]);
    // Our own IMDSv1 form still cannot work where IMDSv2 is required, and lint says so.
    expect(lintTaskDefinition(out).filter((f) => f.severity !== 'info').map((f) => f.rule)).toEqual(mode === 'imdsv1' ? ['imdsv1-only'] : []);
  });

  it('rewrites a describe-task-definition output with the seed\'s sh -c entryPoint, given the start', () => {
    const { doc, removed } = parseTaskDefinition(read('app-describe.json'));
    expect(removed).toEqual(['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy', 'containerDefinitions[0].healthCheck']);
    const { doc: out, notes } = patchAppTaskDefinition(doc, { container: 'web', discovery: 'launcher', startupCommand: ['node', 'server.js', '--port', '3000'] });
    golden('app-describe.launcher.json', formatTaskDefinition(out));
    expect(notes).toContain('containerDefinitions[0].command: removed ["--port","3000"]; --startup-command is the whole start (add those arguments to it if the app needs them)');
  });

  it('patching twice gives the same result as patching once, whatever the modes', () => {
    const { doc } = parseTaskDefinition(read('app.json'));
    const once = patchAppTaskDefinition(doc, { container: 'web', discovery: 'imdsv2', imageEntrypoint: [] }).doc;
    const viaLauncher = patchAppTaskDefinition(patchAppTaskDefinition(doc, { container: 'web', discovery: 'launcher', imageEntrypoint: [] }).doc, { container: 'web', discovery: 'imdsv2' }).doc;
    expect(viaLauncher).toEqual(once);
    expect(patchAppTaskDefinition(once, { container: 'web', discovery: 'imdsv2' }).doc).toEqual(once);
  });
});
