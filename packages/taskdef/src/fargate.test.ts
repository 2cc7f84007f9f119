import { describe, expect, it } from 'vitest';
import { patchAppForFargate } from './fargate.js';
import { parseTaskDefinition, type TaskDefinition } from './input.js';
import { lintTaskDefinition } from './lint.js';

const app = (extra: Partial<TaskDefinition> = {}): TaskDefinition => parseTaskDefinition(JSON.stringify({
  family: 'checkout', networkMode: 'bridge',
  containerDefinitions: [{ name: 'web', image: 'checkout:1.4.2', memory: 256, portMappings: [{ containerPort: 3000, hostPort: 0 }], command: ['node', '--require', 'dd-trace/init', 'server.js'], environment: [{ name: 'DD_AGENT_HOST', value: '10.0.0.5' }] }],
  ...extra,
})).doc;

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-trace/agent:0.2.0';
const ROLE = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';
const rules = (doc: unknown) => lintTaskDefinition(doc).map((f) => `${f.severity} ${f.rule} ${f.path}`);

describe('taskdef app --fargate', () => {
  it('adds the agent sidecar the app waits for, leaves the app\'s start alone, and lints clean', () => {
    const { doc, notes } = patchAppForFargate(app(), { region: 'us-east-1', service: 'checkout', agentImage: IMAGE, executionRoleArn: ROLE });
    expect(doc.executionRoleArn).toBe(ROLE);
    expect(doc).toMatchObject({ networkMode: 'awsvpc', cpu: '512', memory: '1024' });
    expect(doc.requiresCompatibilities).toContain('FARGATE');
    const [web, agent] = doc.containerDefinitions!;
    expect(web!.command).toEqual(['node', '--require', 'dd-trace/init', 'server.js']);
    expect(web!.entryPoint).toBeUndefined();
    expect(web!.dependsOn).toEqual([{ containerName: 'datadog-agent', condition: 'HEALTHY' }]);
    expect(web!.environment!.find((e) => e.name === 'DD_AGENT_HOST')).toBeUndefined();
    expect(web!.portMappings).toEqual([{ containerPort: 3000 }]);
    expect(agent).toMatchObject({ name: 'datadog-agent', essential: true, portMappings: [{ containerPort: 8126, protocol: 'tcp' }], logConfiguration: { logDriver: 'awslogs' } });
    expect(agent!.healthCheck!.command!.join(' ')).toContain('/healthz');
    expect(notes.join('\n')).toContain('removed DD_AGENT_HOST="10.0.0.5"');
    expect(rules(doc)).toEqual([]);
    // Again: nothing changes, no second sidecar.
    expect(patchAppForFargate(doc, { region: 'us-east-1', service: 'checkout' }).doc).toEqual(doc);
  });

  it('asks for the execution role Fargate needs for awslogs and ECR images, naming the flag; lint knows it too', () => {
    expect(() => patchAppForFargate(app(), { region: 'us-east-1', agentImage: IMAGE })).toThrow(
      /^--execution-role-arn: on Fargate, container datadog-agent's awslogs driver writes with the execution role \(containerDefinitions\[1\]\.logConfiguration\), and ECS refuses the task without one/);
    const fromEcr = app();
    fromEcr.containerDefinitions![0]!.image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2';
    expect(() => patchAppForFargate(fromEcr, { agentImage: IMAGE })).toThrow(/^--execution-role-arn: on Fargate, container web's image is pulled from ECR/);
    // Without logs to CloudWatch and from a public registry, none is needed.
    expect(patchAppForFargate(app(), { agentImage: 'public.ecr.aws/example/ecs-trace-agent:0.2.0' }).doc.executionRoleArn).toBeUndefined();
    const { doc } = patchAppForFargate(app(), { region: 'us-east-1', agentImage: IMAGE, executionRoleArn: ROLE });
    delete doc.executionRoleArn;
    expect(rules(doc)).toEqual(['error execution-role-missing executionRoleArn']);
    // On EC2 the instance's role writes the logs and pulls from ECR.
    const ec2 = app({ containerDefinitions: [{ ...app().containerDefinitions![0]!, image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } } }] });
    expect(rules(ec2)).not.toContain('error execution-role-missing executionRoleArn');
  });

  it('refuses what Fargate cannot run, naming the field', () => {
    expect(() => patchAppForFargate(app({ volumes: [{ name: 'sock', host: { sourcePath: '/var/run/datadog' } }] }), {})).toThrow(/^volumes\[0\]\.host: Fargate has no host volumes/);
    const fixedPort = app();
    fixedPort.containerDefinitions![0]!.portMappings = [{ containerPort: 3000, hostPort: 8080 }];
    expect(() => patchAppForFargate(fixedPort, {})).toThrow(/^containerDefinitions\[0\]\.portMappings\[0\]\.hostPort: is 8080/);
  });

  it('lint knows Fargate: awsvpc, a task size, no host volumes, the agent a sidecar on localhost that apps wait for', () => {
    const bad = app({ requiresCompatibilities: ['FARGATE'], volumes: [{ name: 'x', host: { sourcePath: '/tmp' } }] });
    expect(rules(bad)).toEqual([
      'error fargate-network-mode networkMode',
      'error fargate-task-size cpu',
      'error fargate-host-volume volumes[0].host',
      'error fargate-host-port containerDefinitions[0].portMappings[0].hostPort',
      'error fargate-no-agent containerDefinitions',
    ]);
    const { doc } = patchAppForFargate(app(), { agentImage: IMAGE, executionRoleArn: ROLE });
    doc.containerDefinitions![0]!.environment!.push({ name: 'DD_AGENT_HOST', value: '10.0.0.5' });
    delete doc.containerDefinitions![0]!.dependsOn;
    expect(rules(doc)).toEqual([
      'error fargate-agent-host containerDefinitions[0].environment',
      'warning fargate-no-depends-on containerDefinitions[0].dependsOn',
    ]);
  });
});
