import { Command, Option } from 'commander';
import {
  DISCOVERY_SOURCES, DiscoveryConfigError, exitLike, parseOrder, planLaunch, resolveAgentHost, runApp,
  type AgentHostResolution, type ResolveOptions,
} from '@ecs-trace/discovery';

/** `ecs-trace discover` and `ecs-trace run`: the agent's host for a shell, or for an app's start. */

interface DiscoveryFlags { timeout?: string; order?: string; json?: boolean }

function resolveOptions(flags: DiscoveryFlags): ResolveOptions {
  const o: ResolveOptions = {};
  if (flags.timeout !== undefined) {
    const n = Number(flags.timeout);
    if (!Number.isInteger(n) || n <= 0) throw new DiscoveryConfigError(`--timeout: ${JSON.stringify(flags.timeout)} is not a positive number of milliseconds`);
    o.timeoutMs = n;
  }
  if (flags.order !== undefined) o.order = parseOrder(flags.order, '--order');
  return o;
}

function withDiscoveryOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--timeout <ms>', 'bound on the whole lookup [env: ECS_TRACE_DISCOVERY_TIMEOUT]').default(undefined, '2000'))
    .addOption(new Option('--order <sources>', `sources to try, comma-separated, from ${DISCOVERY_SOURCES.join(', ')} [env: ECS_TRACE_DISCOVERY_ORDER]`))
    .option('--json', 'print the whole result (source, url, and every source tried) as JSON');
}

function explainLoopback(r: AgentHostResolution): string {
  return `ecs-trace: no agent host found; using 127.0.0.1. Tried:\n${r.tried.filter((t) => t.outcome !== 'found').map((t) => `  ${t.source}: ${t.detail}`).join('\n')}\n`;
}

export function discoveryCommands(program: Command, setExit: (code: number) => void): void {
  withDiscoveryOptions(program
    .command('discover')
    .description('Print the trace agent\'s host (for shells: export DD_AGENT_HOST=$(ecs-trace discover)).'))
    .action(async (flags: DiscoveryFlags) => {
      const r = await resolveAgentHost(resolveOptions(flags));
      if (r.source === 'loopback') process.stderr.write(explainLoopback(r));
      process.stdout.write(flags.json ? JSON.stringify(r, null, 2) + '\n' : `${r.host}\n`);
      setExit(0);
    });

  withDiscoveryOptions(program
    .command('run')
    .description('Find the agent\'s host, set DD_AGENT_HOST, and run the app as the container\'s main process.')
    .usage('[options] -- <command> [args...]')
    .argument('<command>', 'the app to run')
    .argument('[args...]', 'its arguments')
    .passThroughOptions())
    .action(async (command: string, args: string[], flags: DiscoveryFlags) => {
      const plan = await planLaunch(resolveOptions(flags));
      for (const w of plan.warnings) process.stderr.write(`ecs-trace run: ${w}\n`);
      // The launcher's own words go to stderr: stdout belongs to the app.
      if (flags.json) process.stderr.write(JSON.stringify(plan.resolution) + '\n');
      exitLike(await runApp({ command, args, env: plan.env }));
    });
}
