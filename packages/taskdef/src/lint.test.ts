import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatFindings, hasErrors, lintTaskDefinition, type Finding } from './lint.js';

const read = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as unknown;
const rules = (f: Finding[]) => f.map((x) => `${x.severity}:${x.rule}:${x.path}`);

function taskdef(container: Record<string, unknown>, top: Record<string, unknown> = {}): unknown {
  return { family: 'f', ...top, containerDefinitions: [{ name: 'web', image: 'app:1.0', memory: 128, ...container }] };
}
const agent = (container: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
  taskdef({ name: 'datadog-agent', image: 'public.ecr.aws/datadog/agent:7.60.0', portMappings: [{ containerPort: 8126, hostPort: 8126, protocol: 'tcp' }], ...container }, top);

describe('taskdef lint', () => {
  it('flags an agent without the 8126/tcp host port', () => {
    const f = lintTaskDefinition(agent({ portMappings: [] }));
    expect(rules(f)).toEqual(['error:agent-port:containerDefinitions[0].portMappings']);
    expect(f[0]!.fix).toContain('"hostPort": 8126');
  });

  it('flags an agent whose 8126 is a dynamic host port', () => {
    expect(rules(lintTaskDefinition(agent({ portMappings: [{ containerPort: 8126, protocol: 'tcp' }] })))).toEqual(['error:agent-port:containerDefinitions[0].portMappings']);
  });

  it('flags udp on 8126', () => {
    expect(rules(lintTaskDefinition(agent({ portMappings: [{ containerPort: 8126, hostPort: 8126, protocol: 'udp' }] })))).toEqual(['error:agent-port-udp:containerDefinitions[0].portMappings[0].protocol']);
  });

  it('flags an agent in awsvpc mode', () => {
    expect(rules(lintTaskDefinition(agent({}, { networkMode: 'awsvpc' })))).toEqual(['error:agent-awsvpc:networkMode']);
  });

  it('flags DD_API_KEY as a plain value, and secrets without an execution role', () => {
    expect(rules(lintTaskDefinition(agent({ environment: [{ name: 'DD_API_KEY', value: 'abc' }] })))).toEqual(['error:api-key-plain:containerDefinitions[0].environment[0]']);
    expect(rules(lintTaskDefinition(agent({ environment: [{ name: 'ECS_TRACE_OTLP_EXPORT_HEADERS', value: 'authorization=Bearer%20x' }] })))).toEqual(['error:otlp-headers-plain:containerDefinitions[0].environment[0]']);
    expect(rules(lintTaskDefinition(agent({ secrets: [{ name: 'DD_API_KEY', valueFrom: 'arn:aws:ssm:us-east-1:1:parameter/dd' }] })))).toEqual(['error:secrets-without-role:executionRoleArn']);
  });

  it("flags a shared store's password written in ECS_TRACE_STORE, PostgreSQL's or ClickHouse's", () => {
    for (const url of ['postgres://ecs:s3cr3t@db.internal/traces', 'clickhouse://default:s3cr3t@ch.internal:8123/traces', 'https://default:s3cr3t@abc.clickhouse.cloud:8443/traces']) {
      const f = lintTaskDefinition(agent({ environment: [{ name: 'ECS_TRACE_STORE', value: url }] }));
      expect(f.filter((x) => x.rule === 'store-password-plain').map((x) => x.severity)).toEqual(['error']);
      expect(formatFindings(f, 'agent.json')).not.toContain('s3cr3t');
    }
    const none = lintTaskDefinition(agent({ environment: [{ name: 'ECS_TRACE_STORE', value: 'clickhouse://default@ch.internal:8123/traces' }] }));
    expect(none.filter((x) => x.rule === 'store-password-plain')).toEqual([]);
  });

  it('flags :latest and untagged images', () => {
    expect(rules(lintTaskDefinition(agent({ image: 'public.ecr.aws/datadog/agent:latest' })))).toEqual(['warning:latest-image:containerDefinitions[0].image']);
    expect(rules(lintTaskDefinition(taskdef({ image: 'nginx' })))).toEqual(['warning:latest-image:containerDefinitions[0].image']);
    expect(lintTaskDefinition(taskdef({ image: 'nginx@sha256:0123' }))).toEqual([]);
    expect(lintTaskDefinition(taskdef({ image: 'localhost:5000/app:2' }))).toEqual([]);
  });

  it('recommends the launcher only where Node is in the image; the socket, which needs nothing in it, elsewhere', () => {
    const fix = (start: Record<string, unknown>) => lintTaskDefinition(taskdef({ ...start, environment: [{ name: 'DD_SERVICE', value: 'web' }] }))[0]!.fix;
    expect(fix({ command: ['node', 'server.js'] })).toMatch(/--discovery launcher \(Node is in its image\)$/);
    expect(fix({ entryPoint: ['/usr/local/bin/npm'], command: ['start'] })).toMatch(/--discovery launcher/);
    for (const start of [{ command: ['java', '-javaagent:/dd-java-agent.jar', '-jar', '/app.jar'] }, { entryPoint: ['/app/server'] }, { command: ['ddtrace-run', 'gunicorn', 'app:app'] }, {}]) {
      const f = fix(start);
      expect(f).toContain('--discovery uds with the agent\'s socket (ecs-trace taskdef agent FILE --uds): nothing needed in the image');
      expect(f).toContain('ECS_ENABLE_CONTAINER_METADATA=true');
      expect(f).not.toContain('launcher');
    }
  });

  it('flags a traced app with no way to learn DD_AGENT_HOST, and one pointed at itself', () => {
    expect(rules(lintTaskDefinition(taskdef({ environment: [{ name: 'DD_SERVICE', value: 'web' }] })))).toEqual(['warning:app-no-agent-host:containerDefinitions[0].entryPoint']);
    expect(rules(lintTaskDefinition(taskdef({ environment: [{ name: 'DD_AGENT_HOST', value: 'localhost' }] })))).toEqual(['error:agent-host-loopback:containerDefinitions[0].environment']);
    // Host network mode: loopback is the host.
    expect(lintTaskDefinition(taskdef({ environment: [{ name: 'DD_AGENT_HOST', value: '127.0.0.1' }] }, { networkMode: 'host' }))).toEqual([]);
    // An untraced sidecar is none of our business.
    expect(lintTaskDefinition(taskdef({}))).toEqual([]);
  });

  it('reminds traced apps in awsvpc mode of the security group rule', () => {
    const f = lintTaskDefinition(taskdef({ entryPoint: ['ecs-trace', 'run', '--', 'node', 'app.js'], environment: [{ name: 'DD_ENV', value: 'prod' }] }, { networkMode: 'awsvpc' }));
    expect(rules(f)).toEqual(['warning:app-awsvpc:networkMode']);
  });

  it('finds every latent bug of the seed\'s sh -c entryPoint', () => {
    const f = lintTaskDefinition(read('app-describe.json'));
    expect(rules(f)).toEqual([
      'error:describe-output:taskDefinition',
      'error:output-only-field:taskDefinitionArn',
      'error:output-only-field:revision',
      'error:output-only-field:status',
      'error:output-only-field:requiresAttributes',
      'error:output-only-field:compatibilities',
      'error:output-only-field:registeredAt',
      'error:output-only-field:registeredBy',
      'error:null-value:containerDefinitions[0].healthCheck',
      'warning:imdsv1-only:containerDefinitions[0].entryPoint',
      'warning:curl-without-fail:containerDefinitions[0].entryPoint',
      'warning:shell-without-exec:containerDefinitions[0].entryPoint',
      'error:command-ignored:containerDefinitions[0].command',
    ]);
  });

  it('warns that a hand-written IMDSv2 form in bridge mode needs hop limit 2', () => {
    const script = 'export TOKEN=$(curl -sf -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"); export DD_AGENT_HOST=$(curl -sf http://169.254.169.254/latest/meta-data/local-ipv4 -H "X-aws-ec2-metadata-token: $TOKEN"); exec node app.js';
    expect(rules(lintTaskDefinition(taskdef({ entryPoint: ['sh', '-c', script] })))).toEqual(['warning:imdsv2-bridge:containerDefinitions[0].entryPoint']);
  });

  it('flags service-level and unknown keys, which register-task-definition rejects', () => {
    expect(rules(lintTaskDefinition(agent({}, { schedulingStrategy: 'DAEMON', contianerDefinitions: [] })))).toEqual(['error:service-key:schedulingStrategy', 'error:unknown-key:contianerDefinitions']);
  });

  it('says what is wrong with something that is not a task definition', () => {
    const f = lintTaskDefinition({ ContainerDefinitions: [] });
    expect(rules(f)).toEqual(['error:not-a-task-definition:ContainerDefinitions']);
    expect(f[0]!.message).toContain("CloudFormation's PascalCase keys");
  });

  it('prints findings errors first, with path, fix and rule', () => {
    const f = lintTaskDefinition(agent({ image: 'public.ecr.aws/datadog/agent:latest', portMappings: [] }));
    expect(hasErrors(f)).toBe(true);
    expect(formatFindings(f, 'agent.json')).toBe(
      'agent.json: error   containerDefinitions[0].portMappings  agent container "datadog-agent" has no host port 8126/tcp: tracers on the host\'s IP cannot reach it\n'
      + '    fix: add {"containerPort": 8126, "hostPort": 8126, "protocol": "tcp"} (ecs-trace taskdef agent FILE)  [agent-port]\n'
      + 'agent.json: warning containerDefinitions[0].image  "datadog-agent" uses :latest: each host may run a different version, and a bad release rolls out silently\n'
      + '    fix: pin a version tag or a digest  [latest-image]\n',
    );
  });
});
