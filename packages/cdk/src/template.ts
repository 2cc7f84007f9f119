import { App, CfnParameter, DefaultStackSynthesizer, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsTrace } from './ecs-trace.js';
import { EcsTraceStore } from './store.js';

/*
 * The construct as a plain CloudFormation template, for teams without CDK (`ecs-trace deploy
 * template`): what differs between accounts is a parameter (the cluster, its VPC, two private
 * subnets, the instances' security group, the image's ECR repository and tag), the choices
 * (store, UI) are made when it is generated. No CDK bootstrap, no assets: the image is pushed to
 * ECR first (deploy/README.md).
 */

export interface TemplateStackProps {
  /** embedded (each host's own) or database (an RDS PostgreSQL made with it, and the UI service). */
  readonly store: 'embedded' | 'database';
  readonly stackName?: string;
}

export function templateStack(o: TemplateStackProps, app = new App()): Stack {
  const props: StackProps = {
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
    description: `ecs-trace: the trace agent as a DAEMON service${o.store === 'database' ? ', a PostgreSQL on RDS and the UI behind a load balancer' : ''}`,
    ...(o.stackName ? { stackName: o.stackName } : {}),
  };
  const stack = new Stack(app, o.stackName ?? 'EcsTrace', props);
  const param = (id: string, type: string, description: string, defaultValue?: string) =>
    new CfnParameter(stack, id, { type, description, ...(defaultValue !== undefined ? { default: defaultValue } : {}) });
  const clusterName = param('ClusterName', 'String', 'The ECS cluster the apps run in (EC2 container instances)');
  const repository = param('ImageRepository', 'String', 'The ECR repository holding the agent image (deploy/README.md: push it there)', 'ecs-trace/agent');
  const tag = param('ImageTag', 'String', 'The image\'s tag', '0.2.0');
  const image = ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repository', repository.valueAsString), tag.valueAsString);
  if (o.store === 'embedded') {
    // Each host's own store: the agents need nothing of the network but their host port.
    // CDK asks for the cluster's VPC, which the daemon (bridge network, host port) never uses: nothing of it is in the template.
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-not-used', availabilityZones: ['not-used'] });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: clusterName.valueAsString, vpc });
    new EcsTrace(stack, 'Tracing', { cluster, image, store: EcsTraceStore.embedded() });
    return stack;
  }
  const vpcId = param('VpcId', 'AWS::EC2::VPC::Id', 'The cluster\'s VPC');
  const vpcCidr = param('VpcCidr', 'String', 'The VPC\'s CIDR block (who may reach the UI, and whose proxies are believed)', '10.0.0.0/16');
  const subnet1 = param('PrivateSubnet1', 'AWS::EC2::Subnet::Id', 'A private subnet (with a route out) in one zone');
  const subnet2 = param('PrivateSubnet2', 'AWS::EC2::Subnet::Id', 'A private subnet (with a route out) in another zone');
  const instances = param('InstanceSecurityGroup', 'AWS::EC2::SecurityGroup::Id', 'The security group of the cluster\'s container instances');
  const zones = [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: vpcId.valueAsString, vpcCidrBlock: vpcCidr.valueAsString, availabilityZones: zones,
    privateSubnetIds: [subnet1.valueAsString, subnet2.valueAsString],
  });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: clusterName.valueAsString, vpc,
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Instances', instances.valueAsString, { allowAllOutbound: true })],
  });
  new EcsTrace(stack, 'Tracing', { cluster, image, store: EcsTraceStore.database() });
  return stack;
}
