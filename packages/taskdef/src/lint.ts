import { getEnv } from './container-env.js';
import { TaskdefInputError } from './errors.js';
import { OUTPUT_ONLY_KEYS, REGISTER_KEYS, SERVICE_KEYS, normalizeTaskDefinition, type Container, type TaskDefinition } from './input.js';
import { TRACE_PORT } from './agent.js';
import { ownShellMode } from './shell-forms.js';
import { afterLauncher } from './app.js';
import { isUiContainer, UI_PORT } from './ui.js';
import { missingExecutionRole, placeholderImage } from './execution-role.js';

/*
 * Findings for the set-ups that lose traces on ECS (ecs-spec 10 and 13): each with a severity,
 * the JSON path it is about, what is wrong and how to fix it. Errors fail `taskdef lint` (exit 1).
 */

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  rule: string;
  severity: Severity;
  path: string;
  message: string;
  fix: string;
}

const AGENT_IMAGE = /(^|\/)(datadog\/agent|ecs-trace\/agent|ecs-trace-agent)(:|@|$)/;

export function isAgentContainer(c: Container): boolean {
  return c.name === 'datadog-agent' || AGENT_IMAGE.test(c.image ?? '');
}

function startScript(c: Container): string {
  return [...(c.entryPoint ?? []), ...(c.command ?? [])].join(' ');
}

function isTraced(c: Container): boolean {
  return (c.environment ?? []).some((e) => e.name?.startsWith('DD_'))
    || Object.keys(c.dockerLabels ?? {}).some((k) => k.startsWith('com.datadoghq.'))
    || /DD_AGENT_HOST|ecs-trace|dd-trace|ddtrace|dd-java-agent/.test(startScript(c));
}

function learnsAgentHost(c: Container): boolean {
  if (getEnv(c, 'DD_AGENT_HOST') !== undefined || getEnv(c, 'DD_TRACE_AGENT_URL') !== undefined) return true;
  if ((c.secrets ?? []).some((s) => s.name === 'DD_AGENT_HOST' || s.name === 'DD_TRACE_AGENT_URL')) return true;
  if (afterLauncher(c.entryPoint ?? []) !== undefined) return true;
  // The agent's socket mounted from the host: tracers find it themselves.
  if ((c.mountPoints ?? []).some((m) => m.containerPath?.replace(/\/+$/, '') === '/var/run/datadog')) return true;
  return /DD_AGENT_HOST=/.test(startScript(c));
}

function imageTag(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const i = last.indexOf(':');
  return i < 0 ? '' : last.slice(i + 1);
}

/** Lints parsed JSON as the user has it (describe output and nulls included). */
export function lintTaskDefinition(input: unknown): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, severity: Severity, path: string, message: string, fix: string) => findings.push({ rule, severity, path, message, fix });

  if (typeof input === 'object' && input !== null && typeof (input as Record<string, unknown>)['taskDefinition'] === 'object') {
    add('describe-output', 'error', 'taskDefinition', 'this is describe-task-definition output; register-task-definition takes what is inside taskDefinition, without its output-only fields', 'ecs-trace taskdef normalize FILE > taskdef.json');
  }
  let normalized;
  try {
    normalized = normalizeTaskDefinition(input, 'the file');
  } catch (err) {
    if (err instanceof TaskdefInputError) {
      add('not-a-task-definition', 'error', err.field, err.message, 'give a register-task-definition --cli-input-json file or describe-task-definition output');
      return findings;
    }
    throw err;
  }
  const raw = ((input as Record<string, unknown>)['taskDefinition'] ?? input) as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (OUTPUT_ONLY_KEYS.has(key)) continue;
    if (SERVICE_KEYS.has(key)) add('service-key', 'error', key, `${key} is a setting of the ECS service (or run-task), not of the task definition; register-task-definition rejects it`, 'remove it here and set it on the service (ecs-trace taskdef service)');
    else if (!REGISTER_KEYS.has(key)) add('unknown-key', 'error', key, `register-task-definition does not know ${key}`, 'remove it (check the spelling: keys are camelCase)');
  }
  for (const path of normalized.removed) {
    if (OUTPUT_ONLY_KEYS.has(path)) add('output-only-field', 'error', path, `${path} is an output-only field of describe-task-definition; register-task-definition rejects it`, 'ecs-trace taskdef normalize FILE removes it');
    else add('null-value', 'error', path, 'JSON null: register-task-definition rejects nulls ("Invalid type for parameter")', 'remove the key, or ecs-trace taskdef normalize FILE');
  }
  findings.push(...lintDefinition(normalized.doc));
  return findings;
}

function lintDefinition(doc: TaskDefinition): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, severity: Severity, path: string, message: string, fix: string) => findings.push({ rule, severity, path, message, fix });
  const mode = doc.networkMode ?? 'bridge';
  const containers = doc.containerDefinitions ?? [];
  const fargate = doc.requiresCompatibilities?.includes('FARGATE') === true;
  if (fargate) lintFargate(doc, add);
  // Secrets have a rule of their own below; the rest of what needs an execution role here.
  const missing = missingExecutionRole(doc);
  if (missing && !missing.path.endsWith('.secrets')) {
    add('execution-role-missing', 'error', 'executionRoleArn', `${missing.reason} (${missing.path}), and the task has no executionRoleArn: ECS refuses to start it`, 'set executionRoleArn to a role with AmazonECSTaskExecutionRolePolicy (ecsTaskExecutionRole), or --execution-role-arn ARN when generating it');
  }
  containers.forEach((c, i) => {
    const at = `containerDefinitions[${i}]`;
    const name = JSON.stringify(c.name);
    const agent = isAgentContainer(c);
    if (c.image !== undefined && placeholderImage(c.image)) {
      add('image-not-in-a-registry', 'error', `${at}.image`, `${name} names ${c.image}, which no registry holds: ECS fails the task with CannotPullContainerError`, 'build deploy/Dockerfile, push it to your ECR (README: Deploy) and use its URI');
    }
    if (c.image !== undefined) {
      const tag = imageTag(c.image);
      if (tag === '' || tag === 'latest') add('latest-image', 'warning', `${at}.image`, `${name} uses ${tag === '' ? 'no tag (latest)' : ':latest'}: each host may run a different version, and a bad release rolls out silently`, 'pin a version tag or a digest');
    }
    (c.environment ?? []).forEach((e, j) => {
      if (e.name === 'DD_API_KEY') add('api-key-plain', 'error', `${at}.environment[${j}]`, `${name} has DD_API_KEY as a plain value: anyone who can describe the task definition can read it`, 'ecs-trace taskdef agent FILE --api-key-secret ARN (Secrets Manager or SSM)');
      if (e.name === 'ECS_TRACE_OTLP_EXPORT_HEADERS') add('otlp-headers-plain', 'error', `${at}.environment[${j}]`, `${name} has ECS_TRACE_OTLP_EXPORT_HEADERS as a plain value: the export's credentials are readable by anyone who can describe the task definition`, 'ecs-trace taskdef agent FILE --otlp-export-headers-secret ARN (Secrets Manager or SSM)');
      // A postgres:// URL with a password in it, in plain sight.
      if (e.name === 'ECS_TRACE_STORE' && /^(postgres(ql)?|clickhouses?|https?):\/\/[^/@]*:[^/@]+@/.test(e.value ?? '')) add('store-password-plain', 'error', `${at}.environment[${j}]`, `${name} has a database password in ECS_TRACE_STORE: anyone who can describe the task definition can read it`, 'ecs-trace taskdef agent FILE --store-secret ARN (Secrets Manager or SSM)');
    });
    if ((c.secrets?.length ?? 0) > 0 && !doc.executionRoleArn) {
      add('secrets-without-role', 'error', 'executionRoleArn', `${name} reads secrets, but the task has no executionRoleArn for the ECS agent to read them with`, 'set executionRoleArn to a role allowed to read the secrets');
    }
    if (isUiContainer(c)) {
      lintUi(c, at, add);
      return;
    }
    // The agent and the apps of a Fargate task: lintFargate's rules, not the EC2 daemon's.
    if (fargate) return;
    if (agent) {
      const ports = c.portMappings ?? [];
      const j = ports.findIndex((p) => p.containerPort === TRACE_PORT);
      const p = ports[j];
      if (p === undefined || (p.hostPort !== TRACE_PORT && mode !== 'host')) {
        add('agent-port', 'error', `${at}.portMappings`, `agent container ${name} has no host port ${TRACE_PORT}/tcp: tracers on the host's IP cannot reach it`, `add {"containerPort": ${TRACE_PORT}, "hostPort": ${TRACE_PORT}, "protocol": "tcp"} (ecs-trace taskdef agent FILE)`);
      } else if (p.protocol === 'udp') {
        add('agent-port-udp', 'error', `${at}.portMappings[${j}].protocol`, `port ${TRACE_PORT} is mapped as udp; tracers send traces over TCP`, 'set "protocol": "tcp" (udp is for DogStatsD on 8125)');
      }
      if (mode === 'awsvpc') add('agent-awsvpc', 'error', 'networkMode', `the agent runs in awsvpc mode: it gets its own ENI, so apps cannot reach it at the host's IP`, 'use bridge (or host) network mode for the agent daemon');
      return;
    }
    if (!isTraced(c)) return;
    if (mode === 'awsvpc') add('app-awsvpc', 'warning', 'networkMode', `${name} runs in awsvpc mode: its traffic to the host's IP on ${TRACE_PORT} must be allowed by the instance's security group`, `allow tcp ${TRACE_PORT} from the task's security group to the instances' security group`);
    if (mode !== 'host' && !learnsAgentHost(c)) {
      add('app-no-agent-host', 'warning', `${at}.entryPoint`, `${name} is traced but has no way to learn the agent's host: its tracer will send to itself`, discoveryFix(c));
    }
    const host = getEnv(c, 'DD_AGENT_HOST');
    if (host !== undefined && getEnv(c, 'DD_TRACE_AGENT_URL') !== undefined) {
      add('host-and-url', 'warning', `${at}.environment`, `${name} sets both DD_AGENT_HOST and DD_TRACE_AGENT_URL; tracers use the URL`, 'keep one of them');
    }
    if (host !== undefined && /^(localhost|127\.0\.0\.1|::1)$/.test(host) && mode !== 'host') {
      add('agent-host-loopback', 'error', `${at}.environment`, `${name} sends traces to ${host}, which in ${mode} mode is the container itself, not the host`, `remove DD_AGENT_HOST and use ${discoveryFix(c)}`);
    }
    lintShellForm(c, at, mode, add);
  });
  return findings;
}

/**
 * A Fargate task: awsvpc, a task size, no host volumes or host ports; the agent a sidecar in the
 * same task (tracers reach it on localhost), which traced apps wait for.
 */
function lintFargate(doc: TaskDefinition, add: (rule: string, severity: Severity, path: string, message: string, fix: string) => void): void {
  const containers = doc.containerDefinitions ?? [];
  if (doc.networkMode !== 'awsvpc') add('fargate-network-mode', 'error', 'networkMode', `Fargate runs only awsvpc tasks, not ${doc.networkMode ?? 'bridge (unset)'}`, 'set "networkMode": "awsvpc" (ecs-trace taskdef app FILE --fargate)');
  if (doc.cpu === undefined || doc.memory === undefined) add('fargate-task-size', 'error', doc.cpu === undefined ? 'cpu' : 'memory', 'Fargate needs the task\'s cpu and memory', 'set both, e.g. "cpu": "512", "memory": "1024"');
  (doc.volumes ?? []).forEach((v, i) => {
    if (v.host !== undefined) add('fargate-host-volume', 'error', `volumes[${i}].host`, `Fargate has no host volumes (${JSON.stringify(v.name)})`, 'use a task volume without host, or EFS');
  });
  const agentAt = containers.findIndex((c) => isAgentContainer(c) && !isUiContainer(c));
  containers.forEach((c, i) => {
    const at = `containerDefinitions[${i}]`;
    (c.portMappings ?? []).forEach((p, j) => {
      if (p.hostPort !== undefined && p.hostPort !== p.containerPort) add('fargate-host-port', 'error', `${at}.portMappings[${j}].hostPort`, `on Fargate the host port is the container port (${p.containerPort}), not ${p.hostPort}`, 'remove hostPort');
    });
    if (i === agentAt || isUiContainer(c) || !isTraced(c)) return;
    const name = JSON.stringify(c.name);
    if (agentAt < 0) {
      add('fargate-no-agent', 'error', 'containerDefinitions', `${name} is traced, but the task has no agent: on Fargate it runs as a sidecar in the same task`, `ecs-trace taskdef app FILE --container ${c.name} --fargate`);
      return;
    }
    const host = getEnv(c, 'DD_AGENT_HOST');
    if (host !== undefined && !/^(localhost|127\.0\.0\.1|::1)$/.test(host)) add('fargate-agent-host', 'error', `${at}.environment`, `${name} sends traces to ${host}; on Fargate the agent is the sidecar on localhost`, 'remove DD_AGENT_HOST (localhost is the tracers\' default)');
    const agentName = containers[agentAt]!.name;
    if (!(c.dependsOn ?? []).some((d) => d.containerName === agentName && (d.condition === 'HEALTHY' || d.condition === 'START'))) {
      add('fargate-no-depends-on', 'warning', `${at}.dependsOn`, `${name} may start before the agent listens: traces it sends then are lost`, `add {"containerName": ${JSON.stringify(agentName)}, "condition": "HEALTHY"} (with a health check on the agent)`);
    }
  });
}

/** An `ecs-trace ui` container: the shared store, a token when it listens beyond loopback, its port mapped. */
function lintUi(c: Container, at: string, add: (rule: string, severity: Severity, path: string, message: string, fix: string) => void): void {
  const name = JSON.stringify(c.name);
  const args = [...(c.entryPoint ?? []), ...(c.command ?? [])];
  const flag = (f: string): string | undefined => {
    const i = args.findIndex((a) => a === f || a.startsWith(`${f}=`));
    if (i < 0) return undefined;
    return args[i]!.includes('=') ? args[i]!.slice(args[i]!.indexOf('=') + 1) : args[i + 1];
  };
  const env = (n: string) => getEnv(c, n) ?? ((c.secrets ?? []).some((s) => s.name === n) ? '(secret)' : undefined);
  const store = env('ECS_TRACE_STORE') ?? flag('--store');
  if (store === undefined || store === 'sqlite') {
    add('ui-no-store', 'error', `${at}.secrets`, `${name} runs ecs-trace ui without the shared store: it would show its own empty embedded store, not the cluster's traces`, 'ecs-trace taskdef ui --store-secret ARN (the postgres:// URL in Secrets Manager or SSM)');
  }
  const host = flag('--api-host') ?? getEnv(c, 'ECS_TRACE_API_HOST') ?? '127.0.0.1';
  const loopback = /^(127\.|localhost$|::1$)/.test(host);
  if (loopback) {
    add('ui-loopback', 'error', `${at}.command`, `${name} listens on ${host}: the load balancer cannot reach it`, `add "--api-host", "0.0.0.0" to the command (with a token: ecs-trace taskdef ui)`);
  }
  const plainToken = (c.environment ?? []).findIndex((e) => e.name === 'ECS_TRACE_API_TOKEN');
  if (plainToken >= 0) {
    add('ui-token-plain', 'error', `${at}.environment[${plainToken}]`, `${name} has ECS_TRACE_API_TOKEN as a plain value: anyone who can describe the task definition can sign in`, 'put the token in Secrets Manager or SSM and pass --token-secret ARN to ecs-trace taskdef ui');
  }
  const token = env('ECS_TRACE_API_TOKEN') !== undefined || env('ECS_TRACE_API_TOKEN_FILE') !== undefined || flag('--api-token-file') !== undefined;
  if (args.includes('--api-insecure-no-auth')) {
    add('ui-no-auth', 'warning', `${at}.command`, `${name} serves traces to anyone who reaches it (--api-insecure-no-auth)`, 'remove --api-insecure-no-auth and give a token (ecs-trace taskdef ui --token-secret ARN)');
  } else if (!loopback && !token) {
    add('ui-no-token', 'error', `${at}.secrets`, `${name} listens on ${host} without ECS_TRACE_API_TOKEN: ecs-trace ui refuses to start that way`, 'ecs-trace taskdef ui --token-secret ARN');
  }
  const port = Number(flag('--api-port') ?? getEnv(c, 'ECS_TRACE_API_PORT') ?? UI_PORT);
  if (!(c.portMappings ?? []).some((p) => p.containerPort === port)) {
    add('ui-port', 'error', `${at}.portMappings`, `${name} listens on ${port}, which no port mapping exposes: the target group cannot reach it`, `add {"containerPort": ${port}, "protocol": "tcp"}`);
  }
}

function lintShellForm(c: Container, at: string, mode: string, add: (rule: string, severity: Severity, path: string, message: string, fix: string) => void): void {
  const ep = c.entryPoint ?? [];
  if (ep.length < 3 || !/(^|\/)(ba|da)?sh$/.test(ep[0]!) || ep[1] !== '-c') return;
  const script = ep[2]!;
  if (!/DD_AGENT_HOST/.test(script)) return;
  const name = JSON.stringify(c.name);
  const fix = `ecs-trace taskdef app FILE --container ${c.name} --discovery launcher --startup-command '[...]'`;
  if (/169\.254\.169\.254\/latest\/api\/token/.test(script) && mode === 'bridge' && ownShellMode(ep) === undefined) {
    add('imdsv2-bridge', 'warning', `${at}.entryPoint`, `${name} gets an IMDSv2 token from a bridge-mode container: the token answer is dropped unless the instance's HttpPutResponseHopLimit is 2 or more (the default is 1)`, 'set the hop limit to 2 in the launch template, or use the metadata file (--discovery metadata-file or launcher)');
  } else if (/169\.254\.169\.254\/latest\/api\/token/.test(script) && mode === 'bridge') {
    add('imdsv2-bridge', 'info', `${at}.entryPoint`, `${name} uses IMDSv2 from a bridge-mode container: the instance's HttpPutResponseHopLimit must be 2 or more`, 'set the hop limit to 2, or use --discovery launcher (falls back to the metadata file and IMDSv1)');
  }
  if (/169\.254\.169\.254\/latest\/meta-data/.test(script) && !/X-aws-ec2-metadata-token/i.test(script)) {
    add('imdsv1-only', 'warning', `${at}.entryPoint`, `${name} reads IMDS without a token: it gets a 401 page on instances that require IMDSv2 (the default for Amazon Linux 2023 AMIs)`, fix);
  }
  if (/\bcurl\b/.test(script) && !/\bcurl\b[^;|&)]*(\s-[a-zA-Z]*f|--fail)/.test(script)) {
    add('curl-without-fail', 'warning', `${at}.entryPoint`, `${name} runs curl without -f: an HTTP error page becomes DD_AGENT_HOST`, fix);
  }
  if (!/\bexec\b/.test(script)) {
    add('shell-without-exec', 'warning', `${at}.entryPoint`, `${name}'s shell script does not exec the app: docker stop's SIGTERM goes to sh, and the app is killed after stopTimeout`, fix);
  }
  if (ep.length === 3 && (c.command?.length ?? 0) > 0 && !/"\$@"|\$@|\$\*/.test(script)) {
    add('command-ignored', 'error', `${at}.command`, `${name} has a command, but with entryPoint ["sh","-c","..."] it becomes the script's $0, $1... and never runs`, fix);
  }
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

export function formatFindings(findings: readonly Finding[], file: string): string {
  if (findings.length === 0) return `${file}: no findings\n`;
  const order: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  return [...findings].sort((a, b) => order[a.severity] - order[b.severity]).map((f) => `${file}: ${f.severity.padEnd(7)} ${f.path}  ${f.message}\n    fix: ${f.fix}  [${f.rule}]`).join('\n') + '\n';
}

/**
 * How a container that does not know the agent's host should learn it. The launcher needs Node
 * in the image, so it is offered only for a Node start; anything else (a JVM, Python, a Go
 * binary, a distroless image, a start not written here) gets the agent's Unix socket, which
 * needs nothing in the image (every Datadog tracer reads DD_TRACE_AGENT_URL=unix://...), or the
 * metadata-file shell form and what it needs.
 */
export function discoveryFix(c: Container): string {
  const program = ([...(c.entryPoint ?? []), ...(c.command ?? [])][0] ?? '').split('/').pop() ?? '';
  if (/^(node|nodejs|npm|npx|yarn|pnpm)$/.test(program)) return `ecs-trace taskdef app FILE --container ${c.name} --discovery launcher (Node is in its image)`;
  return `ecs-trace taskdef app FILE --container ${c.name} --discovery uds with the agent's socket (ecs-trace taskdef agent FILE --uds): nothing needed in the image; or --discovery metadata-file (the image needs sh and sed, the instances ECS_ENABLE_CONTAINER_METADATA=true)`;
}
