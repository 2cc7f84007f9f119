import { Command, Option } from 'commander';
import { discoveryCommands } from './commands/discovery.js';
import { simulateCommand } from './commands/simulate.js';
import { taskdefCommands } from './commands/taskdef.js';
import { deployCommands } from './commands/deploy.js';
import { configMarkdownTable, ConfigError, ECS_TRACE_VERSION, loadConfig, maskedStoreUrl, storeSchema, SETTINGS, settingSource, startAgent, startupBanner, type AgentConfig } from '@ecs-trace/agent';

/** ECS gives a container 30 s between SIGTERM and SIGKILL by default; the agent takes at most this. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** Runs the CLI; resolves with an exit code, or undefined while a long-running command runs. */
export async function main(argv: string[]): Promise<number | undefined> {
  let exitCode: number | undefined;
  const program = new Command()
    .name('ecs-trace')
    .description('Self-hosted, Datadog-compatible APM tracing for Amazon ECS')
    .version(ECS_TRACE_VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .enablePositionalOptions();

  /** Every setting with a flag, on a command; booleans as switches (`--writer-thread`, `--no-writer-thread`). */
  const withSettings = (cmd: Command): Command => {
    for (const s of SETTINGS) {
      if (!s.flag) continue;
      if (s.type === 'boolean') {
        cmd.addOption(new Option(`--${s.flag}`, `${s.description} [env: ${s.env.join(', ')}]`));
        cmd.addOption(new Option(`--no-${s.flag}`, `turn --${s.flag} off`).hideHelp());
      } else cmd.addOption(new Option(`--${s.flag} <value>`, `${s.description} [env: ${s.env.join(', ')}]`));
    }
    return cmd;
  };

  /** The settings' values given as flags, by setting key. */
  const flagValues = (opts: Record<string, string | boolean | undefined>): Partial<Record<keyof AgentConfig, string>> => {
    const flags: Partial<Record<keyof AgentConfig, string>> = {};
    for (const s of SETTINGS) {
      if (!s.flag) continue;
      const camel = s.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const v = opts[camel];
      if (v !== undefined) flags[s.key] = String(v);
    }
    return flags;
  };

  /** The configuration from flags and the environment; undefined (exit 2, the reason on stderr) when it is wrong. */
  const configFrom = (opts: Record<string, string | boolean | undefined>): AgentConfig | undefined => {
    const flags = flagValues(opts);
    try {
      return loadConfig({ env: process.env, flags });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`ecs-trace: ${err.message}\n`);
      exitCode = 2;
      return undefined;
    }
  };

  const serve = async (config: AgentConfig, role: 'agent' | 'ui') => {
    let running: Awaited<ReturnType<typeof startAgent>>;
    try {
      running = await startAgent(config, { role });
    } catch (err) {
      // A setting found bad only at start (a monitors file's field, a store that keeps nothing): as any bad setting, exit 2.
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`ecs-trace: ${err.message}\n`);
      exitCode = 2;
      return;
    }
    process.stderr.write(startupBanner(config, running, role));
    let stopping = false;
    const stop = (signal: string) => {
      // A second signal, or a shutdown past its bound, ends the process at once.
      if (stopping) {
        process.stderr.write(`ecs-trace: ${signal} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      process.stderr.write(`ecs-trace: ${signal}, shutting down\n`);
      setTimeout(() => {
        process.stderr.write(`ecs-trace: shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000} s, exiting now\n`);
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS).unref();
      running.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  };

  const servers = [
    ['agent', 'Run the trace agent: intake on 8126, embedded store, query API on 8127.'],
    ['ui', 'Serve the query API and web UI of a shared store (--store postgres://...), without intake: stateless, for replicas behind a load balancer.'],
  ] as const;
  for (const [role, description] of servers) {
    withSettings(program.command(role).description(description))
      .action(async (opts: Record<string, string | boolean | undefined>) => {
        const config = configFrom(opts);
        if (config) await serve(config, role);
      });
  }

  const store = program.command('store').description('The shared store\'s schema (PostgreSQL or ClickHouse).');
  for (const [name, description] of [['migrate', 'apply the schema migrations this ecs-trace knows'], ['status', 'show the schema version of the database and of this ecs-trace']] as const) {
    store
      .command(name)
      .description(description)
      .requiredOption('--store <url>', 'postgres:// or clickhouse:// URL [env: ECS_TRACE_STORE]', process.env['ECS_TRACE_STORE'])
      .option('--store-password-file <file>', 'a file holding the password [env: ECS_TRACE_STORE_PASSWORD_FILE]', process.env['ECS_TRACE_STORE_PASSWORD_FILE'])
      .action(async (o: { store: string; storePasswordFile?: string }) => {
        try {
          const schema = await storeSchema({ store: o.store, storePasswordFile: o.storePasswordFile });
          if (name === 'migrate') await schema.migrate();
          const s = await schema.status();
          process.stdout.write(`schema ${s.current} of ${s.latest}${s.current < s.latest ? ` (${s.latest - s.current} to apply: ecs-trace store migrate)` : ' (up to date)'}\n`);
        } catch (err) {
          process.stderr.write(`ecs-trace store ${name}: ${maskedStoreUrl(o.store)}: ${(err as Error).message}\n`);
          exitCode = 1;
        }
      });
  }

  withSettings(program
    .command('config')
    .description('Print the settings in effect (from the flags given here and the environment) and where each comes from; exit 2 naming a value that is not valid.')
    .option('--markdown', 'every setting as the Markdown table of the README')
    .option('--describe', 'every setting with its default and what it does'))
    .action((opts: Record<string, string | boolean | undefined>) => {
      if (opts['markdown']) {
        process.stdout.write(configMarkdownTable() + '\n');
        return;
      }
      if (opts['describe']) {
        for (const s of SETTINGS) process.stdout.write(`${s.env.join(', ')}${s.flag ? ` (--${s.flag})` : ''} [${s.type}] default: ${s.default ?? '(unset)'}\n  ${s.description}\n`);
        return;
      }
      const flags = flagValues(opts);
      const config = configFrom(opts);
      if (!config) return;
      for (const s of SETTINGS) {
        const from = settingSource(s, { env: process.env, flags });
        const computed = (config as unknown as Record<string, unknown>)[s.key];
        // Secrets are said to be set, never shown; a store URL shows without its password.
        const shown = s.secret ? (from.raw !== undefined || computed !== undefined ? '(set, not shown)' : '(unset)')
          : from.raw === undefined ? (computed === undefined ? '(unset)' : `(unset: ${String(computed)})`)
          : s.key === 'store' ? maskedStoreUrl(from.raw) : from.raw;
        const where = from.from === 'flag' ? `flag ${from.name}` : from.from === 'env' ? `env ${from.name}` : from.from;
        process.stdout.write(`${s.env[0]}${s.flag ? ` (--${s.flag})` : ''} = ${shown}  [${where}]\n`);
      }
    });

  const setExit = (code: number) => { exitCode = code; };
  discoveryCommands(program, setExit);
  simulateCommand(program, setExit);
  taskdefCommands(program, setExit);
  deployCommands(program, setExit);

  await program.parseAsync(argv);
  return exitCode;
}
