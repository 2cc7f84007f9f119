import { removeEnv, setEnv } from './container-env.js';
import { TaskdefInputError } from './errors.js';
import { findContainer, onlyContainer, type Container, type TaskDefinition } from './input.js';
import { ownShellMode, shellScript, type ShellMode } from './shell-forms.js';
import { mountSocketDir, SOCKET_PATH } from './uds.js';
import type { PatchResult } from './agent.js';

/*
 * Rewrites an application container's start so the app gets DD_AGENT_HOST. Docker runs
 * entryPoint ++ command, and an entryPoint in the task definition replaces the image's
 * ENTRYPOINT *and* drops the image's CMD. So the wrapper goes in front of the container's own
 * entryPoint and `command` is left as it is (run-task overrides of it keep working); where the
 * task definition has no entryPoint, the image's must be known (--image-entrypoint), or the
 * whole start given (--startup-command).
 */

export type DiscoveryMode = 'launcher' | ShellMode | 'uds';
export const DISCOVERY_MODES: readonly DiscoveryMode[] = ['launcher', 'metadata-file', 'imdsv2', 'imdsv1', 'uds'];

export interface AppOptions {
  /** The app container; may be left out when the task definition has only one. */
  container?: string;
  discovery: DiscoveryMode;
  /** The image's ENTRYPOINT when the task definition has none; [] for an image without one. */
  imageEntrypoint?: string[];
  /** The app's whole start (replaces entryPoint and command). */
  startupCommand?: string[];
  /** The launcher inside the image; default `ecs-trace`. */
  launcherPath?: string;
  service?: string;
  env?: string;
  version?: string;
}

const LAUNCHER_ARGS = ['run', '--'];

/** What follows `ecs-trace run [--]` in an entryPoint that starts the app through the launcher. */
export function afterLauncher(entryPoint: readonly string[], launcherPath = 'ecs-trace'): string[] | undefined {
  const bin = entryPoint[0];
  if (bin === undefined || (bin !== launcherPath && !/(^|\/)ecs-trace$/.test(bin)) || entryPoint[1] !== 'run') return undefined;
  return entryPoint.slice(entryPoint[2] === '--' ? 3 : 2);
}

/** The entryPoint as the user wrote it, with a wrapper of ours taken off. */
function unwrap(entryPoint: string[] | undefined, launcherPath: string): string[] | undefined {
  if (!entryPoint || entryPoint.length === 0) return undefined;
  if (ownShellMode(entryPoint) !== undefined) return entryPoint.slice(4);
  return afterLauncher(entryPoint, launcherPath) ?? entryPoint;
}

export function patchAppTaskDefinition(existing: TaskDefinition, o: AppOptions): PatchResult {
  const notes: string[] = [];
  const doc = structuredClone(existing);
  const { container: c, index } = o.container !== undefined ? findContainer(doc, o.container) : onlyContainer(doc);
  const path = `containerDefinitions[${index}]`;
  if (o.discovery === 'uds') return { doc: patchForSocket(doc, c, path, o, notes), notes };
  const launcherPath = o.launcherPath ?? 'ecs-trace';
  let entry: string[];
  if (o.startupCommand) {
    if (o.startupCommand.length === 0) throw new TaskdefInputError('--startup-command', 'is empty; give the app\'s command, e.g. \'["node","server.js"]\'');
    entry = o.startupCommand;
    if (c.command) {
      notes.push(`${path}.command: removed ${JSON.stringify(c.command)}; --startup-command is the whole start (add those arguments to it if the app needs them)`);
      delete c.command;
    }
  } else {
    const own = unwrap(c.entryPoint, launcherPath);
    const shell = own?.[0] !== undefined && /^(\/bin\/|\/usr\/bin\/)?(ba|da)?sh$/.test(own[0]) && own[1] === '-c';
    if (shell && /DD_AGENT_HOST/.test(own![2] ?? '')) {
      throw new TaskdefInputError(`${path}.entryPoint`, 'already sets DD_AGENT_HOST in a shell script (sh -c "..."); the app\'s own command cannot be told apart from it. Pass the app\'s start with --startup-command \'["node","server.js"]\'');
    }
    if (own !== undefined) entry = own;
    else if (o.imageEntrypoint !== undefined) entry = o.imageEntrypoint;
    else if (c.command && c.command.length > 0) {
      throw new TaskdefInputError(`${path}.entryPoint`, 'is not set, so the image\'s own ENTRYPOINT runs before command, and ecs-trace cannot see it. Pass --image-entrypoint \'["docker-entrypoint.sh"]\' (or --image-entrypoint none if the image has none), or the whole start with --startup-command');
    } else {
      throw new TaskdefInputError(`${path}.command`, 'neither entryPoint nor command is set, so the image\'s ENTRYPOINT and CMD run, which ecs-trace cannot see. Pass the app\'s start with --startup-command \'["node","server.js"]\'');
    }
  }
  if (entry.length === 0 && !(c.command && c.command.length > 0)) {
    throw new TaskdefInputError(`${path}.command`, 'the container would run nothing: no entryPoint and no command. Pass --startup-command');
  }
  c.entryPoint = o.discovery === 'launcher' ? [launcherPath, ...LAUNCHER_ARGS, ...entry] : ['sh', '-c', shellScript(o.discovery), 'sh', ...entry];
  if (o.discovery === 'launcher') notes.push(`${path}.entryPoint: the app starts through ${launcherPath} run, which must be in the image (deploy/README.md shows how)`);
  else if (o.discovery === 'metadata-file') notes.push(`${path}.entryPoint: metadata-file shell form; the image needs sh and sed, and the container instances ECS_ENABLE_CONTAINER_METADATA=true in /etc/ecs/ecs.config (else there is no metadata file: the app starts without DD_AGENT_HOST)`);
  else notes.push(`${path}.entryPoint: ${o.discovery} shell form; the image needs sh and curl`);
  const fixed = removeEnv(c, 'DD_AGENT_HOST');
  if (fixed !== undefined) notes.push(`${path}.environment: removed DD_AGENT_HOST=${JSON.stringify(fixed)}; a fixed value would stop discovery`);
  setUnifiedTags(c, o);
  return { doc, notes };
}

function setUnifiedTags(c: Container, o: AppOptions): void {
  const tags: [string, string | undefined][] = [['service', o.service], ['env', o.env], ['version', o.version]];
  for (const [tag, value] of tags) {
    if (value === undefined) continue;
    setEnv(c, `DD_${tag.toUpperCase()}`, value);
    c.dockerLabels = { ...c.dockerLabels, [`com.datadoghq.tags.${tag}`]: value };
  }
}

/** The socket mode: the start stays as it is; the container mounts the agent's socket directory. */
function patchForSocket(doc: TaskDefinition, c: Container, path: string, o: AppOptions, notes: string[]): TaskDefinition {
  notes.push(...mountSocketDir(doc, c, path, false));
  const fixed = removeEnv(c, 'DD_AGENT_HOST');
  if (fixed !== undefined) notes.push(`${path}.environment: removed DD_AGENT_HOST=${JSON.stringify(fixed)}; it would turn the socket off`);
  setEnv(c, 'DD_TRACE_AGENT_URL', `unix://${SOCKET_PATH}`);
  notes.push(`${path}.environment: DD_TRACE_AGENT_URL=unix://${SOCKET_PATH} (the agent's task definition needs the same volume: ecs-trace taskdef agent --uds)`);
  setUnifiedTags(c, o);
  return doc;
}
