import type { CreateServiceCommandInput } from '@aws-sdk/client-ecs';
import { DEFAULT_AGENT_IMAGE } from './agent.js';
import { placeholderImage } from './execution-role.js';
import { TaskdefInputError } from './errors.js';
import { healthzCheck } from './health-check.js';
import type { Container, TaskDefinition } from './input.js';

/*
 * The UI service of a cluster: `ecs-trace ui` reading the shared PostgreSQL store, stateless, as
 * many replicas as wanted behind an ALB. awsvpc (the target group registers task IPs), port 8127,
 * `/healthz` as the health check (open without the token, it says only whether the process lives),
 * the store URL and the API token from Secrets Manager or SSM, never in the definition itself.
 */

export const UI_PORT = 8127;
export const DEFAULT_UI_CONTAINER = 'ecs-trace-ui';
export const DEFAULT_UI_FAMILY = 'ecs-trace-ui';
export const UI_LOG_GROUP = '/ecs/ecs-trace-ui';
export const HEALTH_PATH = '/healthz';

export interface UiOptions {
  /** Secrets Manager ARN or SSM parameter holding the store's postgres:// URL. */
  storeSecret: string;
  /** Secrets Manager ARN or SSM parameter holding the API token users sign in with. */
  tokenSecret: string;
  /** Role the ECS agent uses to read both secrets. */
  executionRoleArn: string;
  image?: string;
  family?: string;
  region?: string;
  /** Task size, as Fargate counts it (also fits EC2). */
  cpu?: number;
  memory?: number;
}

const FARGATE_SIZES: Record<number, (m: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
};

export function uiTaskDefinition(o: UiOptions): { doc: TaskDefinition; notes: string[] } {
  const notes: string[] = [];
  for (const [flag, v] of [['--store-secret', o.storeSecret], ['--token-secret', o.tokenSecret], ['--execution-role-arn', o.executionRoleArn]] as const) {
    if (!v) throw new TaskdefInputError(flag, `is required: the UI reads the shared store and asks for a token (${flag === '--execution-role-arn' ? 'the role the ECS agent reads the two secrets with' : 'a Secrets Manager ARN or SSM parameter'})`);
  }
  const cpu = o.cpu ?? 256;
  const memory = o.memory ?? 512;
  if (!FARGATE_SIZES[cpu]?.(memory)) throw new TaskdefInputError('--cpu/--memory', `${cpu} CPU units with ${memory} MiB is not a task size Fargate offers (256 with 512-2048, 512 with 1024-4096, 1024 with 2048-8192, ...)`);
  if (!o.region) notes.push(`no logConfiguration: pass --region to send the UI's logs to CloudWatch Logs (${UI_LOG_GROUP})`);
  if (placeholderImage(o.image ?? DEFAULT_AGENT_IMAGE)) notes.push(`image: ${o.image ?? DEFAULT_AGENT_IMAGE} is in no registry: build deploy/Dockerfile, push it to your ECR and pass --image with its URI`);
  const container: Container = {
    name: DEFAULT_UI_CONTAINER,
    image: o.image ?? DEFAULT_AGENT_IMAGE,
    essential: true,
    command: ['ui', '--api-host', '0.0.0.0', '--api-port', String(UI_PORT)],
    portMappings: [{ containerPort: UI_PORT, protocol: 'tcp' }],
    environment: [],
    secrets: [
      { name: 'ECS_TRACE_STORE', valueFrom: o.storeSecret },
      { name: 'ECS_TRACE_API_TOKEN', valueFrom: o.tokenSecret },
    ],
    healthCheck: healthzCheck(UI_PORT, { interval: 30, startPeriod: 15 }),
    ...(o.region ? {
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': UI_LOG_GROUP, 'awslogs-region': o.region, 'awslogs-stream-prefix': 'ecs-trace', 'awslogs-create-group': 'true' },
      },
    } : {}),
  };
  return {
    doc: {
      family: o.family ?? DEFAULT_UI_FAMILY,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE', 'EC2'],
      cpu: String(cpu),
      memory: String(memory),
      executionRoleArn: o.executionRoleArn,
      containerDefinitions: [container],
    },
    notes,
  };
}

export interface UiServiceOptions {
  taskDefinition: string;
  targetGroupArn: string;
  subnets: string[];
  securityGroups: string[];
  cluster?: string;
  serviceName?: string;
  desiredCount?: number;
  launchType?: 'FARGATE' | 'EC2';
  assignPublicIp?: boolean;
}

/** The UI's REPLICA service, for `aws ecs create-service --cli-input-json`, behind the ALB target group. */
export function uiService(o: UiServiceOptions): CreateServiceCommandInput {
  if (o.subnets.length === 0) throw new TaskdefInputError('--subnets', 'needs at least one subnet id (the tasks\' ENIs go there; two in different zones for an ALB)');
  if (o.securityGroups.length === 0) throw new TaskdefInputError('--security-groups', `needs a security group that lets the load balancer reach port ${UI_PORT}`);
  const desiredCount = o.desiredCount ?? 2;
  if (!Number.isInteger(desiredCount) || desiredCount < 1) throw new TaskdefInputError('--desired-count', 'must be a whole number of at least 1');
  return {
    ...(o.cluster ? { cluster: o.cluster } : {}),
    serviceName: o.serviceName ?? 'ecs-trace-ui',
    taskDefinition: o.taskDefinition,
    launchType: o.launchType ?? 'FARGATE',
    schedulingStrategy: 'REPLICA',
    desiredCount,
    loadBalancers: [{ targetGroupArn: o.targetGroupArn, containerName: DEFAULT_UI_CONTAINER, containerPort: UI_PORT }],
    healthCheckGracePeriodSeconds: 30,
    networkConfiguration: {
      awsvpcConfiguration: { subnets: o.subnets, securityGroups: o.securityGroups, assignPublicIp: o.assignPublicIp ? 'ENABLED' : 'DISABLED' },
    },
    deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 50 },
    enableECSManagedTags: true,
    propagateTags: 'TASK_DEFINITION',
  };
}

/** The ALB target group, for `aws elbv2 create-target-group --cli-input-json`: task IPs on 8127, checked on /healthz. */
export function uiTargetGroup(o: { vpcId: string; name?: string }): Record<string, unknown> {
  if (!o.vpcId) throw new TaskdefInputError('--vpc-id', 'is required: the target group lives in the VPC of the UI tasks');
  return {
    Name: o.name ?? 'ecs-trace-ui',
    Protocol: 'HTTP',
    Port: UI_PORT,
    VpcId: o.vpcId,
    TargetType: 'ip',
    HealthCheckProtocol: 'HTTP',
    HealthCheckPath: HEALTH_PATH,
    HealthCheckIntervalSeconds: 15,
    HealthyThresholdCount: 2,
    UnhealthyThresholdCount: 3,
    Matcher: { HttpCode: '200' },
  };
}

/** A container that runs `ecs-trace ui` (its command starts with `ui`). */
export function isUiContainer(c: Container): boolean {
  const args = [...(c.entryPoint ?? []), ...(c.command ?? [])];
  return args[0] === 'ui' || (args[1] === 'ui' && /(^|\/)ecs-trace$/.test(args[0] ?? ''));
}
