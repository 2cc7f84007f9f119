import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const APP = fileURLToPath(new URL('./apps/dd-trace-app.cjs', import.meta.url));

/** What e2e/apps/dd-trace-app.cjs printed: the ids of the trace it made with the real dd-trace. */
export interface AppTrace {
  traceId: string;
  rootSpanId: string;
  failingSpanId: string;
  /** With E2E_LINK=1: the span of another trace the root links to. */
  linkedTraceId?: string;
  linkedSpanId?: string;
}

/**
 * Runs an app of the real dd-trace (e2e/apps/dd-trace-app.cjs unless `app` names another) against
 * an intake URL until it exits (after its tracer flushed); resolves to the last line it printed.
 */
export function runDdTraceApp<T = AppTrace>(intake: string, extraEnv: Record<string, string> = {}, app = APP): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [app], { env: { PATH: process.env['PATH'] ?? '', DD_TRACE_AGENT_URL: intake, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as T) : reject(new Error(`app exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** Polls `what` until it gives a value; throws after `timeoutMs`. */
export async function until<T>(what: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = what();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
