import type { ECSClient } from '@aws-sdk/client-ecs';
import type { TaskDefinition } from './input.js';

/*
 * Registration with the AWS SDK: region and credentials come the SDK's usual way. The SDK is
 * loaded on the first registration, not with the package: every `ecs-trace` command (the agent
 * too) imports this package, and the SDK took 2.5 MB of the CLI's heap (11.3 against 8.8 MB).
 */

export class RegisterError extends Error {
  override name = 'RegisterError';
}

export interface Registered {
  arn: string;
  revision: number;
}

export async function registerTaskDefinition(doc: TaskDefinition, client?: ECSClient): Promise<Registered> {
  const sdk = await import('@aws-sdk/client-ecs');
  let out;
  try {
    out = await (client ?? new sdk.ECSClient({})).send(new sdk.RegisterTaskDefinitionCommand(doc));
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number; requestId?: string } };
    const request = e.$metadata?.requestId ? ` (request ${e.$metadata.requestId})` : '';
    throw new RegisterError(`AWS refused to register task definition ${JSON.stringify(doc.family)}: ${e.name}: ${e.message}${request}`);
  }
  const td = out.taskDefinition;
  if (!td?.taskDefinitionArn) throw new RegisterError(`AWS answered without a task definition ARN for ${JSON.stringify(doc.family)}`);
  return { arn: td.taskDefinitionArn, revision: td.revision ?? 0 };
}
