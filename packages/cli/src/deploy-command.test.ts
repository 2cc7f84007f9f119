import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/* `ecs-trace deploy template` as a team without CDK runs it: a template on stdout, CloudFormation's shape. */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'deploy', 'template', ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });

type Template = { Parameters: Record<string, unknown>; Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
const ofType = (t: Template, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);

describe('ecs-trace deploy template', () => {
  it('prints the agent DAEMON service by default, and nothing else to deploy', () => {
    const r = run([]);
    expect(r.status).toBe(0);
    const t = JSON.parse(r.stdout) as Template;
    expect(ofType(t, 'AWS::ECS::Service').map((s) => s.Properties['SchedulingStrategy'])).toEqual(['DAEMON']);
    expect(ofType(t, 'AWS::RDS::DBInstance')).toEqual([]);
    expect(r.stdout.endsWith('}\n')).toBe(true);
  });

  it('with --store database: PostgreSQL on RDS, the UI behind a load balancer, the secrets', () => {
    const t = JSON.parse(run(['--store', 'database', '--stack-name', 'tracing']).stdout) as Template;
    expect(ofType(t, 'AWS::ECS::Service').map((s) => s.Properties['SchedulingStrategy'] ?? s.Properties['LaunchType']).sort()).toEqual(['DAEMON', 'FARGATE']);
    expect(ofType(t, 'AWS::RDS::DBInstance')).toHaveLength(1);
    expect(ofType(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toHaveLength(1);
    expect(ofType(t, 'AWS::SecretsManager::Secret')).toHaveLength(2);
    expect(Object.keys(t.Parameters)).toContain('PrivateSubnet1');
  });

  it('names the choices of a store it does not know', () => {
    const r = run(['--store', 'sqlite']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/'--store <kind>' argument 'sqlite' is invalid\. Allowed choices are embedded, database/);
  });
});
