import { Command, Option } from 'commander';
import { discoveryCommands } from './commands/discovery.js';
import { simulateCommand } from './commands/simulate.js';
import { taskdefCommands } from './commands/taskdef.js';
import { configMarkdownTable, ConfigError, loadConfig, SETTINGS, startAgent, type AgentConfig } from '@ecs-trace/agent';

/** Runs the CLI; resolves with an exit code, or undefined while a long-running command runs. */
export async function main(argv: string[]): Promise<number | undefined> {
  let exitCode: number | undefined;
  const program = new Command()
    .name('ecs-trace')
    .description('Self-hosted, Datadog-compatible APM tracing for Amazon ECS')
    .showHelpAfterError()
    .enablePositionalOptions();

  const agent = program
    .command('agent')
    .description('Run the trace agent: intake on 8126, embedded store, query API on 8127.');
  for (const s of SETTINGS) {
    if (!s.flag) continue;
    agent.addOption(new Option(`--${s.flag} <value>`, `${s.description} [env: ${s.env.join(', ')}]`));
  }
  agent.action(async (opts: Record<string, string | undefined>) => {
    const flags: Partial<Record<keyof AgentConfig, string>> = {};
    for (const s of SETTINGS) {
      if (!s.flag) continue;
      const camel = s.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const v = opts[camel];
      if (v !== undefined) flags[s.key] = v;
    }
    let config: AgentConfig;
    try {
      config = loadConfig({ env: process.env, flags });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`ecs-trace: ${err.message}\n`);
        exitCode = 2;
        return;
      }
      throw err;
    }
    const running = await startAgent(config);
    const stop = (signal: string) => {
      process.stderr.write(`ecs-trace: ${signal}, shutting down\n`);
      running.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

  program
    .command('config')
    .description('Print every setting the agent reads.')
    .option('--markdown', 'as the Markdown table of the README')
    .action((opts: { markdown?: boolean }) => {
      if (opts.markdown) process.stdout.write(configMarkdownTable() + '\n');
      else for (const s of SETTINGS) process.stdout.write(`${s.env.join(', ')}${s.flag ? ` (--${s.flag})` : ''} [${s.type}] default: ${s.default ?? '(unset)'}\n  ${s.description}\n`);
    });

  const setExit = (code: number) => { exitCode = code; };
  discoveryCommands(program, setExit);
  simulateCommand(program, setExit);
  taskdefCommands(program, setExit);

  await program.parseAsync(argv);
  return exitCode;
}
