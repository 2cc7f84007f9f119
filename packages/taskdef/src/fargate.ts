import { getEnv, removeEnv, setEnv } from './container-env.js';
import { TaskdefInputError } from './errors.js';
import { healthzCheck } from './health-check.js';
import { findContainer, onlyContainer, type Container, type TaskDefinition } from './input.js';
import { missingExecutionRole, placeholderImage } from './execution-role.js';
import { DEFAULT_AGENT_CONTAINER, DEFAULT_AGENT_IMAGE, LOG_GROUP, TRACE_PORT, type PatchResult } from './agent.js';

/*
 * An app's task on Fargate: the agent runs as a sidecar in the same task, which is one network
 * namespace, so tracers reach it on localhost (their default) and the app's start needs no
 * wrapper. The sidecar is essential (a task whose agent died would lose every trace quietly), the
 * app waits for it to be HEALTHY (traces sent before it listens are lost), and it takes its ECS
 * tags from task metadata v4, which Fargate gives every container.
 */

export interface FargateOptions {
  container?: string;
  agentImage?: string;
  region?: string;
  service?: string;
  env?: string;
  version?: string;
  /** The role ECS starts the task with: Fargate needs one for awslogs and ECR images. */
  executionRoleArn?: string;
}

const API_PORT = 8127;

function agentSidecar(o: FargateOptions): Container {
  return {
    name: DEFAULT_AGENT_CONTAINER,
    image: o.agentImage ?? DEFAULT_AGENT_IMAGE,
    essential: true,
    memoryReservation: 256,
    portMappings: [{ containerPort: TRACE_PORT, protocol: 'tcp' }],
    environment: [{ name: 'DD_APM_ENABLED', value: 'true' }, { name: 'ECS_FARGATE', value: 'true' }],
    // The agent's API listens on loopback, inside its own container: where the check runs.
    healthCheck: healthzCheck(API_PORT, { interval: 10, startPeriod: 10 }),
    ...(o.region ? {
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': o.region, 'awslogs-stream-prefix': 'ecs-trace', 'awslogs-create-group': 'true' },
      },
    } : {}),
  };
}

export function patchAppForFargate(existing: TaskDefinition, o: FargateOptions): PatchResult {
  const notes: string[] = [];
  const doc = structuredClone(existing);
  const containers = doc.containerDefinitions ?? [];
  const agentIndex = containers.findIndex((c) => c.name === DEFAULT_AGENT_CONTAINER);
  const apps = containers.filter((_c, i) => i !== agentIndex);
  const { container: app, index } = o.container !== undefined ? findContainer(doc, o.container)
    : apps.length === 1 ? { container: apps[0]!, index: containers.indexOf(apps[0]!) } : onlyContainer(doc);
  if (app.name === DEFAULT_AGENT_CONTAINER) throw new TaskdefInputError('--container', `${DEFAULT_AGENT_CONTAINER} is the agent sidecar; name the app container`);
  const path = `containerDefinitions[${index}]`;

  (doc.volumes ?? []).forEach((v, i) => {
    if (v.host !== undefined) throw new TaskdefInputError(`volumes[${i}].host`, `Fargate has no host volumes (${JSON.stringify(v.name)}); use a task volume without host, or EFS`);
  });
  if (doc.networkMode !== 'awsvpc') {
    notes.push(`networkMode: ${doc.networkMode ?? 'bridge (unset)'} changed to awsvpc, the only mode Fargate has`);
    doc.networkMode = 'awsvpc';
  }
  if (!doc.requiresCompatibilities?.includes('FARGATE')) {
    doc.requiresCompatibilities = [...(doc.requiresCompatibilities ?? []), 'FARGATE'];
    notes.push('requiresCompatibilities: FARGATE added');
  }
  if (doc.cpu === undefined || doc.memory === undefined) {
    doc.cpu ??= '512';
    doc.memory ??= '1024';
    notes.push(`cpu/memory: Fargate needs a task size; set to ${doc.cpu} CPU units and ${doc.memory} MiB (the agent sidecar reserves 256 MiB of it)`);
  }
  containers.forEach((c, i) => (c.portMappings ?? []).forEach((p, j) => {
    const at = `containerDefinitions[${i}].portMappings[${j}].hostPort`;
    if (p.hostPort === 0) {
      delete p.hostPort;
      notes.push(`${at}: removed the dynamic host port (0); on Fargate the host port is the container port`);
    } else if (p.hostPort !== undefined && p.hostPort !== p.containerPort) {
      throw new TaskdefInputError(at, `is ${p.hostPort}, but on Fargate (awsvpc) the host port is the container port, ${p.containerPort}: remove hostPort`);
    }
  }));

  if (agentIndex < 0) {
    containers.push(agentSidecar(o));
    doc.containerDefinitions = containers;
    notes.push(`containerDefinitions: added the agent sidecar ${DEFAULT_AGENT_CONTAINER} (essential, ${TRACE_PORT}/tcp, health check on its /healthz)`);
    if (!o.region) notes.push(`no logConfiguration for the agent: pass --region to send its logs to CloudWatch Logs (${LOG_GROUP})`);
  }

  // Tracers default to localhost, which is the sidecar: a fixed host elsewhere would miss it.
  const host = getEnv(app, 'DD_AGENT_HOST');
  if (host !== undefined && !/^(localhost|127\.0\.0\.1|::1)$/.test(host)) {
    removeEnv(app, 'DD_AGENT_HOST');
    notes.push(`${path}.environment: removed DD_AGENT_HOST=${JSON.stringify(host)}; on Fargate the agent is on localhost, the tracers' default`);
  }
  app.dependsOn = [...(app.dependsOn ?? []).filter((d) => d.containerName !== DEFAULT_AGENT_CONTAINER), { containerName: DEFAULT_AGENT_CONTAINER, condition: 'HEALTHY' }];
  notes.push(`${path}.dependsOn: starts once ${DEFAULT_AGENT_CONTAINER} is HEALTHY, so no early trace is sent to nobody`);
  for (const [tag, value] of [['service', o.service], ['env', o.env], ['version', o.version]] as const) {
    if (value === undefined) continue;
    setEnv(app, `DD_${tag.toUpperCase()}`, value);
    app.dockerLabels = { ...app.dockerLabels, [`com.datadoghq.tags.${tag}`]: value };
  }
  if (o.executionRoleArn) doc.executionRoleArn = o.executionRoleArn;
  const missing = missingExecutionRole(doc);
  if (missing) {
    throw new TaskdefInputError('--execution-role-arn', `${missing.reason} (${missing.path}), and ECS refuses the task without one: pass --execution-role-arn ARN (a role with AmazonECSTaskExecutionRolePolicy, such as ecsTaskExecutionRole)`);
  }
  if (placeholderImage(agentImageOf(doc))) notes.push(`${DEFAULT_AGENT_CONTAINER}.image: ${agentImageOf(doc)} is in no registry: build deploy/Dockerfile, push it to your ECR and pass --agent-image with its URI`);
  return { doc, notes };
}

const agentImageOf = (doc: TaskDefinition): string => doc.containerDefinitions?.find((c) => c.name === DEFAULT_AGENT_CONTAINER)?.image ?? '';
