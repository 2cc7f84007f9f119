import { fileURLToPath } from 'node:url';
import { type CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DATA_DIR, DEFAULT_AGENT_CONTAINER, DEFAULT_UI_CONTAINER, DOCKER_SOCKET, HEALTH_PATH, HOST_CGROUP_PATH, healthzCheck, TRACE_PORT, UI_PORT } from '@ecs-trace/taskdef';
import { acknowledge } from './nag.js';
import { EcsTraceStore, storeAccess, type StoreAccess } from './store.js';

/*
 * ecs-trace on an ECS cluster, as one construct: the agent as a DAEMON service on the cluster's
 * EC2 instances (host port 8126, where tracers send), or as a sidecar of Fargate tasks; with a
 * shared store, the UI as a service of its own behind an Application Load Balancer, its API
 * token in Secrets Manager; roles (execution and task) with what each needs and no more, log
 * groups with a retention. The image is built from deploy/Dockerfile and published by `cdk
 * deploy` itself unless one is given.
 */

/** The repository root, where deploy/Dockerfile builds from (packages/cdk/dist -> ../../..). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface EcsTraceUiProps {
  /** Replicas of `ecs-trace ui`; default 2 (in two zones). */
  readonly desiredCount?: number;
  /** HTTPS on 443 with this certificate; without one, HTTP on 80 (a load balancer inside the VPC only). */
  readonly certificate?: acm.ICertificate;
  /** Default false: the load balancer is reachable from inside the VPC (and peered networks, VPN) only. */
  readonly internetFacing?: boolean;
  /** Who may reach the load balancer; default the VPC's CIDR. */
  readonly allowFrom?: ec2.IPeer[];
  /** A bucket for the load balancer's access logs. */
  readonly accessLogs?: s3.IBucket;
}

export interface EcsTraceProps {
  /** The cluster the apps run in; its VPC hosts the UI and the database. */
  readonly cluster: ecs.ICluster;
  /** Default: deploy/Dockerfile built and pushed to the bootstrap ECR repository by `cdk deploy`. */
  readonly image?: ecs.ContainerImage;
  /** Default: embedded (each host's own). */
  readonly store?: EcsTraceStore;
  /**
   * The agent as a DAEMON service on the cluster's EC2 instances; default true. False for a
   * Fargate-only cluster, whose tasks get the agent as a sidecar (addFargateSidecar).
   */
  readonly daemon?: boolean;
  /** The UI service; default: made when the store is shared, never for the embedded store. */
  readonly ui?: EcsTraceUiProps | false;
  /** The API token people sign in with; default a generated one. */
  readonly apiToken?: secretsmanager.ISecret;
  /** Forward to Datadog as well: a secret holding the API key. */
  readonly datadogApiKey?: secretsmanager.ISecret;
  /** Monitors: a secret holding the monitors file's text (ECS_TRACE_MONITORS), its channels' addresses and keys with it. */
  readonly monitors?: secretsmanager.ISecret;
  /** Default one month. */
  readonly logRetention?: logs.RetentionDays;
  /** The agent container's memory limit, MiB; default 512. */
  readonly agentMemoryLimitMiB?: number;
  /**
   * Mount each instance's Docker socket read-only into the daemon, as the Datadog Agent's task
   * definition does: the agent reads each container's awslogs settings there, and spans link to
   * their CloudWatch logs. The Docker API is the host's whatever the mount's mode; default false.
   */
  readonly dockerSocket?: boolean;
}

export interface FargateSidecarProps {
  /** The app containers that send traces: each waits for the agent to be healthy and is told where it is. */
  readonly appContainers: ecs.ContainerDefinition[];
}

export class EcsTrace extends Construct {
  readonly image: ecs.ContainerImage;
  readonly store: StoreAccess;
  readonly agentLogGroup: logs.LogGroup;
  readonly agentTaskDefinition?: ecs.Ec2TaskDefinition;
  readonly agentService?: ecs.Ec2Service;
  readonly apiToken?: secretsmanager.ISecret;
  readonly uiService?: ecs.FargateService;
  readonly loadBalancer?: elbv2.ApplicationLoadBalancer;
  readonly database?: rds.DatabaseInstance;
  private readonly props: EcsTraceProps;

  constructor(scope: Construct, id: string, props: EcsTraceProps) {
    super(scope, id);
    this.props = props;
    const vpc = props.cluster.vpc;
    this.image = props.image ?? ecs.ContainerImage.fromAsset(REPO_ROOT, { file: 'deploy/Dockerfile' });
    this.store = storeAccess(this, props.store ?? EcsTraceStore.embedded(), vpc);
    if (this.store.database) this.database = this.store.database;
    this.agentLogGroup = new logs.LogGroup(this, 'AgentLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    if (props.daemon ?? true) {
      this.agentTaskDefinition = this.daemonTaskDefinition();
      this.agentService = new ecs.Ec2Service(this, 'Agent', {
        cluster: props.cluster, taskDefinition: this.agentTaskDefinition, daemon: true,
        enableECSManagedTags: true, propagateTags: ecs.PropagatedTagSource.TASK_DEFINITION,
        // One agent per host: a new one starts only once the old one is gone (host port 8126).
        minHealthyPercent: 0, maxHealthyPercent: 100, circuitBreaker: { rollback: true },
      });
      // The daemon's tasks use the instances' network: the database lets the instances in.
      if (this.store.connections && this.store.port) this.store.connections.connections.allowFrom(props.cluster.connections, ec2.Port.tcp(this.store.port), 'ecs-trace agents');
    }
    if (props.ui !== false && this.store.shared) {
      if (props.apiToken) this.apiToken = props.apiToken;
      else {
        const token = new secretsmanager.Secret(this, 'ApiToken', {
          description: 'ecs-trace: the API token people sign in to the UI with',
          generateSecretString: { passwordLength: 40, excludePunctuation: true },
        });
        acknowledge(token, 'apiTokenRotation');
        this.apiToken = token;
      }
      const { service, loadBalancer } = this.uiBehindLoadBalancer(props.ui ?? {}, this.apiToken);
      this.uiService = service;
      this.loadBalancer = loadBalancer;
    }
  }

  /** The agent's settings, the same in the daemon and in a sidecar. */
  private agentEnvironment(extra: Record<string, string>): Record<string, string> {
    return { DD_APM_ENABLED: 'true', ...this.store.environment, ...extra };
  }

  private agentSecrets(): Record<string, ecs.Secret> {
    return { ...this.store.secrets, ...(this.props.datadogApiKey ? { DD_API_KEY: ecs.Secret.fromSecretsManager(this.props.datadogApiKey) } : {}), ...this.monitorsSecret() };
  }

  /** The monitors file, for the agents and the UI (with a shared store, one of them evaluates at a time). */
  private monitorsSecret(): Record<string, ecs.Secret> {
    return this.props.monitors ? { ECS_TRACE_MONITORS: ecs.Secret.fromSecretsManager(this.props.monitors) } : {};
  }

  private daemonTaskDefinition(): ecs.Ec2TaskDefinition {
    const task = new ecs.Ec2TaskDefinition(this, 'AgentTask', { family: 'ecs-trace-agent', networkMode: ecs.NetworkMode.BRIDGE });
    // The store outlives each agent task: a Docker volume on the host, shared by its agent's successors.
    task.addVolume({ name: 'ecs-trace-data', dockerVolumeConfiguration: { scope: ecs.Scope.SHARED, autoprovision: true, driver: 'local' } });
    task.addVolume({ name: 'cgroup', host: { sourcePath: '/sys/fs/cgroup/' } });
    const check = healthCheckOf({ interval: 30, startPeriod: 15 });
    const agent = task.addContainer('Agent', {
      containerName: DEFAULT_AGENT_CONTAINER,
      image: this.image,
      essential: true,
      cpu: 100,
      memoryLimitMiB: this.props.agentMemoryLimitMiB ?? 512,
      environment: this.agentEnvironment({ ECS_TRACE_DATA_DIR: DATA_DIR, DD_APM_NON_LOCAL_TRAFFIC: 'true' }),
      secrets: this.agentSecrets(),
      portMappings: [{ containerPort: TRACE_PORT, hostPort: TRACE_PORT, protocol: ecs.Protocol.TCP }],
      healthCheck: check,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.agentLogGroup, streamPrefix: 'ecs-trace' }),
    });
    acknowledgeTask(task);
    agent.addMountPoints(
      { sourceVolume: 'ecs-trace-data', containerPath: DATA_DIR, readOnly: false },
      // On cgroup v2 hosts tracers name their container by its cgroup's inode, looked up here.
      { sourceVolume: 'cgroup', containerPath: HOST_CGROUP_PATH, readOnly: true },
    );
    if (this.props.dockerSocket) {
      task.addVolume({ name: 'docker_sock', host: { sourcePath: DOCKER_SOCKET } });
      agent.addMountPoints({ sourceVolume: 'docker_sock', containerPath: DOCKER_SOCKET, readOnly: true });
    }
    return task;
  }

  /**
   * The agent as a sidecar of a Fargate task (Fargate has no daemons): an essential container the
   * app containers wait for (HEALTHY) and send to on localhost, as `ecs-trace taskdef app --fargate` makes it.
   */
  addFargateSidecar(task: ecs.FargateTaskDefinition, props: FargateSidecarProps): ecs.ContainerDefinition {
    const check = healthCheckOf({ interval: 10, startPeriod: 10 });
    const agent = task.addContainer('EcsTraceAgent', {
      containerName: DEFAULT_AGENT_CONTAINER,
      image: this.image,
      essential: true,
      memoryReservationMiB: 256,
      environment: this.agentEnvironment({ ECS_FARGATE: 'true' }),
      secrets: this.agentSecrets(),
      portMappings: [{ containerPort: TRACE_PORT, protocol: ecs.Protocol.TCP }],
      healthCheck: check,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.agentLogGroup, streamPrefix: 'ecs-trace' }),
    });
    acknowledgeTask(task);
    for (const app of props.appContainers) {
      app.addContainerDependencies({ container: agent, condition: ecs.ContainerDependencyCondition.HEALTHY });
      app.addEnvironment('DD_AGENT_HOST', '127.0.0.1');
      app.addEnvironment('DD_TRACE_AGENT_PORT', String(TRACE_PORT));
    }
    return agent;
  }

  /** Lets `peer` (apps' tasks in awsvpc mode, say) send traces to the agents on the instances. */
  allowTracesFrom(peer: ec2.IConnectable): void {
    this.props.cluster.connections.allowFrom(peer, ec2.Port.tcp(TRACE_PORT), 'traces to the ecs-trace agent');
  }

  private uiBehindLoadBalancer(ui: EcsTraceUiProps, token: secretsmanager.ISecret): { service: ecs.FargateService; loadBalancer: elbv2.ApplicationLoadBalancer } {
    const vpc = this.props.cluster.vpc;
    const logGroup = new logs.LogGroup(this, 'UiLogs', { retention: this.props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const task = new ecs.FargateTaskDefinition(this, 'UiTask', { family: 'ecs-trace-ui', cpu: 256, memoryLimitMiB: 512 });
    const check = healthCheckOf({ interval: 30, startPeriod: 15 });
    task.addContainer('Ui', {
      containerName: DEFAULT_UI_CONTAINER,
      image: this.image,
      essential: true,
      command: ['ui', '--api-host', '0.0.0.0', '--api-port', String(UI_PORT)],
      environment: {
        ...this.store.environment,
        // The load balancer ends TLS: its X-Forwarded-Proto says whether the session cookie is Secure.
        ECS_TRACE_API_TRUST_PROXY: vpc.vpcCidrBlock,
        ...(ui.certificate ? { ECS_TRACE_API_SECURE_COOKIE: 'true' } : {}),
      },
      secrets: { ...this.store.secrets, ECS_TRACE_API_TOKEN: ecs.Secret.fromSecretsManager(token), ...this.monitorsSecret() },
      portMappings: [{ containerPort: UI_PORT, protocol: ecs.Protocol.TCP }],
      healthCheck: check,
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'ecs-trace' }),
    });
    acknowledgeTask(task);
    const service = new ecs.FargateService(this, 'Ui', {
      cluster: this.props.cluster, taskDefinition: task, desiredCount: ui.desiredCount ?? 2,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      enableECSManagedTags: true, propagateTags: ecs.PropagatedTagSource.TASK_DEFINITION,
      circuitBreaker: { rollback: true }, minHealthyPercent: 50, maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(30),
    });
    if (this.store.connections && this.store.port) this.store.connections.connections.allowFrom(service, ec2.Port.tcp(this.store.port), 'ecs-trace UI');
    const internetFacing = ui.internetFacing ?? false;
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'UiLoadBalancer', {
      vpc, internetFacing, dropInvalidHeaderFields: true,
      vpcSubnets: { subnetType: internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    if (ui.accessLogs) loadBalancer.logAccessLogs(ui.accessLogs, 'ecs-trace-ui');
    else acknowledge(loadBalancer, 'accessLogs');
    acknowledge(loadBalancer, 'ingressFromParameter');
    const port = ui.certificate ? 443 : 80;
    for (const peer of ui.allowFrom ?? [ec2.Peer.ipv4(vpc.vpcCidrBlock)]) loadBalancer.connections.allowFrom(peer, ec2.Port.tcp(port), 'people using the ecs-trace UI');
    const listener = ui.certificate
      ? loadBalancer.addListener('Https', { port, protocol: elbv2.ApplicationProtocol.HTTPS, certificates: [ui.certificate], sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS, open: false })
      : loadBalancer.addListener('Http', { port, protocol: elbv2.ApplicationProtocol.HTTP, open: false });
    listener.addTargets('Ui', {
      port: UI_PORT, protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [service.loadBalancerTarget({ containerName: DEFAULT_UI_CONTAINER, containerPort: UI_PORT })],
      // Open without the token; says only whether the process is well.
      healthCheck: { path: HEALTH_PATH, interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3, healthyHttpCodes: '200' },
      deregistrationDelay: Duration.seconds(30),
    });
    // CDK makes the service depend on the target group it also names (so it waits for the
    // listener): redundant to cfn-lint (W3005), harmless to CloudFormation.
    (service.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    return { service, loadBalancer };
  }
}

/** A task's findings that come from ecs-trace's containers: settings as plain environment, ECR's token. */
function acknowledgeTask(task: ecs.TaskDefinition): void {
  acknowledge(task, 'taskEnvironment');
  if (task.executionRole) acknowledge(task.executionRole, 'ecrToken');
}

/** taskdef's check on /healthz (the same command the generated task definitions run), in CDK's terms. */
function healthCheckOf(timing: { interval: number; startPeriod: number }): ecs.HealthCheck {
  const c = healthzCheck(UI_PORT, timing);
  return { command: c.command!, interval: Duration.seconds(c.interval!), timeout: Duration.seconds(c.timeout!), retries: c.retries!, startPeriod: Duration.seconds(c.startPeriod!) };
}
