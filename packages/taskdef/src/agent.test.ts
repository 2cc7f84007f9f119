import { describe, expect, it } from 'vitest';
import { agentTaskDefinition } from './agent.js';
import { TaskdefInputError } from './errors.js';
import type { TaskDefinition } from './input.js';

const def = (containers: Record<string, unknown>[]): TaskDefinition => ({ family: 'agent', containerDefinitions: containers }) as TaskDefinition;
const agent = (extra: Record<string, unknown> = {}) => ({ name: 'datadog-agent', image: 'public.ecr.aws/datadog/agent:7.60.0', ...extra });

function refusal(fn: () => unknown): TaskdefInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TaskdefInputError) return err;
    throw err;
  }
  throw new Error('expected a TaskdefInputError');
}

describe('agentTaskDefinition', () => {
  it('sets a dynamic 8126 mapping to the static host port, and udp to tcp, saying so', () => {
    const { doc, notes } = agentTaskDefinition(def([agent({ portMappings: [{ containerPort: 8126, protocol: 'udp' }] })]));
    expect(doc.containerDefinitions![0]!.portMappings).toEqual([{ containerPort: 8126, hostPort: 8126, protocol: 'tcp' }]);
    expect(notes).toContain('containerDefinitions[0].portMappings[0]: hostPort set to 8126 (a dynamic host port cannot be found by tracers)');
    expect(notes).toContain('containerDefinitions[0].portMappings[0]: protocol set to tcp (traces are sent over TCP; udp is DogStatsD\'s 8125)');
  });

  it('keeps a correct mapping and a DogStatsD one as they are', () => {
    const ports = [{ containerPort: 8125, hostPort: 8125, protocol: 'udp' }, { hostPort: 8126, containerPort: 8126, protocol: 'tcp' }];
    const { doc } = agentTaskDefinition(def([agent({ portMappings: ports, environment: [{ name: 'DD_APM_ENABLED', value: 'true' }, { name: 'DD_APM_NON_LOCAL_TRAFFIC', value: 'true' }] })]));
    expect(doc.containerDefinitions![0]!.portMappings).toEqual(ports);
  });

  it('turns DD_APM_NON_LOCAL_TRAFFIC=false to true in place, saying why', () => {
    const { doc, notes } = agentTaskDefinition(def([agent({ environment: [{ name: 'DD_APM_NON_LOCAL_TRAFFIC', value: 'false' }, { name: 'DD_SITE', value: 'datadoghq.eu' }] })]));
    expect(doc.containerDefinitions![0]!.environment).toEqual([{ name: 'DD_APM_NON_LOCAL_TRAFFIC', value: 'true' }, { name: 'DD_SITE', value: 'datadoghq.eu' }, { name: 'DD_APM_ENABLED', value: 'true' }]);
    expect(notes).toContain('containerDefinitions[0].environment: DD_APM_NON_LOCAL_TRAFFIC changed from "false" to "true" (needed by Datadog Agents up to 7.17 to accept traces from other containers; harmless after)');
  });

  it('refuses host port 8126 mapped to another container port, naming the mapping', () => {
    const e = refusal(() => agentTaskDefinition(def([agent({ portMappings: [{ containerPort: 80 }, { containerPort: 9000, hostPort: 8126 }] })])));
    expect(e.field).toBe('containerDefinitions[0].portMappings[1]');
    expect(e.message).toBe('containerDefinitions[0].portMappings[1]: host port 8126 is already mapped to container port 9000; the agent listens on 8126. Remove or change that mapping');
  });

  it('refuses container port 8126 on another static host port', () => {
    expect(refusal(() => agentTaskDefinition(def([agent({ portMappings: [{ containerPort: 8126, hostPort: 9126 }] })]))).message).toContain('container port 8126 is mapped to host port 9126');
  });

  it('refuses when another container already takes host port 8126', () => {
    const e = refusal(() => agentTaskDefinition(def([{ name: 'proxy', image: 'envoy:1', portMappings: [{ containerPort: 8126, hostPort: 8126 }] }, agent()])));
    expect(e.message).toBe('containerDefinitions[0].portMappings[0]: container "proxy" already takes host port 8126/tcp; the agent needs it. Remove that mapping or move the agent to that container with --container');
  });

  it('names the containers there are when the agent container is not found', () => {
    expect(refusal(() => agentTaskDefinition(def([agent({ name: 'dd' })]))).message).toBe('containerDefinitions: no container named "datadog-agent"; the containers are "dd"');
    expect(agentTaskDefinition(def([agent({ name: 'dd' })]), { container: 'dd' }).doc.containerDefinitions![0]!.portMappings).toHaveLength(1);
  });

  it('never writes a plain API key: refused without a secret, moved to secrets with one', () => {
    const input = def([agent({ environment: [{ name: 'DD_API_KEY', value: 'abcdef0123456789' }] })]);
    const e = refusal(() => agentTaskDefinition(input));
    expect(e.message).toContain('DD_API_KEY is a plain environment value');
    expect(e.message).not.toContain('abcdef0123456789');
    const secret = { apiKeySecret: 'arn:aws:ssm:us-east-1:123456789012:parameter/dd-api-key' };
    // A secret the ECS agent has no role to read would register and then fail every task.
    const noRole = refusal(() => agentTaskDefinition(input, secret));
    expect(noRole.message).toMatch(/^executionRoleArn: the DD_API_KEY secret needs a role .*--execution-role-arn ARN/);
    expect(noRole.message).not.toContain('abcdef0123456789');
    const { doc } = agentTaskDefinition(input, { ...secret, executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole' });
    expect(JSON.stringify(doc)).not.toContain('abcdef0123456789');
    expect(doc.containerDefinitions![0]!.secrets).toEqual([{ name: 'DD_API_KEY', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/dd-api-key' }]);
    expect(doc.executionRoleArn).toBe('arn:aws:iam::123456789012:role/ecsTaskExecutionRole');
  });

  it('gives the agent its monitors file from a secret (the channels\' addresses and keys with it), never as plain text', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecs-trace-monitors';
    expect(refusal(() => agentTaskDefinition(undefined, { monitorsSecret: arn })).message).toMatch(/^executionRoleArn: the ECS_TRACE_MONITORS secret needs a role/);
    const { doc } = agentTaskDefinition(undefined, { monitorsSecret: arn, executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole' });
    expect(doc.containerDefinitions![0]!.secrets).toEqual([{ name: 'ECS_TRACE_MONITORS', valueFrom: arn }]);
  });

  it("mounts the host's Docker socket read-only with --docker-socket, once, and not on Fargate", () => {
    const { doc, notes } = agentTaskDefinition(undefined, { dockerSocket: true });
    expect(doc.volumes).toContainEqual({ name: 'docker_sock', host: { sourcePath: '/var/run/docker.sock' } });
    expect(doc.containerDefinitions![0]!.mountPoints).toContainEqual({ sourceVolume: 'docker_sock', containerPath: '/var/run/docker.sock', readOnly: true });
    expect(notes.some((n) => n.includes('CloudWatch logs'))).toBe(true);
    // A Datadog Agent task definition has it already: nothing added twice.
    const again = agentTaskDefinition(doc, { dockerSocket: true });
    expect(again.doc.volumes!.filter((v) => v.host?.sourcePath === '/var/run/docker.sock')).toHaveLength(1);
    expect(again.doc.containerDefinitions![0]!.mountPoints!.filter((m) => m.containerPath === '/var/run/docker.sock')).toHaveLength(1);
    const fargate = agentTaskDefinition({ ...def([agent()]), requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc' }, { dockerSocket: true });
    expect(fargate.doc.volumes ?? []).toEqual([]);
    expect(fargate.notes).toContain('--docker-socket: Fargate has no host volumes (and its task metadata gives the log configuration): not mounted');
  });

  it('does not change its input', () => {
    const input = def([agent()]);
    const copy = structuredClone(input);
    agentTaskDefinition(input);
    expect(input).toEqual(copy);
  });
});

describe('taskdef agent --otlp', () => {
  it('opens 4318 and 4317 on the host and sets the Datadog Agent\'s OTLP endpoint variables', () => {
    const { doc } = agentTaskDefinition(undefined, { otlp: true, region: 'us-east-1' });
    const c = doc.containerDefinitions![0]!;
    expect(c.portMappings).toEqual(expect.arrayContaining([
      { containerPort: 4318, hostPort: 4318, protocol: 'tcp' }, { containerPort: 4317, hostPort: 4317, protocol: 'tcp' },
    ]));
    expect(c.environment).toEqual(expect.arrayContaining([
      { name: 'DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT', value: '0.0.0.0:4318' },
      { name: 'DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT', value: '0.0.0.0:4317' },
    ]));
    expect(agentTaskDefinition(doc, { otlp: true }).doc).toEqual(doc);
  });
});

describe('taskdef agent --otlp-export', () => {
  const role = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';
  const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:otlp-headers-AbCdEf';

  it('sets the endpoint in the environment and the headers from a secret', () => {
    const { doc, notes } = agentTaskDefinition(undefined, { otlpExport: 'http://otel-collector.local:4318', otlpExportHeadersSecret: secret, executionRoleArn: role, region: 'us-east-1' });
    const c = doc.containerDefinitions![0]!;
    expect(c.environment).toContainEqual({ name: 'ECS_TRACE_OTLP_EXPORT_ENDPOINT', value: 'http://otel-collector.local:4318' });
    expect(c.secrets).toContainEqual({ name: 'ECS_TRACE_OTLP_EXPORT_HEADERS', valueFrom: secret });
    expect(notes.join('\n')).toContain('ECS_TRACE_OTLP_EXPORT_ENDPOINT=http://otel-collector.local:4318');
    expect(agentTaskDefinition(doc, { otlpExport: 'http://otel-collector.local:4318', otlpExportHeadersSecret: secret }).notes).toEqual([]);
  });

  it('moves plain headers into the secret, and refuses them without one', () => {
    const plain: TaskDefinition = { family: 'a', containerDefinitions: [{ name: 'datadog-agent', image: 'ecs-trace/agent:0.2.0', environment: [{ name: 'ECS_TRACE_OTLP_EXPORT_HEADERS', value: 'authorization=Bearer%20s3cret' }] }] };
    expect(() => agentTaskDefinition(structuredClone(plain), {})).toThrow(/ECS_TRACE_OTLP_EXPORT_HEADERS is a plain environment value/);
    const { doc } = agentTaskDefinition(structuredClone(plain), { otlpExportHeadersSecret: secret, executionRoleArn: role });
    expect(JSON.stringify(doc)).not.toContain('s3cret');
    expect(() => agentTaskDefinition(undefined, { otlpExportHeadersSecret: secret })).toThrow(/ECS_TRACE_OTLP_EXPORT_HEADERS secret needs a role/);
  });

  it('names the option when the endpoint is not an http(s) URL, or carries credentials', () => {
    for (const bad of ['otel-collector:4317', 'grpc://c:4317', 'https://user:pw@c/otlp']) {
      expect(() => agentTaskDefinition(undefined, { otlpExport: bad })).toThrow(TaskdefInputError);
      expect(() => agentTaskDefinition(undefined, { otlpExport: bad })).toThrow(/--otlp-export/);
    }
  });
});
