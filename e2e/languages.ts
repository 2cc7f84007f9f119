import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The other languages' e2e apps (e2e/apps/{python,java,go}), as `bash e2e/apps/prepare.sh` builds
 * them with their real tracers, and how to start one: the command, what it names itself, which
 * trace endpoint it uses by default and which it can be set to.
 */

const APPS = fileURLToPath(new URL('./apps/', import.meta.url));
export const BUILD = process.env['ECS_TRACE_E2E_APPS'] ?? join(APPS, '.build');

export type Lang = 'python' | 'java' | 'go';

export interface LanguageApp {
  lang: Lang;
  /** Datadog-Meta-Lang, as the agent's metrics label it. */
  metaLang: string;
  /** The tracer's version as it sends it (a prefix of Datadog-Meta-Tracer-Version). */
  tracerVersion: string;
  argv: string[];
  env: Record<string, string>;
  /** The server span's name. */
  serverSpan: string;
  defaultEndpoint: string;
  /** Other trace endpoints and the setting that selects each. */
  otherEndpoints: [string, Record<string, string>][];
  /** How client-computed stats are turned on ({} when they are on by default). */
  statsEnv: Record<string, string>;
  /** Whether the app makes a manual `work.compute` span (Java has no tracer API on its classpath). */
  manualSpan: boolean;
  /** The error type its tracer records for the app's `?raise=` failure. */
  errorType: string;
}

const javaAgentVersion = /<dd-java-agent.version>([^<]+)</.exec(readFileSync(join(APPS, 'java/pom.xml'), 'utf8'))![1]!;

export const LANGUAGES: Record<Lang, LanguageApp> = {
  python: {
    lang: 'python', metaLang: 'python',
    tracerVersion: /^ddtrace==(.+)$/m.exec(readFileSync(join(APPS, 'python/requirements.txt'), 'utf8'))![1]!,
    argv: [join(BUILD, 'python/bin/ddtrace-run'), join(BUILD, 'python/bin/python'), join(APPS, 'python/app.py')],
    env: { DD_TRACE_HTTPLIB_ENABLED: 'true' },
    serverSpan: 'wsgi.request',
    defaultEndpoint: '/v0.5/traces',
    otherEndpoints: [['/v0.4/traces', { DD_TRACE_API_VERSION: 'v0.4' }]],
    statsEnv: { DD_TRACE_STATS_COMPUTATION_ENABLED: 'true' },
    manualSpan: true,
    errorType: 'builtins.ValueError',
  },
  java: {
    lang: 'java', metaLang: 'java', tracerVersion: javaAgentVersion,
    argv: ['java', `-javaagent:${join(BUILD, `java/agent/dd-java-agent-${javaAgentVersion}.jar`)}`, '-cp', `${join(BUILD, 'java/classes')}:${join(BUILD, 'java/lib')}/*`, 'App'],
    env: {},
    serverSpan: 'servlet.request',
    defaultEndpoint: '/v0.4/traces',
    otherEndpoints: [['/v0.5/traces', { DD_TRACE_AGENT_PROTOCOL_VERSION: '0.5' }]],
    statsEnv: {},
    manualSpan: false,
    errorType: 'java.lang.IllegalStateException',
  },
  go: {
    lang: 'go', metaLang: 'go',
    tracerVersion: `v${/github\.com\/DataDog\/dd-trace-go\/v2 v([^\s]+)/.exec(readFileSync(join(APPS, 'go/go.mod'), 'utf8'))![1]!}`,
    argv: [join(BUILD, 'go/app')],
    env: {},
    serverSpan: 'http.request',
    defaultEndpoint: '/v0.4/traces',
    otherEndpoints: [],
    statsEnv: {},
    manualSpan: true,
    errorType: '*errors.errorString',
  },
};

/** Why a language's app cannot run here, or undefined when it can. */
export function appMissing(lang: Lang): string | undefined {
  const file = lang === 'python' ? LANGUAGES.python.argv[0]! : lang === 'java' ? join(BUILD, 'java/classes/App.class') : LANGUAGES.go.argv[0]!;
  return existsSync(file) ? undefined : `the ${lang} e2e app is not built (${file}): bash e2e/apps/prepare.sh ${lang}`;
}

export interface RunningApp {
  port: number;
  child: ChildProcess;
  /** What `ecs-trace run --json` said it resolved, when started through it. */
  resolution?: { source: string; host: string; url: string };
  stderr: () => string;
  /** SIGTERM, so that the tracer flushes; then waits for the exit. */
  stop: () => Promise<void>;
}

/** Starts argv and waits for its {"port": N} line (Java takes a few seconds to start). */
export function startApp(argv: string[], env: Record<string, string>, timeoutMs = 40_000): Promise<RunningApp> {
  const child = spawn(argv[0]!, argv.slice(1), { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${argv.join(' ')} printed no port within ${timeoutMs} ms: ${err.slice(-2000)}`)); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`)); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (!line) return;
      clearTimeout(timer);
      const resolutionLine = err.split('\n').find((l) => l.startsWith('{"host"'));
      resolve({
        port: (JSON.parse(line) as { port: number }).port,
        child,
        ...(resolutionLine ? { resolution: JSON.parse(resolutionLine) as RunningApp['resolution'] } : {}),
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/** A random 63-bit id and its 16-hex form, as tracers and the query API write it. */
export function randomId(): { id: bigint; hex: string } {
  const id = (BigInt(Math.floor(Math.random() * 2 ** 31)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32)) | 1n;
  return { id, hex: id.toString(16).padStart(16, '0') };
}

/** A request as an upstream service traced by Datadog would send it: the trace continues. */
export async function tracedRequest(url: string, traceId: bigint, parentId: bigint): Promise<number> {
  const res = await fetch(url, { headers: { 'x-datadog-trace-id': traceId.toString(), 'x-datadog-parent-id': parentId.toString(), 'x-datadog-sampling-priority': '1' } });
  await res.arrayBuffer();
  return res.status;
}
