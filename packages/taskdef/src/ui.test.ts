import { describe, expect, it } from 'vitest';
import { lintTaskDefinition } from './lint.js';
import { uiService, uiTargetGroup, uiTaskDefinition } from './ui.js';

const secrets = {
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-trace/agent:0.2.0',
  storeSecret: 'arn:aws:secretsmanager:us-east-1:1:secret:store',
  tokenSecret: 'arn:aws:secretsmanager:us-east-1:1:secret:token',
  executionRoleArn: 'arn:aws:iam::1:role/exec',
};

const rules = (doc: unknown) => lintTaskDefinition(doc).map((f) => `${f.severity} ${f.rule} ${f.path}`);

describe('taskdef ui', () => {
  it('makes a UI task that reads the shared store, asks for the token and lints clean', () => {
    const { doc } = uiTaskDefinition({ ...secrets, region: 'us-east-1' });
    const c = doc.containerDefinitions![0]!;
    expect(doc).toMatchObject({ networkMode: 'awsvpc', cpu: '256', memory: '512', executionRoleArn: secrets.executionRoleArn });
    expect(c.command).toEqual(['ui', '--api-host', '0.0.0.0', '--api-port', '8127']);
    expect(c.secrets).toEqual([{ name: 'ECS_TRACE_STORE', valueFrom: secrets.storeSecret }, { name: 'ECS_TRACE_API_TOKEN', valueFrom: secrets.tokenSecret }]);
    expect(JSON.stringify(doc)).not.toMatch(/postgres:\/\//);
    expect(rules(doc)).toEqual([]);
  });

  it('refuses a task size Fargate does not offer, naming the flags', () => {
    expect(() => uiTaskDefinition({ ...secrets, cpu: 256, memory: 4096 })).toThrow(/^--cpu\/--memory: 256 CPU units with 4096 MiB/);
  });

  it('lint finds a UI that cannot work: no store, loopback, a plain token, no port', () => {
    const { doc } = uiTaskDefinition(secrets);
    const c = doc.containerDefinitions![0]!;
    c.secrets = [];
    c.environment = [{ name: 'ECS_TRACE_API_TOKEN', value: 'hunter2' }];
    c.command = ['ui'];
    c.portMappings = [];
    expect(rules(doc)).toEqual([
      'error ui-no-store containerDefinitions[0].secrets',
      'error ui-loopback containerDefinitions[0].command',
      'error ui-token-plain containerDefinitions[0].environment[0]',
      'error ui-port containerDefinitions[0].portMappings',
    ]);
  });

  it('lint: beyond loopback without a token the UI refuses to start, and says so', () => {
    const { doc } = uiTaskDefinition(secrets);
    doc.containerDefinitions![0]!.secrets = [{ name: 'ECS_TRACE_STORE', valueFrom: secrets.storeSecret }];
    expect(rules(doc)).toEqual(['error ui-no-token containerDefinitions[0].secrets']);
    doc.containerDefinitions![0]!.command!.push('--api-insecure-no-auth');
    expect(rules(doc)).toEqual(['warning ui-no-auth containerDefinitions[0].command']);
  });

  it('the service: REPLICA behind the target group on 8127, awsvpc; the target group checks /healthz', () => {
    const svc = uiService({ taskDefinition: 'ecs-trace-ui', targetGroupArn: 'arn:tg', subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'] });
    expect(svc).toMatchObject({
      schedulingStrategy: 'REPLICA', desiredCount: 2, launchType: 'FARGATE',
      loadBalancers: [{ targetGroupArn: 'arn:tg', containerName: 'ecs-trace-ui', containerPort: 8127 }],
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
    });
    expect(() => uiService({ taskDefinition: 'x', targetGroupArn: 'y', subnets: [], securityGroups: ['sg'] })).toThrow(/^--subnets: /);
    expect(uiTargetGroup({ vpcId: 'vpc-1' })).toMatchObject({ Port: 8127, TargetType: 'ip', HealthCheckPath: '/healthz', Protocol: 'HTTP' });
  });
});
