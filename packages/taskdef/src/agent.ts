import type { PortMapping } from '@aws-sdk/client-ecs';
import { getEnv, hasSecret, removeEnv, setEnv } from './container-env.js';
import { TaskdefInputError } from './errors.js';
import { placeholderImage } from './execution-role.js';
import { findContainer, type Container, type TaskDefinition } from './input.js';
import { mountSocketDir, SOCKET_PATH } from './uds.js';

/*
 * The agent's daemon task definition: a static host port 8126/tcp (one agent per host, reached
 * at the host's IP), APM on and open to other containers, the API key from a secret.
 */

export const TRACE_PORT = 8126;
export const DEFAULT_AGENT_CONTAINER = 'datadog-agent';
export const DEFAULT_AGENT_FAMILY = 'ecs-trace-agent';
export const DEFAULT_AGENT_IMAGE = 'ecs-trace/agent:0.2.0';
export const DATA_DIR = '/var/lib/ecs-trace';

export interface AgentOptions {
  /** Container to patch or create; default `datadog-agent`. */
  container?: string;
  /** Image of a new definition. */
  image?: string;
  /** Family of a new definition. */
  family?: string;
  /** Secrets Manager ARN or SSM parameter of the Datadog API key. */
  apiKeySecret?: string;
  /** Role the ECS agent uses to read the secret. */
  executionRoleArn?: string;
  /** Also accept traces on /var/run/datadog/apm.socket, shared with apps through a host volume. */
  uds?: boolean;
  /** AWS region of the CloudWatch Logs group the agent logs to (a new definition only). */
  region?: string;
  /** Secrets Manager ARN or SSM parameter holding the shared store's postgres:// URL (ECS_TRACE_STORE). */
  storeSecret?: string;
  /** Secrets Manager ARN or SSM parameter holding the monitors file's text (ECS_TRACE_MONITORS: channels' addresses and keys in it). */
  monitorsSecret?: string;
  /**
   * Mount the host's Docker socket read-only, as the Datadog Agent's task definition does: the
   * agent reads each container's log configuration there, so spans link to their CloudWatch logs.
   */
  dockerSocket?: boolean;
  /** Also take OTLP: 4318/tcp (HTTP) and 4317/tcp (gRPC) on the host, as the Datadog Agent's OTLP ingest. */
  otlp?: boolean;
  /** OTLP/HTTP endpoint to export kept traces to (ECS_TRACE_OTLP_EXPORT_ENDPOINT). */
  otlpExport?: string;
  /** Secrets Manager ARN or SSM parameter holding the export's headers (ECS_TRACE_OTLP_EXPORT_HEADERS: credentials). */
  otlpExportHeadersSecret?: string;
}

export const OTLP_PORTS = { http: 4318, grpc: 4317 } as const;

export const LOG_GROUP = '/ecs/ecs-trace-agent';

export interface PatchResult {
  doc: TaskDefinition;
  /** What changed and why, for the user (stderr). */
  notes: string[];
}

const APM_ENV_WHY = 'needed by Datadog Agents up to 7.17 to accept traces from other containers; harmless after';

function newAgentDefinition(o: AgentOptions): TaskDefinition {
  return {
    family: o.family ?? DEFAULT_AGENT_FAMILY,
    networkMode: 'bridge',
    requiresCompatibilities: ['EC2'],
    containerDefinitions: [{
      name: o.container ?? DEFAULT_AGENT_CONTAINER,
      image: o.image ?? DEFAULT_AGENT_IMAGE,
      essential: true,
      cpu: 100,
      memory: 512,
      portMappings: [],
      environment: [{ name: 'ECS_TRACE_DATA_DIR', value: DATA_DIR }],
      mountPoints: [{ sourceVolume: 'ecs-trace-data', containerPath: DATA_DIR, readOnly: false }],
      ...(o.region ? {
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': o.region, 'awslogs-stream-prefix': 'ecs-trace', 'awslogs-create-group': 'true' },
        },
      } : {}),
    }],
    // A Docker volume shared by the host's agent tasks: it outlives each task, and Docker gives it
    // the image's owner for the data directory, so the agent writes there without being root.
    volumes: [{ name: 'ecs-trace-data', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local' } }],
  };
}

/** Adds the 8126/tcp host port, or explains why the mapping already there cannot be kept. */
function ensureTracePort(doc: TaskDefinition, c: Container, index: number, notes: string[]): void {
  doc.containerDefinitions!.forEach((other, i) => {
    if (i === index) return;
    const j = other.portMappings?.findIndex((p) => p.hostPort === TRACE_PORT && (p.protocol ?? 'tcp') === 'tcp') ?? -1;
    if (j >= 0) throw new TaskdefInputError(`containerDefinitions[${i}].portMappings[${j}]`, `container ${JSON.stringify(other.name)} already takes host port ${TRACE_PORT}/tcp; the agent needs it. Remove that mapping or move the agent to that container with --container`);
  });
  c.portMappings ??= [];
  const at = (j: number) => `containerDefinitions[${index}].portMappings[${j}]`;
  let found: PortMapping | undefined;
  c.portMappings.forEach((p, j) => {
    const hostPort = p.hostPort ?? 0;
    if (hostPort === TRACE_PORT && p.containerPort !== TRACE_PORT) {
      throw new TaskdefInputError(at(j), `host port ${TRACE_PORT} is already mapped to container port ${p.containerPort}; the agent listens on ${TRACE_PORT}. Remove or change that mapping`);
    }
    if (p.containerPort !== TRACE_PORT) return;
    if (hostPort !== 0 && hostPort !== TRACE_PORT) {
      throw new TaskdefInputError(at(j), `container port ${TRACE_PORT} is mapped to host port ${hostPort}; tracers send to ${TRACE_PORT} on the host. Change hostPort to ${TRACE_PORT}`);
    }
    if (found) return;
    found = p;
    if (hostPort === 0) {
      p.hostPort = TRACE_PORT;
      notes.push(`${at(j)}: hostPort set to ${TRACE_PORT} (a dynamic host port cannot be found by tracers)`);
    }
    if (p.protocol === 'udp') {
      p.protocol = 'tcp';
      notes.push(`${at(j)}: protocol set to tcp (traces are sent over TCP; udp is DogStatsD's 8125)`);
    }
  });
  if (!found) {
    c.portMappings.push({ containerPort: TRACE_PORT, hostPort: TRACE_PORT, protocol: 'tcp' });
    notes.push(`containerDefinitions[${index}].portMappings: added ${TRACE_PORT}/tcp on the host`);
  }
}

const CGROUP_SOURCE = '/sys/fs/cgroup/';
export const HOST_CGROUP_PATH = '/host/sys/fs/cgroup';

/**
 * The host's cgroup hierarchy, read-only at /host/sys/fs/cgroup as in the Datadog Agent's ECS task
 * definition: on cgroup v2 (Amazon Linux 2023) tracers name their container by the inode of its
 * cgroup directory, which the agent looks up there. Not on Fargate, which has no host volumes.
 */
function mountHostCgroups(doc: TaskDefinition, c: Container, path: string): string[] {
  const notes: string[] = [];
  doc.volumes ??= [];
  let volume = doc.volumes.find((v) => v.host?.sourcePath?.replace(/\/+$/, '') === '/sys/fs/cgroup');
  if (!volume) {
    volume = { name: 'cgroup', host: { sourcePath: CGROUP_SOURCE } };
    doc.volumes.push(volume);
    notes.push(`volumes: added cgroup (host ${CGROUP_SOURCE}), for the containers of tracers on cgroup v2 hosts`);
  }
  c.mountPoints ??= [];
  if (!c.mountPoints.some((m) => m.containerPath?.replace(/\/+$/, '') === HOST_CGROUP_PATH)) {
    c.mountPoints.push({ sourceVolume: volume.name!, containerPath: HOST_CGROUP_PATH, readOnly: true });
    notes.push(`${path}.mountPoints: ${HOST_CGROUP_PATH} (read-only) from volume ${volume.name}`);
  }
  return notes;
}

export const DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * The host's Docker socket at its usual path, read-only (the Docker API is still the host's, as
 * for the Datadog Agent that mounts it the same way): where each container's awslogs group,
 * region and stream are, which ECS's introspection API does not give.
 */
function mountDockerSocket(doc: TaskDefinition, c: Container, path: string): string[] {
  const notes: string[] = [];
  doc.volumes ??= [];
  let volume = doc.volumes.find((v) => v.host?.sourcePath === DOCKER_SOCKET);
  if (!volume) {
    volume = { name: 'docker_sock', host: { sourcePath: DOCKER_SOCKET } };
    doc.volumes.push(volume);
    notes.push(`volumes: added docker_sock (host ${DOCKER_SOCKET}): the agent reads each container's log configuration there, so spans link to their CloudWatch logs`);
  }
  c.mountPoints ??= [];
  if (!c.mountPoints.some((m) => m.containerPath === DOCKER_SOCKET)) {
    c.mountPoints.push({ sourceVolume: volume.name!, containerPath: DOCKER_SOCKET, readOnly: true });
    notes.push(`${path}.mountPoints: ${DOCKER_SOCKET} (read-only) from volume ${volume.name}`);
  }
  return notes;
}

export function agentTaskDefinition(existing: TaskDefinition | undefined, o: AgentOptions = {}): PatchResult {
  const notes: string[] = [];
  const doc = existing ? structuredClone(existing) : newAgentDefinition(o);
  if (!existing && !o.region) notes.push(`no logConfiguration: pass --region to send the agent's logs to CloudWatch Logs (${LOG_GROUP})`);
  if (!existing && placeholderImage(o.image ?? DEFAULT_AGENT_IMAGE)) notes.push(`image: ${o.image ?? DEFAULT_AGENT_IMAGE} is in no registry: build deploy/Dockerfile, push it to your ECR and pass --image with its URI`);
  const name = o.container ?? DEFAULT_AGENT_CONTAINER;
  const { container: c, index } = findContainer(doc, name);
  const path = `containerDefinitions[${index}]`;
  if (doc.networkMode === 'awsvpc') {
    notes.push('networkMode is awsvpc: apps cannot reach the agent at the host IP this way; run the agent in bridge or host mode (ecs-trace taskdef lint explains)');
  }
  ensureTracePort(doc, c, index, notes);
  if (doc.requiresCompatibilities?.includes('FARGATE') !== true) notes.push(...mountHostCgroups(doc, c, path));
  for (const v of ['DD_APM_ENABLED', 'DD_APM_NON_LOCAL_TRAFFIC']) {
    const prev = setEnv(c, v, 'true');
    if (prev === undefined) notes.push(`${path}.environment: ${v}=true (${APM_ENV_WHY})`);
    else if (prev !== 'true') notes.push(`${path}.environment: ${v} changed from ${JSON.stringify(prev)} to "true" (${APM_ENV_WHY})`);
  }
  if (o.apiKeySecret === undefined && getEnv(c, 'DD_API_KEY') !== undefined) {
    // Never written back as plain text: refuse rather than carry the key into a generated file.
    throw new TaskdefInputError(`${path}.environment`, 'DD_API_KEY is a plain environment value; put the key in Secrets Manager or SSM Parameter Store and pass --api-key-secret ARN, so it is not stored in the task definition');
  }
  if (o.otlpExportHeadersSecret === undefined && getEnv(c, 'ECS_TRACE_OTLP_EXPORT_HEADERS') !== undefined) {
    throw new TaskdefInputError(`${path}.environment`, 'ECS_TRACE_OTLP_EXPORT_HEADERS is a plain environment value (it usually holds credentials); put it in Secrets Manager or SSM Parameter Store and pass --otlp-export-headers-secret ARN');
  }
  // Each read from a secret, never from the environment: the API key, the store URL (it holds the
  // database password), the OTLP export's headers.
  if (o.apiKeySecret !== undefined) notes.push(...secretEnv(c, path, 'DD_API_KEY', o.apiKeySecret, 'the plain DD_API_KEY value'));
  if (o.storeSecret !== undefined) notes.push(...secretEnv(c, path, 'ECS_TRACE_STORE', o.storeSecret, 'the plain ECS_TRACE_STORE'));
  if (o.monitorsSecret !== undefined) notes.push(...secretEnv(c, path, 'ECS_TRACE_MONITORS', o.monitorsSecret, 'the plain ECS_TRACE_MONITORS'));
  if (o.otlpExportHeadersSecret !== undefined) notes.push(...secretEnv(c, path, 'ECS_TRACE_OTLP_EXPORT_HEADERS', o.otlpExportHeadersSecret, 'the plain ECS_TRACE_OTLP_EXPORT_HEADERS'));
  if (o.otlpExport !== undefined) {
    if (!/^https?:\/\/[^\s/@]+(\/\S*)?$/.test(o.otlpExport)) {
      throw new TaskdefInputError('--otlp-export', `${JSON.stringify(o.otlpExport)} is not an http(s) URL without credentials: the export speaks OTLP/HTTP (e.g. http://otel-collector.local:4318); credentials go in --otlp-export-headers-secret`);
    }
    const prev = setEnv(c, 'ECS_TRACE_OTLP_EXPORT_ENDPOINT', o.otlpExport);
    if (prev !== o.otlpExport) notes.push(`${path}.environment: ECS_TRACE_OTLP_EXPORT_ENDPOINT=${o.otlpExport} (kept traces are also exported over OTLP/HTTP)`);
  }
  if (o.dockerSocket) {
    if (doc.requiresCompatibilities?.includes('FARGATE') === true) notes.push('--docker-socket: Fargate has no host volumes (and its task metadata gives the log configuration): not mounted');
    else notes.push(...mountDockerSocket(doc, c, path));
  }
  if (o.otlp) {
    for (const [protocol, port] of Object.entries(OTLP_PORTS)) {
      c.portMappings ??= [];
      if (!c.portMappings.some((p) => p.containerPort === port)) {
        c.portMappings.push({ containerPort: port, hostPort: port, protocol: 'tcp' });
        notes.push(`${path}.portMappings: added ${port}/tcp on the host (OTLP/${protocol === 'http' ? 'HTTP' : 'gRPC'})`);
      }
      const variable = `DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_${protocol.toUpperCase()}_ENDPOINT`;
      if (setEnv(c, variable, `0.0.0.0:${port}`) === undefined) notes.push(`${path}.environment: ${variable}=0.0.0.0:${port}`);
    }
  }
  if (o.uds) {
    notes.push(...mountSocketDir(doc, c, path, false));
    // The socket's directory comes from the host, owned by root: only root may create the socket in it.
    if (c.user === undefined) {
      c.user = '0';
      notes.push(`${path}.user: "0" (the socket directory /var/run/datadog is the host's, owned by root)`);
    }
    if (setEnv(c, 'DD_APM_RECEIVER_SOCKET', SOCKET_PATH) === undefined) notes.push(`${path}.environment: DD_APM_RECEIVER_SOCKET=${SOCKET_PATH}`);
  }
  if (o.executionRoleArn !== undefined) doc.executionRoleArn = o.executionRoleArn;
  for (const secret of ['DD_API_KEY', 'ECS_TRACE_STORE', 'ECS_TRACE_OTLP_EXPORT_HEADERS', 'ECS_TRACE_MONITORS']) {
    if (hasSecret(c, secret) && !doc.executionRoleArn) {
      // Registration would succeed and every task fail to start: refuse, as lint would.
      throw new TaskdefInputError('executionRoleArn', `the ${secret} secret needs a role the ECS agent uses to read it: pass --execution-role-arn ARN (a task execution role allowed secretsmanager:GetSecretValue or ssm:GetParameters on it)`);
    }
  }
  return { doc, notes };
}

/** Sets `name` to come from the secret `arn`, dropping a plain value of it. */
function secretEnv(c: Container, path: string, name: string, arn: string, plain: string): string[] {
  const notes: string[] = [];
  if (getEnv(c, name) !== undefined) {
    removeEnv(c, name);
    notes.push(`${path}.environment: removed ${plain}; it is now read from the secret`);
  }
  c.secrets ??= [];
  const s = c.secrets.find((x) => x.name === name);
  if (s) s.valueFrom = arn;
  else c.secrets.push({ name, valueFrom: arn });
  return notes;
}
