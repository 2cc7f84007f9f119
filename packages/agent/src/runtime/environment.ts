import { existsSync, readFileSync } from 'node:fs';

/**
 * Whether this process runs in a container, as the Datadog Agent decides it to open non-local
 * traffic by itself: container runtime marker files, ECS/Kubernetes env, or a container cgroup.
 */
export function isContainerized(env: NodeJS.ProcessEnv, root = '/'): boolean {
  if (env['DOCKER_DD_AGENT'] || env['ECS_CONTAINER_METADATA_URI_V4'] || env['ECS_CONTAINER_METADATA_URI'] || env['KUBERNETES_SERVICE_HOST']) return true;
  if (existsSync(root + '.dockerenv') || existsSync(root + 'run/.containerenv')) return true;
  try {
    return /docker|kubepods|containerd|ecs\//.test(readFileSync(root + 'proc/1/cgroup', 'utf8'));
  } catch {
    return false;
  }
}
