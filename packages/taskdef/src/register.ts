import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { TaskDefinition } from './input.js';

/** Registration with the AWS SDK: region and credentials come the SDK's usual way. */

export class RegisterError extends Error {
  override name = 'RegisterError';
}

export interface Registered {
  arn: string;
  revision: number;
}

export async function registerTaskDefinition(doc: TaskDefinition, client: ECSClient = new ECSClient({})): Promise<Registered> {
  let out;
  try {
    out = await client.send(new RegisterTaskDefinitionCommand(doc));
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number; requestId?: string } };
    const request = e.$metadata?.requestId ? ` (request ${e.$metadata.requestId})` : '';
    throw new RegisterError(`AWS refused to register task definition ${JSON.stringify(doc.family)}: ${e.name}: ${e.message}${request}`);
  }
  const td = out.taskDefinition;
  if (!td?.taskDefinitionArn) throw new RegisterError(`AWS answered without a task definition ARN for ${JSON.stringify(doc.family)}`);
  return { arn: td.taskDefinitionArn, revision: td.revision ?? 0 };
}
