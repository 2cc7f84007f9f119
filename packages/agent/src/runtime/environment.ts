import { readFileSync } from 'node:fs';

/**
 * Whether the agent runs where it is meant to be reached over the network unless told otherwise:
 * as an ECS task or a Kubernetes pod (their env says so), or from an image made for it
 * (`DOCKER_DD_AGENT`, which deploy/Dockerfile sets as the Datadog Agent's image does). A container
 * marker file or cgroup alone is not enough: developers' boxes, dev containers and CI sandboxes
 * have them, and an intake opened there is open to their whole network.
 */
export function isOrchestrated(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['DOCKER_DD_AGENT'] || env['ECS_CONTAINER_METADATA_URI_V4'] || env['ECS_CONTAINER_METADATA_URI'] || env['KUBERNETES_SERVICE_HOST']);
}

/** ECS on Fargate, as the Datadog Agent detects it: AWS_EXECUTION_ENV, or ECS_FARGATE set. */
export function isFargate(env: NodeJS.ProcessEnv): boolean {
  const flag = env['ECS_FARGATE'];
  return env['AWS_EXECUTION_ENV'] === 'AWS_ECS_FARGATE' || (flag !== undefined && flag !== '' && !/^(false|0)$/i.test(flag));
}

/**
 * The cores this process may use: the CPUs it may run on, bounded by its cgroup's CPU quota (v2
 * `cpu.max`, v1 `cpu.cfs_quota_us`), as a task's `cpu` sets it on ECS. A Fargate task of 0.5 vCPU
 * sees two CPUs but gets half of one.
 */
export function cpuBudget(cpus: number, root = '/'): number {
  const read = (p: string): string | undefined => {
    try {
      return readFileSync(root + p, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  let quota: number | undefined;
  const v2 = read('sys/fs/cgroup/cpu.max')?.split(/\s+/);
  if (v2 && v2[0] !== 'max' && Number(v2[0]) > 0 && Number(v2[1]) > 0) quota = Number(v2[0]) / Number(v2[1]);
  const v1q = Number(read('sys/fs/cgroup/cpu/cpu.cfs_quota_us') ?? -1);
  const v1p = Number(read('sys/fs/cgroup/cpu/cpu.cfs_period_us') ?? 0);
  if (quota === undefined && v1q > 0 && v1p > 0) quota = v1q / v1p;
  return quota === undefined ? cpus : Math.min(cpus, quota);
}
