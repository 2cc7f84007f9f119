import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { IMDS_MODES, startSimulator, type ImdsMode } from '@ecs-trace/simulator';

/** `ecs-trace simulate`: an ECS container instance on this machine (IMDS, ECS agent, metadata files). */

interface SimulateFlags {
  imds: ImdsMode;
  hopLimit?: string;
  imdsHost: string;
  imdsPort: string;
  ecsHost: string;
  ecsPort: string;
  localIpv4: string;
  metadataDir?: string;
  metadataFiles: boolean;
  readyAfter: string;
  env?: string;
  json?: boolean;
  fargate?: boolean;
}

class UsageError extends Error {}

function intFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  return n;
}

export function simulateCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('simulate')
    .description('Run stand-ins for IMDS, the ECS metadata file, task metadata v4 and the ECS agent introspection API.')
    .addOption(new Option('--imds <mode>', 'IMDS behaviour').choices([...IMDS_MODES]).default('v2-optional'))
    .option('--hop-limit <n>', 'HttpPutResponseHopLimit: token PUTs from callers further away go unanswered (a caller from another address counts as a container, 2 hops)')
    .option('--imds-host <address>', 'IMDS listen address (169.254.169.254 inside a network namespace)', '127.0.0.1')
    .option('--imds-port <port>', 'IMDS port (80 as on EC2; 0 picks one)', '1338')
    .option('--ecs-host <address>', 'task metadata v4 + introspection listen address', '127.0.0.1')
    .option('--ecs-port <port>', 'task metadata v4 + introspection port (0 picks one)', '51678')
    .option('--local-ipv4 <ip>', 'the host\'s private IP that discovery should find', '127.0.0.1')
    .option('--metadata-dir <dir>', 'where to write the container metadata files (a temporary directory otherwise)')
    .option('--no-metadata-files', 'an instance without ECS_ENABLE_CONTAINER_METADATA')
    .option('--ready-after <ms>', 'delay before the metadata files become READY', '300')
    .option('--env <container>', 'print `export` lines for this container (name or family/name)')
    .option('--json', 'print the endpoints and every container\'s environment as one JSON line')
    .option('--fargate', 'an ECS Fargate task instead: one task (awsvpc), task metadata v4 only (no IMDS, metadata files or introspection API), AWS_EXECUTION_ENV=AWS_ECS_FARGATE')
    .action(async (f: SimulateFlags) => {
      let sim;
      let envDir: string | undefined;
      try {
        sim = await startSimulator({
          ...(f.fargate ? { launchType: 'FARGATE' as const } : {}),
          localIpv4: f.localIpv4,
          imds: {
            mode: f.imds, host: f.imdsHost, port: intFlag('imds-port', f.imdsPort, 0, 65535),
            ...(f.hopLimit !== undefined ? { hopLimit: intFlag('hop-limit', f.hopLimit, 1, 64) } : {}),
          },
          ecsAgent: { host: f.ecsHost, port: intFlag('ecs-port', f.ecsPort, 0, 65535) },
          metadataFiles: f.metadataFiles ? { readyAfterMs: intFlag('ready-after', f.readyAfter, 0, 3_600_000), ...(f.metadataDir ? { dir: f.metadataDir } : {}) } : false,
        });
      } catch (err) {
        process.stderr.write(`ecs-trace simulate: ${(err as Error).message}\n`);
        setExit(2);
        return;
      }
      const containers = Object.fromEntries(sim.world.tasks.flatMap((t) => t.containers.map((c) => [`${t.family}/${c.name}`, sim.containerEnv(c.dockerId)])));
      if (f.json) {
        process.stdout.write(JSON.stringify({ imds: sim.imds.url, imdsMode: f.imds, ecsAgent: sim.ecsAgent.url, localIpv4: f.localIpv4, containers }) + '\n');
      } else if (f.env !== undefined) {
        let env: Record<string, string>;
        try {
          env = sim.containerEnv(f.env);
        } catch (err) {
          process.stderr.write(`ecs-trace simulate: ${(err as Error).message}\n`);
          await sim.close();
          setExit(2);
          return;
        }
        for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}='${v}'\n`);
      } else {
        // Each container's variables in a file of its own, so a second command needs no second
        // simulator (which could not take the same ports).
        envDir = mkdtempSync(join(tmpdir(), 'ecs-trace-sim-env-'));
        const files = Object.entries(containers).map(([name, env]) => {
          const file = join(envDir!, `${name.split('/').pop()}.env`);
          writeFileSync(file, Object.entries(env).map(([k, v]) => `export ${k}='${v}'\n`).join(''));
          return [name, file, env['ECS_CONTAINER_METADATA_FILE'] ?? '(no metadata file)'] as const;
        });
        const example = files[0]?.[1] ?? 'web.env';
        process.stdout.write([
          `ecs-trace simulator: cluster ${sim.world.cluster}, instance ${sim.world.instance.instanceId}, private IP ${sim.world.instance.localIpv4}`,
          `  IMDS (${f.imds}${f.hopLimit ? `, hop limit ${f.hopLimit}` : ''}): ${sim.imds.url}`,
          `  task metadata v4 + introspection: ${sim.ecsAgent.url}`,
          ...files.map(([name, file, metadata]) => `  ${name}: metadata file ${metadata}; variables in ${file}`),
          `Run an app as one of these containers, in another shell: set -a; . ${example}; set +a; ecs-trace run -- node app.js`,
          '',
        ].join('\n'));
      }
      const stop = () => {
        if (envDir) rmSync(envDir, { recursive: true, force: true });
        sim.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
