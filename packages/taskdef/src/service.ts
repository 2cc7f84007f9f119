import type { CreateServiceCommandInput } from '@aws-sdk/client-ecs';

/**
 * The agent's ECS service for `aws ecs create-service --cli-input-json`: DAEMON scheduling, one
 * agent per container instance (no load balancer, no desired count).
 */
export function daemonService(o: { taskDefinition: string; serviceName?: string; cluster?: string }): CreateServiceCommandInput {
  return {
    ...(o.cluster ? { cluster: o.cluster } : {}),
    serviceName: o.serviceName ?? 'ecs-trace-agent',
    taskDefinition: o.taskDefinition,
    launchType: 'EC2',
    schedulingStrategy: 'DAEMON',
    deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
    enableECSManagedTags: true,
    propagateTags: 'TASK_DEFINITION',
  };
}
