import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_FILES } from '../../../scripts/generate-deploy.js';

/* `ecs-trace taskdef` as users run it: exit codes, messages that name the field, files on disk. */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const FIXTURES = join(ROOT, 'packages/taskdef/src/fixtures');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, 'taskdef', ...args], { cwd: ROOT, input, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'ecs-trace-taskdef-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

describe('ecs-trace taskdef: bad input gets one clear message and exit code 2', () => {
  it('not JSON', () => {
    const r = cli(['agent', file('bad.json', '{"family": ')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ecs-trace taskdef: .*bad\.json is not JSON/);
    expect(r.stdout).toBe('');
  });

  it('not a task definition', () => {
    const r = cli(['app', file('svc.json', '{"serviceName": "x"}'), '--container', 'web']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toContain('containerDefinitions: ');
    expect(r.stderr).toContain('is not a task definition: it has no containerDefinitions');
  });

  it('container not found', () => {
    const r = cli(['app', join(FIXTURES, 'app.json'), '--container', 'api']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ecs-trace taskdef: containerDefinitions: no container named "api"; the containers are "web", "log-router"\n');
  });

  it('a conflicting port mapping on 8126', () => {
    const def = { family: 'a', containerDefinitions: [{ name: 'datadog-agent', image: 'x:1', memory: 256, portMappings: [{ containerPort: 8080, hostPort: 8126, protocol: 'tcp' }] }] };
    const r = cli(['agent', '-'], JSON.stringify(def));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ecs-trace taskdef: containerDefinitions[0].portMappings[0]: host port 8126 is already mapped to container port 8080; the agent listens on 8126. Remove or change that mapping\n');
  });

  it('a file that does not exist', () => {
    const r = cli(['lint', join(dir, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read');
  });
});

describe('ecs-trace taskdef', () => {
  it('patches from stdin to stdout, notes on stderr', () => {
    const r = cli(['app', '-', '--container', 'web', '--image-entrypoint', 'none'], readFileSync(join(FIXTURES, 'app.json'), 'utf8'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).containerDefinitions[0].command).toEqual(['node', '--require', 'dd-trace/init', 'server.js']);
    expect(JSON.parse(r.stdout).containerDefinitions[0].entryPoint).toEqual(['ecs-trace', 'run', '--']);
    expect(r.stderr).toContain('the app starts through ecs-trace run, which must be in the image');
  });

  it('lint exits 1 on errors and prints findings as JSON with --json', () => {
    const r = cli(['lint', '--json', join(FIXTURES, 'app-describe.json')]);
    expect(r.code).toBe(1);
    const findings = JSON.parse(r.stdout) as { rule: string; path: string; fix: string }[];
    expect(findings.find((f) => f.rule === 'command-ignored')).toMatchObject({ path: 'containerDefinitions[0].command' });
  });

  it('lint exits 0 on warnings only', () => {
    const r = cli(['lint', join(FIXTURES, 'app.imdsv1.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning containerDefinitions[0].entryPoint');
  });

  it('normalize turns describe output into register input', () => {
    const r = cli(['normalize', join(FIXTURES, 'app-describe.json')]);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).not.toHaveProperty('revision');
    expect(doc).toHaveProperty('tags', [{ key: 'team', value: 'payments' }]);
    expect(r.stderr).toContain('removed what register-task-definition rejects: taskDefinitionArn, revision');
  });

  it('writes the agent definition to a file with -o', () => {
    const out = join(dir, 'agent.json');
    expect(cli(['agent', '--image', '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-trace/agent:0.2.0', '-o', out]).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(FIXTURES, 'agent.generated.json'), 'utf8'));
  });
});

describe('deploy/', () => {
  it.each(Object.keys(DEPLOY_FILES))('%s is what the taskdef commands produce (npm run deploy:generate)', (name) => {
    expect(readFileSync(join(ROOT, name), 'utf8')).toBe((DEPLOY_FILES as Record<string, () => string>)[name]!());
  });

  it('its task definitions lint clean', () => {
    const r = cli(['lint', 'deploy/agent-task-definition.json', 'deploy/app-task-definition.json', 'deploy/app-fargate-task-definition.json', 'deploy/ui-task-definition.json']);
    expect(r.stdout).toBe(['agent-task-definition', 'app-task-definition', 'app-fargate-task-definition', 'ui-task-definition'].map((f) => `deploy/${f}.json: no findings\n`).join(''));
    expect(r.code).toBe(0);
  });

  it('its service is a DAEMON service of the agent task definition', () => {
    const svc = JSON.parse(readFileSync(join(ROOT, 'deploy/agent-service.json'), 'utf8')) as Record<string, unknown>;
    const td = JSON.parse(readFileSync(join(ROOT, 'deploy/agent-task-definition.json'), 'utf8')) as Record<string, unknown>;
    expect(svc).toMatchObject({ schedulingStrategy: 'DAEMON', launchType: 'EC2', taskDefinition: td['family'] });
  });
});

describe('ecs-trace taskdef ui', () => {
  it('names the missing flag, and a task size Fargate lacks, with exit 2', () => {
    const missing = cli(['ui', '--store-secret', 'arn:s', '--execution-role-arn', 'arn:r']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("required option '--token-secret <arn>' not specified");
    const size = cli(['ui', '--store-secret', 'arn:s', '--token-secret', 'arn:t', '--execution-role-arn', 'arn:r', '--memory', 'lots']);
    expect(size.code).toBe(2);
    expect(size.stderr).toBe('ecs-trace taskdef: --memory: must be a whole number, not "lots"\n');
  });

  it('the service points at the UI container and port of the UI task definition', () => {
    const svc = JSON.parse(readFileSync(join(ROOT, 'deploy/ui-service.json'), 'utf8')) as { loadBalancers: { containerName: string; containerPort: number }[]; taskDefinition: string };
    const td = JSON.parse(readFileSync(join(ROOT, 'deploy/ui-task-definition.json'), 'utf8')) as { family: string; containerDefinitions: { name: string; portMappings: { containerPort: number }[] }[] };
    expect(svc.taskDefinition).toBe(td.family);
    expect(svc.loadBalancers[0]).toEqual({ targetGroupArn: expect.any(String), containerName: td.containerDefinitions[0]!.name, containerPort: td.containerDefinitions[0]!.portMappings[0]!.containerPort });
  });
});

describe('first run, as a new user meets it', () => {
  it('an API key secret without an execution role is refused, naming the flag; with one, lint passes', () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-api-key';
    const refused = cli(['agent', '--api-key-secret', secret]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^ecs-trace taskdef: executionRoleArn: the DD_API_KEY secret needs a role .*--execution-role-arn ARN/);
    const out = join(dir, 'agent-with-key.json');
    expect(cli(['agent', '--api-key-secret', secret, '--execution-role-arn', 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole', '--image', '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-trace/agent:0.2.0', '-o', out]).code).toBe(0);
    expect(cli(['lint', out]).code).toBe(0);
    // The image as the examples name it before it is built and pushed: ECS could not pull it.
    const unpushed = join(dir, 'agent-unpushed.json');
    const made = cli(['agent', '-o', unpushed]);
    expect(made.stderr).toContain('image: ecs-trace/agent:0.2.0 is in no registry: build deploy/Dockerfile, push it to your ECR and pass --image with its URI');
    const lint = cli(['lint', unpushed]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain('image-not-in-a-registry');
  });

  it('taskdef app needs no --container when the task definition has one', () => {
    const r = cli(['app', 'deploy/src/app.json', '--image-entrypoint', 'none']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).containerDefinitions[0].entryPoint).toEqual(['ecs-trace', 'run', '--']);
    const two = cli(['app', join(FIXTURES, 'app.json')]);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe('ecs-trace taskdef: containerDefinitions: has 2 containers ("web", "log-router"): say which one with --container\n');
  });

  it('the web UI\'s own hint works on the sample app', () => {
    const page = readFileSync(join(ROOT, 'packages/ui/src/pages/services.ts'), 'utf8');
    const hint = /<code>ecs-trace taskdef app app\.json ([^<]*)<\/code>/.exec(page)![1]!;
    const args = [...hint.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    const r = cli(['app', 'deploy/src/app.json', ...args]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).containerDefinitions[0].entryPoint).toEqual(['ecs-trace', 'run', '--', 'docker-entrypoint.sh']);
  });

  it('lint of a file that is not a task definition is bad input: exit 2', () => {
    const r = cli(['lint', 'deploy/agent-service.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('not-a-task-definition');
  });
});

describe('a shared store for the agent', () => {
  it('--store-secret reads the store URL from a secret (which needs an execution role), and lint flags a password in plain sight', () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecs-trace-store';
    const noRole = cli(['agent', '--store-secret', secret]);
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toContain('executionRoleArn: the ECS_TRACE_STORE secret needs a role');
    const r = cli(['agent', '--store-secret', secret, '--execution-role-arn', 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { containerDefinitions: { secrets: { name: string; valueFrom: string }[]; environment: { name: string }[] }[] };
    expect(doc.containerDefinitions[0]!.secrets).toContainEqual({ name: 'ECS_TRACE_STORE', valueFrom: secret });
    expect(doc.containerDefinitions[0]!.environment.map((e) => e.name)).not.toContain('ECS_TRACE_STORE');
    const plain = JSON.parse(r.stdout) as { containerDefinitions: { environment: { name: string; value: string }[] }[] };
    plain.containerDefinitions[0]!.environment.push({ name: 'ECS_TRACE_STORE', value: 'postgres://ecs:s3cret@db.internal/traces' });
    const lint = cli(['lint', file('plain-store.json', JSON.stringify(plain))]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain('store-password-plain');
    expect(lint.stdout).not.toContain('s3cret');
  });
});
