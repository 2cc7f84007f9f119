import type { Container, TaskDefinition } from './input.js';

/*
 * The agent's unix socket shared through a host volume, as Datadog recommends on ECS: no IP to
 * discover, no entryPoint to change. The agent listens on /var/run/datadog/apm.socket of the host;
 * each app mounts that directory and sends to DD_TRACE_AGENT_URL=unix:///var/run/datadog/apm.socket.
 */

export const SOCKET_DIR = '/var/run/datadog';
export const SOCKET_PATH = `${SOCKET_DIR}/apm.socket`;
export const SOCKET_VOLUME = 'dd-sockets';

/** Adds the host volume (once) and mounts it into the container; returns notes. */
export function mountSocketDir(doc: TaskDefinition, c: Container, path: string, readOnly: boolean): string[] {
  const notes: string[] = [];
  doc.volumes ??= [];
  let volume = doc.volumes.find((v) => v.host?.sourcePath?.replace(/\/+$/, '') === SOCKET_DIR);
  if (!volume) {
    volume = { name: SOCKET_VOLUME, host: { sourcePath: SOCKET_DIR } };
    doc.volumes.push(volume);
    notes.push(`volumes: added ${SOCKET_VOLUME} (host ${SOCKET_DIR})`);
  }
  c.mountPoints ??= [];
  const mount = c.mountPoints.find((m) => m.containerPath?.replace(/\/+$/, '') === SOCKET_DIR);
  if (!mount) {
    c.mountPoints.push({ sourceVolume: volume.name!, containerPath: SOCKET_DIR, readOnly });
    notes.push(`${path}.mountPoints: ${SOCKET_DIR} from volume ${volume.name}`);
  } else if (mount.sourceVolume !== volume.name) {
    mount.sourceVolume = volume.name!;
  }
  return notes;
}
