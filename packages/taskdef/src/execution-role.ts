import type { TaskDefinition } from './input.js';

/*
 * What ECS refuses without an execution role (the role ECS itself uses to start the task): on
 * Fargate, the awslogs log driver and images from a private ECR repository (on EC2 the instance's
 * role does both); anywhere, secrets and private registry credentials. Register or run such a
 * task without `executionRoleArn` and ECS answers, for instance, "Fargate requires task definition
 * to have execution role ARN to support log driver awslogs".
 */

const ECR = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;

/** Why the task definition needs an execution role it does not name: JSON path and reason; undefined when it needs none or has one. */
export function missingExecutionRole(doc: TaskDefinition): { path: string; reason: string } | undefined {
  if (doc.executionRoleArn) return undefined;
  const fargate = doc.requiresCompatibilities?.includes('FARGATE') === true;
  const containers = doc.containerDefinitions ?? [];
  for (const [i, c] of containers.entries()) {
    if ((c.secrets ?? []).length > 0) return { path: `containerDefinitions[${i}].secrets`, reason: `container ${c.name} takes secrets, which ECS reads with the execution role` };
    if (c.repositoryCredentials !== undefined) return { path: `containerDefinitions[${i}].repositoryCredentials`, reason: `container ${c.name} pulls with registry credentials, which ECS reads with the execution role` };
    if (!fargate) continue;
    if (c.logConfiguration?.logDriver === 'awslogs') return { path: `containerDefinitions[${i}].logConfiguration`, reason: `on Fargate, container ${c.name}'s awslogs driver writes with the execution role` };
    if (ECR.test(c.image ?? '')) return { path: `containerDefinitions[${i}].image`, reason: `on Fargate, container ${c.name}'s image is pulled from ECR with the execution role` };
  }
  return undefined;
}

/** An image no registry serves: the name this project's examples use before one is built and pushed. */
export function placeholderImage(image: string): boolean {
  return /^ecs-trace\/agent(:|@|$)/.test(image);
}
