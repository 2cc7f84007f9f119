import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  agentTaskDefinition, daemonService, DISCOVERY_MODES, formatFindings, formatTaskDefinition, hasErrors, lintTaskDefinition,
  parseJson, parseTaskDefinition, patchAppForFargate, patchAppTaskDefinition, registerTaskDefinition, RegisterError, TaskdefInputError,
  uiService, uiTargetGroup, uiTaskDefinition,
  type DiscoveryMode, type PatchResult, type TaskDefinition,
} from '@ecs-trace/taskdef';

/** `ecs-trace taskdef ...`: task definitions for the agent and for apps, never edited by hand. */

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new TaskdefInputError('', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

function load(file: string): TaskDefinition {
  const parsed = parseTaskDefinition(readInput(file), file === '-' ? 'standard input' : file);
  if (parsed.removed.length > 0) process.stderr.write(`ecs-trace taskdef: removed what register-task-definition rejects: ${parsed.removed.join(', ')}\n`);
  return parsed.doc;
}

/** A command as a JSON array, or plain words without quotes. */
function argvOption(name: string, value: string): string[] {
  if (value.trim() === 'none') return [];
  if (value.trim().startsWith('[')) {
    const v = parseJson(value, `--${name}`);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new TaskdefInputError(`--${name}`, 'must be a JSON array of strings, e.g. \'["node","server.js"]\'');
    return v;
  }
  if (/["'\\$`]/.test(value)) throw new TaskdefInputError(`--${name}`, 'has quotes or shell characters; give it as a JSON array, e.g. \'["node","-e","..."]\'');
  return value.trim().split(/\s+/).filter(Boolean);
}

function wholeNumber(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new TaskdefInputError(flag, `must be a whole number, not ${JSON.stringify(v)}`);
  return n;
}

interface OutputFlags { output?: string; register?: boolean }

async function emit(result: PatchResult, flags: OutputFlags): Promise<void> {
  for (const n of result.notes) process.stderr.write(`ecs-trace taskdef: ${n}\n`);
  const text = formatTaskDefinition(result.doc);
  if (flags.output) writeFileSync(flags.output, text);
  else if (!flags.register) process.stdout.write(text);
  if (flags.register) {
    const r = await registerTaskDefinition(result.doc);
    process.stdout.write(`${r.arn}\n`);
  }
}

function withOutput(cmd: Command): Command {
  return cmd
    .option('-o, --output <file>', 'write the task definition there instead of stdout')
    .option('--register', 'register it with AWS (region and credentials the SDK\'s usual way) and print the new revision\'s ARN');
}

export function taskdefCommands(program: Command, setExit: (code: number) => void): void {
  const taskdef = program.command('taskdef').description('Generate, patch, lint and register ECS task definitions for the agent and for apps.');
  const guard = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof TaskdefInputError) {
        process.stderr.write(`ecs-trace taskdef: ${err.message}\n`);
        setExit(2);
        return;
      }
      if (err instanceof RegisterError) {
        process.stderr.write(`ecs-trace taskdef: ${err.message}\n`);
        setExit(1);
        return;
      }
      throw err;
    }
  };

  withOutput(taskdef
    .command('agent')
    .description('A new agent daemon task definition, or FILE patched: host port 8126/tcp, APM on, API key from a secret.')
    .argument('[file]', 'task definition to patch (register input or describe output; - for stdin)')
    .option('--container <name>', 'the agent container', 'datadog-agent')
    .option('--image <image>', 'image of a new definition')
    .option('--family <family>', 'family of a new definition', 'ecs-trace-agent')
    .option('--api-key-secret <arn>', 'Secrets Manager ARN or SSM parameter holding the Datadog API key')
    .option('--execution-role-arn <arn>', 'role the ECS agent uses to read the secret')
    .option('--uds', 'also take traces on /var/run/datadog/apm.socket, shared with apps through a host volume')
    .option('--store-secret <arn>', 'Secrets Manager ARN or SSM parameter holding the shared PostgreSQL store\'s URL (ECS_TRACE_STORE)')
    .option('--monitors-secret <arn>', 'Secrets Manager ARN or SSM parameter holding the monitors file\'s text (ECS_TRACE_MONITORS), its channels\' addresses and keys with it')
    .option('--docker-socket', 'mount the host\'s Docker socket read-only (as the Datadog Agent does): spans then link to their container\'s CloudWatch logs')
    .option('--otlp', 'also take OTLP from OpenTelemetry SDKs: 4318/tcp (HTTP) and 4317/tcp (gRPC) on the host')
    .option('--otlp-export <url>', 'also export kept traces over OTLP/HTTP to this endpoint (a Collector, Jaeger, Tempo)')
    .option('--otlp-export-headers-secret <arn>', 'Secrets Manager ARN or SSM parameter holding the OTLP export\'s headers (k=v,k2=v2: credentials)')
    .option('--region <region>', 'AWS region of the CloudWatch Logs group the agent logs to (default: AWS_REGION)', process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION']))
    .action(guard(async (file: string | undefined, f: OutputFlags & { container: string; image?: string; family: string; apiKeySecret?: string; executionRoleArn?: string; uds?: boolean; region?: string; storeSecret?: string; monitorsSecret?: string; dockerSocket?: boolean; otlp?: boolean; otlpExport?: string; otlpExportHeadersSecret?: string }) => {
      const existing = file === undefined ? undefined : load(file);
      await emit(agentTaskDefinition(existing, {
        container: f.container, family: f.family,
        ...(f.image ? { image: f.image } : {}), ...(f.apiKeySecret ? { apiKeySecret: f.apiKeySecret } : {}), ...(f.executionRoleArn ? { executionRoleArn: f.executionRoleArn } : {}),
        ...(f.uds ? { uds: true } : {}), ...(f.region ? { region: f.region } : {}), ...(f.storeSecret ? { storeSecret: f.storeSecret } : {}), ...(f.monitorsSecret ? { monitorsSecret: f.monitorsSecret } : {}), ...(f.dockerSocket ? { dockerSocket: true } : {}), ...(f.otlp ? { otlp: true } : {}),
        ...(f.otlpExport ? { otlpExport: f.otlpExport } : {}), ...(f.otlpExportHeadersSecret ? { otlpExportHeadersSecret: f.otlpExportHeadersSecret } : {}),
      }), f);
    }));

  withOutput(taskdef
    .command('ui')
    .description('The UI service\'s task definition: ecs-trace ui on the shared PostgreSQL store, port 8127 for an ALB (awsvpc), store URL and API token from secrets.')
    .requiredOption('--store-secret <arn>', 'Secrets Manager ARN or SSM parameter holding the store\'s postgres:// URL')
    .requiredOption('--token-secret <arn>', 'Secrets Manager ARN or SSM parameter holding the API token users sign in with')
    .requiredOption('--execution-role-arn <arn>', 'role the ECS agent uses to read the two secrets')
    .option('--image <image>', 'the ecs-trace image')
    .option('--family <family>', 'family', 'ecs-trace-ui')
    .option('--cpu <units>', 'task CPU units', '256')
    .option('--memory <MiB>', 'task memory', '512')
    .option('--region <region>', 'AWS region of the CloudWatch Logs group (default: AWS_REGION)', process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION']))
    .action(guard(async (f: OutputFlags & { storeSecret: string; tokenSecret: string; executionRoleArn: string; image?: string; family: string; cpu: string; memory: string; region?: string }) => {
      await emit(uiTaskDefinition({
        storeSecret: f.storeSecret, tokenSecret: f.tokenSecret, executionRoleArn: f.executionRoleArn, family: f.family,
        cpu: wholeNumber('--cpu', f.cpu), memory: wholeNumber('--memory', f.memory),
        ...(f.image ? { image: f.image } : {}), ...(f.region ? { region: f.region } : {}),
      }), f);
    }));

  taskdef
    .command('ui-service')
    .description('The UI\'s REPLICA service behind an ALB target group, for aws ecs create-service --cli-input-json.')
    .requiredOption('--task-definition <family[:revision]>', 'the UI task definition')
    .requiredOption('--target-group-arn <arn>', 'the ALB target group (ecs-trace taskdef ui-target-group makes its input)')
    .requiredOption('--subnets <ids>', 'subnet ids, comma-separated')
    .requiredOption('--security-groups <ids>', 'security group ids, comma-separated')
    .option('--cluster <cluster>', 'cluster name')
    .option('--service-name <name>', 'service name', 'ecs-trace-ui')
    .option('--desired-count <n>', 'replicas', '2')
    .addOption(new Option('--launch-type <type>', 'launch type').choices(['FARGATE', 'EC2']).default('FARGATE'))
    .action(guard(async (f: { taskDefinition: string; targetGroupArn: string; subnets: string; securityGroups: string; cluster?: string; serviceName: string; desiredCount: string; launchType: 'FARGATE' | 'EC2' }) => {
      const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
      process.stdout.write(JSON.stringify(uiService({
        taskDefinition: f.taskDefinition, targetGroupArn: f.targetGroupArn, subnets: list(f.subnets), securityGroups: list(f.securityGroups),
        serviceName: f.serviceName, desiredCount: wholeNumber('--desired-count', f.desiredCount), launchType: f.launchType, ...(f.cluster ? { cluster: f.cluster } : {}),
      }), null, 2) + '\n');
    }));

  taskdef
    .command('ui-target-group')
    .description('The ALB target group for the UI (task IPs on 8127, health check /healthz), for aws elbv2 create-target-group --cli-input-json.')
    .requiredOption('--vpc-id <id>', 'the VPC of the UI tasks')
    .option('--name <name>', 'target group name', 'ecs-trace-ui')
    .action(guard(async (f: { vpcId: string; name: string }) => {
      process.stdout.write(JSON.stringify(uiTargetGroup({ vpcId: f.vpcId, name: f.name }), null, 2) + '\n');
    }));

  withOutput(taskdef
    .command('app')
    .description('Patch an app container so it starts with DD_AGENT_HOST set to the host\'s IP.')
    .argument('<file>', 'task definition (register input or describe output; - for stdin)')
    .option('--container <name>', 'the app container (needed when the task definition has more than one)')
    .addOption(new Option('--discovery <mode>', 'how the container learns the host').choices([...DISCOVERY_MODES]).default('launcher'))
    .option('--image-entrypoint <argv>', 'the image\'s ENTRYPOINT when the task definition sets none (JSON array, or none)')
    .option('--startup-command <argv>', 'the app\'s whole start, replacing entryPoint and command (JSON array)')
    .option('--launcher-path <path>', 'where ecs-trace is inside the image', 'ecs-trace')
    .option('--service <name>', 'DD_SERVICE and the matching docker label')
    .option('--env <env>', 'DD_ENV and the matching docker label')
    .option('--version <version>', 'DD_VERSION and the matching docker label')
    .option('--fargate', 'a Fargate task instead: add the agent as a sidecar (essential, 8126/tcp, health check) that the app waits for; the app\'s start is left as it is (tracers reach the sidecar on localhost)')
    .option('--agent-image <image>', 'with --fargate: the sidecar\'s image')
    .option('--execution-role-arn <arn>', 'with --fargate: the role ECS starts the task with (needed for awslogs and ECR images; ecsTaskExecutionRole)')
    .option('--region <region>', 'with --fargate: AWS region of the sidecar\'s CloudWatch Logs group (default: AWS_REGION)', process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION']))
    .action(guard(async (file: string, f: OutputFlags & { container?: string; discovery: DiscoveryMode; imageEntrypoint?: string; startupCommand?: string; launcherPath: string; service?: string; env?: string; version?: string; fargate?: boolean; agentImage?: string; region?: string; executionRoleArn?: string }) => {
      if (f.fargate) {
        await emit(patchAppForFargate(load(file), {
          ...(f.container !== undefined ? { container: f.container } : {}), ...(f.agentImage ? { agentImage: f.agentImage } : {}), ...(f.region ? { region: f.region } : {}), ...(f.executionRoleArn ? { executionRoleArn: f.executionRoleArn } : {}),
          ...(f.service !== undefined ? { service: f.service } : {}), ...(f.env !== undefined ? { env: f.env } : {}), ...(f.version !== undefined ? { version: f.version } : {}),
        }), f);
        return;
      }
      await emit(patchAppTaskDefinition(load(file), {
        ...(f.container !== undefined ? { container: f.container } : {}),
        discovery: f.discovery,
        launcherPath: f.launcherPath,
        ...(f.imageEntrypoint !== undefined ? { imageEntrypoint: argvOption('image-entrypoint', f.imageEntrypoint) } : {}),
        ...(f.startupCommand !== undefined ? { startupCommand: argvOption('startup-command', f.startupCommand) } : {}),
        ...(f.service !== undefined ? { service: f.service } : {}),
        ...(f.env !== undefined ? { env: f.env } : {}),
        ...(f.version !== undefined ? { version: f.version } : {}),
      }), f);
    }));

  taskdef
    .command('lint')
    .description('Findings (severity, JSON path, fix) for set-ups that lose traces; exit 1 on errors, 2 when a file is not a task definition.')
    .argument('<files...>', 'task definitions (- for stdin)')
    .option('--json', 'findings as JSON')
    .action(guard(async (files: string[], f: { json?: boolean }) => {
      let failed = false;
      let notTaskDefinition = false;
      const all: Record<string, unknown> = {};
      for (const file of files) {
        const findings = lintTaskDefinition(parseJson(readInput(file), file));
        failed ||= hasErrors(findings);
        notTaskDefinition ||= findings.some((x) => x.rule === 'not-a-task-definition');
        if (f.json) all[file] = findings;
        else process.stdout.write(formatFindings(findings, file));
      }
      if (f.json) process.stdout.write(JSON.stringify(files.length === 1 ? all[files[0]!] : all, null, 2) + '\n');
      // Bad input is exit 2, as for every taskdef command; findings in a real task definition, 1.
      setExit(notTaskDefinition ? 2 : failed ? 1 : 0);
    }));

  taskdef
    .command('normalize')
    .description('describe-task-definition output (or any task definition) as register-task-definition input.')
    .argument('<file>', 'task definition (- for stdin)')
    .action(guard(async (file: string) => {
      process.stdout.write(formatTaskDefinition(load(file)));
    }));

  taskdef
    .command('service')
    .description('The agent\'s DAEMON service, for aws ecs create-service --cli-input-json.')
    .requiredOption('--task-definition <family[:revision]>', 'the agent task definition')
    .option('--cluster <cluster>', 'cluster name')
    .option('--service-name <name>', 'service name', 'ecs-trace-agent')
    .action(guard(async (f: { taskDefinition: string; cluster?: string; serviceName: string }) => {
      process.stdout.write(JSON.stringify(daemonService({ taskDefinition: f.taskDefinition, serviceName: f.serviceName, ...(f.cluster ? { cluster: f.cluster } : {}) }), null, 2) + '\n');
    }));
}
