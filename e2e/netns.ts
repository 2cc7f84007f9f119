import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { componentsAvailable } from './components.js';

/*
 * Simulated hosts for tests: Linux network namespaces made by the test itself (root and iproute2
 * needed). Addresses are link-local (169.254.x) or loopback-range only, and every namespace is
 * deleted afterwards. Where namespaces cannot be made, tests say so and skip, except under
 * CI=true, where a missing component fails the run.
 */

export function namespacesUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the ip command (iproute2) is not installed';
  }
  const probe = `ecstrace-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (err) {
    return `ip netns add failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`;
  }
  return undefined;
}

/** Skip outside CI with the reason printed; fail under CI=true. */
export function requireNamespaces(): boolean {
  return componentsAvailable(namespacesUnavailable(), 'network-namespace tests');
}

export class Netns {
  private static seq = 0;
  readonly name: string;

  constructor(label: string) {
    this.name = `ecstrace-${label}-${process.pid}-${Netns.seq++}`;
    ip('netns', 'add', this.name);
    this.ip('link', 'set', 'lo', 'up');
  }

  ip(...args: string[]): void {
    ip('-n', this.name, ...args);
  }

  /** Runs a command inside the namespace and returns its stdout (throws on a non-zero exit). */
  exec(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): string {
    return execFileSync('ip', ['netns', 'exec', this.name, cmd, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  }

  /** Like exec, but resolves with the exit code, stdout and stderr whatever the outcome. */
  run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Starts a long-running process inside the namespace; resolves with its first stdout line. */
  start(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; firstLine: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve({ child, firstLine: out.slice(0, nl) });
      });
      child.on('exit', (code) => reject(new Error(`${cmd} exited ${code} in ${this.name}: ${err}`)));
    });
  }

  delete(): void {
    try {
      ip('netns', 'del', this.name);
    } catch {
      // Already gone.
    }
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Links two namespaces with a veth pair, each end given a link-local /30 address. */
export function link(a: Netns, aAddr: string, b: Netns, bAddr: string): void {
  const suffix = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const va = `va${suffix}`;
  const vb = `vb${suffix}`;
  ip('link', 'add', va, 'netns', a.name, 'type', 'veth', 'peer', 'name', vb, 'netns', b.name);
  a.ip('addr', 'add', `${aAddr}/30`, 'dev', va);
  b.ip('addr', 'add', `${bAddr}/30`, 'dev', vb);
  a.ip('link', 'set', va, 'up');
  b.ip('link', 'set', vb, 'up');
}

/**
 * Runs `cmd` as if inside the Docker container `dockerId`: /proc/self/cgroup names it, as tracers
 * read it (`/docker/<id>`, or another path such as Fargate's `/ecs/<task>/<id>`).
 */
export function inFakeContainer(dockerId: string, cgroupFile: string, cmd: string, args: string[], cgroupPath = `/docker/${dockerId}`): [string, string[]] {
  return ['unshare', ['-m', 'sh', '-c', 'printf "0::%s\\n" "$1" > "$2" && mount --bind "$2" /proc/$$/cgroup && shift 2 && exec "$@"', 'sh', cgroupPath, cgroupFile, cmd, ...args]];
}

export function requireMountNamespaces(): boolean {
  let missing: string | undefined;
  if (process.getuid?.() !== 0) missing = 'mount namespaces need root';
  else {
    try {
      execFileSync('unshare', ['-m', 'true'], { stdio: 'pipe' });
    } catch (err) {
      missing = `unshare -m failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`;
    }
  }
  return componentsAvailable(missing, "tests that fake a container's cgroup");
}
