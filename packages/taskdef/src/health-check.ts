import type { HealthCheck } from '@aws-sdk/client-ecs';

/**
 * A container health check on an ecs-trace /healthz: the image has no curl, so Node asks it
 * itself (open without a token; it says only whether the process is well).
 */
export function healthzCheck(port: number, timing: { interval: number; startPeriod: number }): HealthCheck {
  return {
    command: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
    interval: timing.interval, timeout: 5, retries: 3, startPeriod: timing.startPeriod,
  };
}
