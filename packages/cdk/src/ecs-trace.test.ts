import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { lintTaskDefinition } from '@ecs-trace/taskdef';
import { componentsAvailable } from '../../../e2e/components.js';
import { EcsTrace, EcsTraceStore, templateStack, taskDefinitionOf } from './index.js';

/*
 * The construct synthesized as apps use it, held to what ECS, CloudFormation and AWS's own rules
 * ask: the template's resources (aws-cdk-lib/assertions), the agent's task definition through
 * `ecs-trace taskdef lint`, cdk-nag's AWS Solutions rules, cfn-lint (PyPI), and `cdk synth` of the
 * example app by the real CDK CLI (in a network namespace of its own: it never reaches out).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'ecs-trace-cdk-')); dirs.push(d); return d; };

interface Built { app: App; stack: Stack; tracing: EcsTrace }
type Shape = (cluster: ecs.Cluster, stack: Stack) => { props: ConstructorParameters<typeof EcsTrace>[2]; then?: (tracing: EcsTrace) => void };

/** A VPC, an EC2 cluster and ecs-trace on it, as an app would write them; with cdk-nag's rules, or not. */
function build(shape: Shape, nag = false): Built {
  const app = new App({ outdir: tmp() });
  const stack = new Stack(app, 'App', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  cluster.addCapacity('Instances', { instanceType: new ec2.InstanceType('t3.medium'), minCapacity: 2, machineImage: ecs.EcsOptimizedImage.amazonLinux2023() });
  const { props, then } = shape(cluster, stack);
  const tracing = new EcsTrace(stack, 'Tracing', props);
  then?.(tracing);
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, tracing };
}

/** cdk-nag's findings on ecs-trace's own resources (the app's VPC and cluster are the app's business). */
function nagFindings(shape: Shape): string[] {
  const b = build(shape, true);
  try {
    b.app.synth();
    return [];
  } catch (e) {
    const report = /report can be found in: (\S+)/.exec((e as Error).message)?.[1];
    if (!report) throw e;
    type Report = { pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[] };
    const r = JSON.parse(readFileSync(report, 'utf8')) as Report;
    return r.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`)))
      .filter((f) => / App\/(Tracing|AppTask)\//.test(f));
  }
}

let repos = 0;
/** An image of the account's ECR, as a team that pushed it there names it. */
const imageFromEcr = (stack: Stack) => ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, `Repo${repos++}`, 'ecs-trace/agent'), '0.2.0');

describe('EcsTrace with PostgreSQL on RDS and the UI', () => {
  const shape: Shape = (cluster) => ({ props: { cluster, store: EcsTraceStore.database() } });
  const b = build(shape);
  const template = Template.fromStack(b.stack);

  it('runs the agent as a DAEMON on the instances, on host port 8126, its data on a shared Docker volume', () => {
    template.hasResourceProperties('AWS::ECS::Service', { SchedulingStrategy: 'DAEMON', LaunchType: 'EC2' });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'ecs-trace-agent', NetworkMode: 'bridge',
      ContainerDefinitions: [Match.objectLike({
        Name: 'datadog-agent',
        PortMappings: [{ ContainerPort: 8126, HostPort: 8126, Protocol: 'tcp' }],
        Environment: Match.arrayWith([{ Name: 'DD_APM_ENABLED', Value: 'true' }, { Name: 'DD_APM_NON_LOCAL_TRAFFIC', Value: 'true' }]),
        Secrets: [{ Name: 'PGPASSWORD', ValueFrom: Match.anyValue() }],
      })],
      Volumes: Match.arrayWith([{ Name: 'ecs-trace-data', DockerVolumeConfiguration: { Autoprovision: true, Driver: 'local', Scope: 'shared' } }]),
    });
  });

  it('runs the UI on Fargate behind an internal load balancer, checked on /healthz, its token generated into Secrets Manager', () => {
    template.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 2, LoadBalancers: [{ ContainerName: 'ecs-trace-ui', ContainerPort: 8127, TargetGroupArn: Match.anyValue() }] });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8127, TargetType: 'ip', HealthCheckPath: '/healthz', Matcher: { HttpCode: '200' } });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'ecs-trace-ui', RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [Match.objectLike({
        Command: ['ui', '--api-host', '0.0.0.0', '--api-port', '8127'],
        Secrets: Match.arrayWith([{ Name: 'PGPASSWORD', ValueFrom: Match.anyValue() }, { Name: 'ECS_TRACE_API_TOKEN', ValueFrom: Match.anyValue() }]),
      })],
    });
    // The generated token and the database's password: two secrets, no value of either in the template.
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 40 }) });
  });

  it('makes the database encrypted, in two zones, reachable only from the agents\' instances and the UI\'s tasks', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', StorageEncrypted: true, MultiAZ: true, DeletionProtection: true, DBName: 'ecs_trace' });
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { FromPort: 5432 } });
    expect(Object.values(ingress).map((r) => (r as { Properties: { Description: string } }).Properties.Description).sort()).toEqual(['ecs-trace UI', 'ecs-trace agents']);
  });

  it('gives each execution role only its image, log group and secrets (the ECR token needs "*")', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const wildcard = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement)
      .filter((s) => s.Resource === '*').map((s) => s.Action);
    // The cluster's own instance and drain-hook roles are the app's; ours are the two execution roles.
    const ours = Object.entries(policies).filter(([id]) => id.startsWith('Tracing')).flatMap(([, p]) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement);
    expect(ours.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual(['ecr:GetAuthorizationToken', 'ecr:GetAuthorizationToken']);
    expect(wildcard.length).toBeGreaterThan(0);
  });

  it("passes ecs-trace taskdef lint: the agent's task definition, as the template holds it", () => {
    const json = b.app.synth().getStackByName('App').template as { Resources: Record<string, { Type: string; Properties?: unknown }> };
    const agent = Object.keys(json.Resources).find((id) => id.startsWith('TracingAgentTask') && json.Resources[id]!.Type === 'AWS::ECS::TaskDefinition')!;
    expect(lintTaskDefinition(taskDefinitionOf(json, agent)).filter((f) => f.severity === 'error')).toEqual([]);
  });

  it("leaves cdk-nag's AWS Solutions rules nothing unexplained on its resources", () => {
    expect(nagFindings(shape)).toEqual([]);
  });
});

describe('EcsTrace in other shapes', () => {
  it('with the embedded store: the daemon only, no UI, no database, no secret', () => {
    const shape: Shape = (cluster) => ({ props: { cluster } });
    const b = build(shape);
    const t = Template.fromStack(b.stack);
    t.resourceCountIs('AWS::ECS::Service', 1);
    t.resourceCountIs('AWS::RDS::DBInstance', 0);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(nagFindings(shape)).toEqual([]);
    // No Docker socket unless asked for: it is the host's Docker API.
    expect(JSON.stringify(t.findResources('AWS::ECS::TaskDefinition'))).not.toContain('docker.sock');
  });

  it("with dockerSocket, the daemon reads containers' log settings from the host's Docker socket, mounted read-only", () => {
    const t = Template.fromStack(build((cluster) => ({ props: { cluster, dockerSocket: true } })).stack);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'ecs-trace-agent',
      Volumes: Match.arrayWith([{ Name: 'docker_sock', Host: { SourcePath: '/var/run/docker.sock' } }]),
      ContainerDefinitions: [Match.objectLike({ MountPoints: Match.arrayWith([{ SourceVolume: 'docker_sock', ContainerPath: '/var/run/docker.sock', ReadOnly: true }]) })],
    });
  });

  it('with a PostgreSQL of its own (a secret with its URL), HTTPS with a certificate, and a Fargate app with the agent as its sidecar', () => {
    const shape: Shape = (cluster, stack) => {
      const url = new secretsmanager.Secret(stack, 'StoreUrl');
      const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/1b2c3d4e-0000-4000-8000-000000000000');
      const appTask = new ecs.FargateTaskDefinition(stack, 'AppTask');
      const app = appTask.addContainer('app', { image: imageFromEcr(stack), logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'app' }) });
      return {
        props: { cluster, store: EcsTraceStore.postgres(url), ui: { certificate }, image: imageFromEcr(stack), monitors: new secretsmanager.Secret(stack, 'Monitors') },
        then: (tracing) => { tracing.addFargateSidecar(appTask, { appContainers: [app] }); },
      };
    };
    const b = build(shape);
    const t = Template.fromStack(b.stack);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS', SslPolicy: Match.stringLikeRegexp('TLS') });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'ecs-trace-ui', Environment: Match.arrayWith([{ Name: 'ECS_TRACE_API_SECURE_COOKIE', Value: 'true' }]),
      Secrets: Match.arrayWith([{ Name: 'ECS_TRACE_MONITORS', ValueFrom: Match.anyValue() }]) })]) });
    // The app waits for its agent to be healthy and sends to it on localhost.
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([
      Match.objectLike({ Name: 'app', DependsOn: [{ Condition: 'HEALTHY', ContainerName: 'datadog-agent' }], Environment: Match.arrayWith([{ Name: 'DD_AGENT_HOST', Value: '127.0.0.1' }]) }),
      Match.objectLike({ Name: 'datadog-agent', Essential: true, Secrets: [{ Name: 'ECS_TRACE_STORE', ValueFrom: Match.anyValue() }, { Name: 'ECS_TRACE_MONITORS', ValueFrom: Match.anyValue() }] }),
    ]) });
    expect(nagFindings(shape)).toEqual([]);
  });
});

/** cfn-lint, from e2e/apps/prepare.sh pytools or the PATH. */
const localLint = join(ROOT, 'e2e/apps/.build/pytools/bin/cfn-lint');
const cfnLint = existsSync(localLint) ? localLint : spawnSync('cfn-lint', ['--version']).status === 0 ? 'cfn-lint' : undefined;
const linted = componentsAvailable(cfnLint ? undefined : 'no cfn-lint (bash e2e/apps/prepare.sh pytools)', 'CloudFormation template lint');

describe('the plain CloudFormation template (ecs-trace deploy template)', () => {

  it.each(['embedded', 'database'] as const)('with the %s store: parameters for what differs by account, no CDK bootstrap, an agent task definition lint passes', (store) => {
    const app = new App({ outdir: tmp() });
    const stack = templateStack({ store }, app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const json = app.synth().getStackByName(stack.stackName).template as { Parameters: Record<string, unknown>; Resources: Record<string, { Type: string; Properties?: unknown }>; Rules?: unknown };
    expect(Object.keys(json.Parameters).sort()).toEqual(store === 'embedded' ? ['ClusterName', 'ImageRepository', 'ImageTag']
      : ['ClusterName', 'ImageRepository', 'ImageTag', 'InstanceSecurityGroup', 'PrivateSubnet1', 'PrivateSubnet2', 'VpcCidr', 'VpcId']);
    expect(json.Rules).toBeUndefined();
    const agent = Object.keys(json.Resources).find((id) => id.startsWith('TracingAgentTask') && json.Resources[id]!.Type === 'AWS::ECS::TaskDefinition')!;
    const findings = lintTaskDefinition(taskDefinitionOf(json, agent));
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    // The image is the account's ECR repository, which lint knows for one a registry holds.
    expect(findings.map((f) => f.rule)).not.toContain('image-not-in-a-registry');
  });

  it.runIf(linted)('passes cfn-lint, both shapes', () => {
    const dir = tmp();
    const files = (['embedded', 'database'] as const).map((store) => {
      const app = new App({ outdir: tmp() });
      const stack = templateStack({ store }, app);
      const file = join(dir, `${store}.json`);
      writeFileSync(file, JSON.stringify(app.synth().getStackByName(stack.stackName).template));
      return file;
    });
    const run = spawnSync(cfnLint!, files, { encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  }, 120_000);
});

describe('cdk synth of the example app, by the real CDK CLI', () => {
  // `unshare --net`: a network namespace with nothing in it, so the CLI's notices and telemetry go nowhere.
  const isolated = componentsAvailable(spawnSync('unshare', ['--net', 'true']).status === 0 ? undefined : 'unshare --net is refused here (it needs root and util-linux)', 'CDK CLI synth');

  it.runIf(isolated)('synthesizes the DAEMON service, the UI service, the load balancer, the roles and the secrets, passing cdk-nag and cfn-lint', () => {
    const out = tmp();
    execFileSync('unshare', ['--net', process.execPath, join(ROOT, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--app', `${process.execPath} ${join(ROOT, 'packages/cdk/dist/example-app.js')}`,
      '--output', out, '--no-notices', '--no-version-reporting', '--quiet', '--ci'], {
      // No account or region: an environment-agnostic synth, which looks nothing up in AWS.
      // cdk-nag's AWS Solutions rules over the whole example app: the synth fails on any finding not acknowledged.
      cwd: tmp(), env: { PATH: process.env['PATH'] ?? '', HOME: tmp(), CDK_DISABLE_CLI_TELEMETRY: 'true', ECS_TRACE_CDK_NAG: '1' }, stdio: 'pipe',
    });
    // And its template passes cfn-lint.
    if (linted) {
      const lint = spawnSync(cfnLint!, [join(out, 'EcsTraceExample.template.json')], { encoding: 'utf8' });
      expect(`${lint.stdout}${lint.stderr}`).toBe('');
    }
    const t = Template.fromJSON(JSON.parse(readFileSync(join(out, 'EcsTraceExample.template.json'), 'utf8')) as Record<string, unknown>);
    t.hasResourceProperties('AWS::ECS::Service', { SchedulingStrategy: 'DAEMON' });
    t.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE' });
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    t.resourceCountIs('AWS::SecretsManager::Secret', 2);
    expect(Object.keys(t.findResources('AWS::IAM::Role')).filter((id) => id.startsWith('Tracing'))).toHaveLength(4);
    // The image: deploy/Dockerfile as an asset CDK builds and pushes on deploy.
    const assets = JSON.parse(readFileSync(join(out, 'EcsTraceExample.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; dockerFile: string } }> };
    expect(Object.values(assets.dockerImages).map((a) => a.source.dockerFile)).toEqual(['deploy/Dockerfile']);
  }, 120_000);
});
