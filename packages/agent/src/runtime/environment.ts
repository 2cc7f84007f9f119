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

/** ECS on Fargate, as the Datadog Agent detects it: AWS_EXECUTION_ENV, or ECS_FARGATE set. */
export function isFargate(env: NodeJS.ProcessEnv): boolean {
  const flag = env['ECS_FARGATE'];
  return env['AWS_EXECUTION_ENV'] === 'AWS_ECS_FARGATE' || (flag !== undefined && flag !== '' && !/^(false|0)$/i.test(flag));
}
