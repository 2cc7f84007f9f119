import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

/* `ecs-trace taskdef agent --register`, in process, with AWS's client mocked. */

const ecs = mockClient(ECSClient);
afterEach(() => { ecs.reset(); vi.restoreAllMocks(); });

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
  return { out, err };
}

describe('ecs-trace taskdef --register', () => {
  it('registers the generated definition and prints the new revision ARN', async () => {
    process.env['AWS_REGION'] = 'us-east-1';
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/ecs-trace-agent:9', revision: 9 } });
    const io = capture();
    const code = await main(['node', 'ecs-trace', 'taskdef', 'agent', '--register']);
    expect(code).toBeUndefined();
    expect(io.out.join('')).toBe('arn:aws:ecs:us-east-1:123456789012:task-definition/ecs-trace-agent:9\n');
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input).toMatchObject({ family: 'ecs-trace-agent', containerDefinitions: [{ name: 'datadog-agent', portMappings: [{ containerPort: 8126, hostPort: 8126, protocol: 'tcp' }] }] });
  });

  it('says what AWS refused, and exits 1', async () => {
    process.env['AWS_REGION'] = 'us-east-1';
    ecs.on(RegisterTaskDefinitionCommand).rejects(Object.assign(new Error('User is not authorized to perform: ecs:RegisterTaskDefinition'), { name: 'AccessDeniedException', $metadata: { requestId: 'r-1' } }));
    const io = capture();
    const code = await main(['node', 'ecs-trace', 'taskdef', 'agent', '--register']);
    expect(code).toBe(1);
    expect(io.err.join('')).toContain('ecs-trace taskdef: AWS refused to register task definition "ecs-trace-agent": AccessDeniedException: User is not authorized to perform: ecs:RegisterTaskDefinition (request r-1)');
    expect(io.out.join('')).toBe('');
  });
});
