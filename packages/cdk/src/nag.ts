import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/*
 * The findings of cdk-nag's AWS Solutions rules that ecs-trace's resources keep on purpose, each
 * with why, acknowledged where the resource is made (so an app using the construct sees only its
 * own). The test runs the rules over every shape of the construct: anything new fails it.
 */

export const ACKNOWLEDGED = {
  apiTokenRotation: ['AwsSolutions-SMG4', 'The API token is what people sign in with; rotating it on a schedule would end every session and leave nobody told the new one. Rotate it by hand (a new value ends every session at once).'],
  databaseSecretRotation: ['AwsSolutions-SMG4', 'Agents read the database password (PGPASSWORD) when their task starts; a scheduled rotation would lock out running agents until they restart. Rotate it by hand, then force a new deployment of the agent and UI services.'],
  databasePort: ['AwsSolutions-RDS11', 'The port is not what protects the database: its security group lets in only the agents\' instances and the UI\'s tasks.'],
  taskEnvironment: ['AwsSolutions-ECS2', 'Plain environment holds settings only (data directory, APM switches, the store URL without its password); the password, the API token and the Datadog API key come from Secrets Manager as ECS secrets.'],
  ecrToken: ['AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken has no resource-level permission (IAM requires "*"); every other statement of the execution role names its repository, log group or secret.'],
  accessLogs: ['AwsSolutions-ELB2', 'No bucket was given for access logs (ui.accessLogs): the UI\'s own logs say who signed in and what was asked.'],
  ingressFromParameter: ['AwsSolutions-EC23', 'The load balancer admits the VPC\'s own CIDR (or the peers given in ui.allowFrom), which cdk-nag cannot read when it is a template parameter; it is never 0.0.0.0/0 unless the app asks for an internet-facing UI.'],
} as const satisfies Record<string, readonly [string, string]>;

/** Acknowledges one finding on `scope`'s resource, with its reason. */
export function acknowledge(scope: IConstruct, finding: keyof typeof ACKNOWLEDGED): void {
  const [id, reason] = ACKNOWLEDGED[finding];
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}
