import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { isHostValue, preview } from './ip.js';
import { resolveAgentHost, type AgentHostResolution, type ResolveOptions } from './resolve.js';

/*
 * `ecs-trace run -- cmd args...`: resolve the agent's host, put it in DD_AGENT_HOST, and run the
 * app as the container's main process would run. Node cannot exec(2) in place, so the launcher
 * stays as a thin parent: stdio is inherited untouched, every catchable signal is forwarded, and
 * the app's exit code or signal becomes the launcher's own, so `docker stop` and ECS see the app.
 */

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

export interface LaunchPlan {
  env: Record<string, string | undefined>;
  resolution: AgentHostResolution;
  /** What the launcher tells the user on stderr (empty when all went as expected). */
  warnings: string[];
}

/**
 * The environment the app starts with. Variables the user set are kept; DD_AGENT_HOST is added
 * when it was missing, and replaced only when it held something that is not a host at all (the
 * HTML page of a failed curl), which no tracer could use. With the agent's socket found,
 * DD_TRACE_AGENT_URL points at it instead.
 */
export async function planLaunch(options: ResolveOptions = {}): Promise<LaunchPlan> {
  const base = options.env ?? process.env;
  const resolution = await resolveAgentHost({ ...options, env: base });
  const env: Record<string, string | undefined> = { ...base };
  const warnings: string[] = [];
  if (resolution.source === 'uds') {
    // Tracers use the socket through DD_TRACE_AGENT_URL; a DD_AGENT_HOST would turn it off.
    env['DD_TRACE_AGENT_URL'] = resolution.url;
    const previous = base['DD_AGENT_HOST'];
    if (previous !== undefined && previous !== '') {
      warnings.push(`DD_AGENT_HOST held ${preview(previous)}, which is not a host; removed: traces go to ${resolution.url}`);
      delete env['DD_AGENT_HOST'];
    }
  } else if (resolution.source !== 'env') {
    const previous = base['DD_AGENT_HOST'];
    if (previous !== undefined && previous !== '' && !isHostValue(previous.trim())) {
      warnings.push(`DD_AGENT_HOST held ${preview(previous)}, which is not a host; replaced with ${resolution.host} (from ${resolution.source})`);
    }
    env['DD_AGENT_HOST'] = resolution.host;
  }
  if (resolution.source === 'loopback') {
    const reasons = resolution.tried.filter((t) => t.outcome !== 'found').map((t) => `  ${t.source}: ${t.detail}`).join('\n');
    warnings.push(`no agent host found; the app starts with DD_AGENT_HOST=127.0.0.1. Tried:\n${reasons}`);
  }
  return { env, resolution, warnings };
}

export interface RunOptions {
  command: string;
  args: readonly string[];
  env: Record<string, string | undefined>;
}

/** Exit status of the launched app: a code, or the signal that ended it. */
export type AppExit = { code: number; signal?: undefined } | { code?: undefined; signal: NodeJS.Signals };

/** Runs the app with inherited stdio, forwarding signals until it ends. */
export function runApp(o: RunOptions): Promise<AppExit> {
  return new Promise((resolve) => {
    const child = spawn(o.command, [...o.args], { stdio: 'inherit', env: o.env as NodeJS.ProcessEnv });
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of FORWARDED_SIGNALS) {
      const h = () => { child.kill(sig); };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const cleanup = () => { for (const [sig, h] of handlers) process.off(sig, h); };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      // The shell's conventions: 127 for a command that is not there, 126 for one that cannot run.
      const code = err.code === 'ENOENT' ? 127 : 126;
      process.stderr.write(`ecs-trace run: cannot start ${JSON.stringify(o.command)}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
      resolve({ code });
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(signal ? { signal } : { code: code ?? 0 });
    });
  });
}

/** Ends this process the way the app ended: same exit code, or killed by the same signal. */
export function exitLike(result: AppExit): void {
  if (result.signal === undefined) {
    process.exit(result.code);
  }
  // Re-raise with the default disposition so the parent sees a signal death, not an exit code.
  process.removeAllListeners(result.signal);
  process.kill(process.pid, result.signal);
  // Signals that do not end a process by default (none of the usual ones) fall back to 128+n.
  setTimeout(() => process.exit(128 + (constants.signals[result.signal] ?? 0)), 100).unref();
}
