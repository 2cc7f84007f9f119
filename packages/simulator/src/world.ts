import { createHash } from 'node:crypto';

/*
 * One simulated ECS container instance: the EC2 instance, its cluster and the tasks running on it.
 * IMDS, the metadata files, task metadata v4 and introspection are all rendered from this one
 * description, so they agree with each other (unlike AEMM's defaults, ecs-spec 9). Ids are derived
 * from names, so a world built twice from the same input is the same world.
 */

export interface SimPortMapping {
  containerPort: number;
  hostPort: number;
  protocol: 'tcp' | 'udp';
}

export interface SimContainer {
  name: string;
  image: string;
  /** 64 hex characters. */
  dockerId: string;
  /** Docker's name, without the leading slash. */
  dockerName: string;
  imageId: string;
  ports: SimPortMapping[];
  /** The id in ECS_CONTAINER_METADATA_URI_V4 (`/v4/<endpointId>`). */
  endpointId: string;
  /** The container's address on docker0 (bridge) or '' (host). Loopback range here. */
  ipv4: string;
  dockerLabels: Record<string, string>;
  /** Its awslogs settings, as its task definition's logConfiguration gives them; undefined: another driver. */
  awslogs: { group: string; region: string; streamPrefix: string } | undefined;
}

export interface SimTask {
  arn: string;
  family: string;
  revision: string;
  networkMode: 'bridge' | 'host' | 'awsvpc';
  containers: SimContainer[];
  createdAt: string;
}

export interface SimInstance {
  instanceId: string;
  instanceType: string;
  amiId: string;
  accountId: string;
  region: string;
  availabilityZone: string;
  availabilityZoneId: string;
  /** The host's private IPv4: what DD_AGENT_HOST must become. */
  localIpv4: string;
  localHostname: string;
  mac: string;
  subnetId: string;
  vpcId: string;
  pendingTime: string;
}

export interface SimWorld {
  /** FARGATE: one task in its own network namespace, no EC2 instance to ask, no introspection API. */
  launchType: 'EC2' | 'FARGATE';
  cluster: string;
  containerInstanceArn: string;
  instance: SimInstance;
  tasks: SimTask[];
}

export interface TaskSpec {
  family: string;
  revision?: number;
  networkMode?: 'bridge' | 'host';
  /** `awslogs: null`: a container logging elsewhere; default: awslogs to /ecs/<family>, prefix `ecs`. */
  containers: { name: string; image: string; ports?: SimPortMapping[]; dockerLabels?: Record<string, string>; awslogs?: { group: string; streamPrefix: string } | null }[];
}

export interface WorldOptions {
  cluster?: string;
  region?: string;
  /**
   * The host's private IPv4. Loopback by default so that an app sent to "the host" by discovery
   * reaches an agent on this machine; tests in network namespaces use a 127.x or 169.254.x address.
   */
  localIpv4?: string;
  tasks?: TaskSpec[];
  /** FARGATE: the first task only, awsvpc, Fargate's container ids (`<task id>-<digits>`). */
  launchType?: 'EC2' | 'FARGATE';
}

export const DEFAULT_TASKS: TaskSpec[] = [
  {
    family: 'checkout', revision: 7,
    containers: [{ name: 'web', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout:1.4.2', ports: [{ containerPort: 3000, hostPort: 32768, protocol: 'tcp' }], dockerLabels: { 'com.datadoghq.tags.service': 'checkout', 'com.datadoghq.tags.env': 'sim' } }],
  },
  {
    family: 'billing', revision: 3,
    containers: [
      { name: 'api', image: 'public.ecr.aws/ecs-trace/billing:2.0.0', ports: [{ containerPort: 8080, hostPort: 32769, protocol: 'tcp' }] },
      { name: 'worker', image: 'public.ecr.aws/ecs-trace/billing-worker:2.0.0' },
    ],
  },
];

function hex(seed: string, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += createHash('sha256').update(`${seed}/${i}`).digest('hex');
  return out.slice(0, length);
}

function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function createWorld(o: WorldOptions = {}): SimWorld {
  const cluster = o.cluster ?? 'ecs-trace-sim';
  const region = o.region ?? 'us-east-1';
  const accountId = '123456789012';
  const localIpv4 = o.localIpv4 ?? '127.0.0.1';
  const instance: SimInstance = {
    instanceId: `i-${hex(cluster + 'instance', 17)}`,
    instanceType: 'm6i.large',
    amiId: `ami-${hex(cluster + 'ami', 17)}`,
    accountId,
    region,
    availabilityZone: `${region}a`,
    availabilityZoneId: 'use1-az4',
    localIpv4,
    localHostname: `ip-${localIpv4.replace(/[.:]/g, '-')}.ec2.internal`,
    mac: '0e:49:61:0f:c3:11',
    subnetId: `subnet-${hex(cluster + 'subnet', 17)}`,
    vpcId: `vpc-${hex(cluster + 'vpc', 17)}`,
    pendingTime: '2026-11-25T08:00:00Z',
  };
  let bridgeIp = 2;
  const fargate = o.launchType === 'FARGATE';
  const specs = o.tasks ?? DEFAULT_TASKS;
  const tasks = (fargate ? specs.slice(0, 1) : specs).map((spec): SimTask => {
    const taskId = hex(`${cluster}/${spec.family}/task`, 32);
    const revision = String(spec.revision ?? 1);
    const networkMode = fargate ? 'awsvpc' : spec.networkMode ?? 'bridge';
    return {
      arn: `arn:aws:ecs:${region}:${accountId}:task/${cluster}/${taskId}`,
      family: spec.family,
      revision,
      networkMode,
      createdAt: '2026-11-25T08:01:00Z',
      containers: spec.containers.map((c) => {
        // Fargate names a container `<task id>-<10 digits>`, as its cgroup path does.
        const dockerId = fargate ? `${taskId}-${String(parseInt(hex(`${taskId}/${c.name}/docker`, 8), 16)).padStart(10, '0').slice(0, 10)}` : hex(`${taskId}/${c.name}/docker`, 64);
        return {
          name: c.name,
          image: c.image,
          dockerId,
          dockerName: `ecs-${spec.family}-${revision}-${c.name}-${hex(dockerId, 20)}`,
          imageId: `sha256:${hex(c.image, 64)}`,
          ports: c.ports ?? [],
          endpointId: uuid(`${taskId}/${c.name}/endpoint`),
          // docker0 addresses stand in the loopback range here: tests never leave this machine.
          // A Fargate task's containers share its ENI: the loopback here.
          ipv4: networkMode === 'bridge' ? `127.17.0.${bridgeIp++}` : networkMode === 'awsvpc' ? '127.0.0.1' : '',
          dockerLabels: c.dockerLabels ?? {},
          awslogs: c.awslogs === null ? undefined : { group: c.awslogs?.group ?? `/ecs/${spec.family}`, region, streamPrefix: c.awslogs?.streamPrefix ?? 'ecs' },
        };
      }),
    };
  });
  return {
    launchType: fargate ? 'FARGATE' : 'EC2',
    cluster,
    containerInstanceArn: `arn:aws:ecs:${region}:${accountId}:container-instance/${cluster}/${hex(cluster + 'ci', 32)}`,
    instance,
    tasks,
  };
}

/** The CloudWatch Logs stream awslogs writes a container's output to: `<prefix>/<container>/<task id>`. */
export function awslogsStream(task: SimTask, c: SimContainer): string | undefined {
  return c.awslogs ? `${c.awslogs.streamPrefix}/${c.name}/${task.arn.split('/').pop()!}` : undefined;
}

/** The task id (everything after `task/` in the ARN): the metadata file's directory. */
export function taskIdPart(task: SimTask): string {
  return task.arn.slice(task.arn.indexOf(':task/') + ':task/'.length);
}

export function findContainer(world: SimWorld, name: string): { task: SimTask; container: SimContainer } | undefined {
  for (const task of world.tasks) {
    for (const container of task.containers) {
      if (container.name === name || `${task.family}/${container.name}` === name || container.dockerId === name) return { task, container };
    }
  }
  return undefined;
}
