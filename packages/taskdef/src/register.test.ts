import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { agentTaskDefinition } from './agent.js';
import { registerTaskDefinition } from './register.js';

const ecs = mockClient(ECSClient);
afterEach(() => ecs.reset());

describe('registerTaskDefinition', () => {
  it('sends the task definition as generated and returns the new revision ARN', async () => {
    const { doc } = agentTaskDefinition(undefined, {});
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/ecs-trace-agent:4', revision: 4 } });
    const r = await registerTaskDefinition(doc, new ECSClient({ region: 'us-east-1' }));
    expect(r).toEqual({ arn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/ecs-trace-agent:4', revision: 4 });
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input).toEqual(doc);
  });

  it('surfaces an AWS error with its name, message and request id', async () => {
    const err = Object.assign(new Error('Invalid setting for container \'datadog-agent\'. At least one of \'memory\' or \'memoryReservation\' must be specified for a container.'), { name: 'ClientException', $metadata: { httpStatusCode: 400, requestId: 'req-123' } });
    ecs.on(RegisterTaskDefinitionCommand).rejects(err);
    await expect(registerTaskDefinition({ family: 'ecs-trace-agent', containerDefinitions: [] }, new ECSClient({ region: 'us-east-1' })))
      .rejects.toThrow('AWS refused to register task definition "ecs-trace-agent": ClientException: Invalid setting for container \'datadog-agent\'. At least one of \'memory\' or \'memoryReservation\' must be specified for a container. (request req-123)');
  });
});
