/*
 * An example CDK app: a VPC, an ECS cluster of two EC2 instances, and ecs-trace on it with a
 * PostgreSQL on RDS and the UI behind an internal load balancer. `npx cdk deploy --app "node
 * packages/cdk/dist/example-app.js"` deploys it (README: "Deploy to your cluster"); the tests synth it.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsTrace } from './ecs-trace.js';
import { EcsTraceStore } from './store.js';

const app = new App();
const stack = new Stack(app, 'EcsTraceExample', {
  env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
});
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
vpc.addFlowLog('FlowLog');
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
// A launch template and a capacity provider, as ECS recommends (ECS drains the instances itself):
// no launch configuration, no draining hook of CDK's own.
const instances = new autoscaling.AutoScalingGroup(stack, 'Instances', {
  vpc, minCapacity: 2, maxCapacity: 2,
  launchTemplate: new ec2.LaunchTemplate(stack, 'InstanceTemplate', {
    instanceType: new ec2.InstanceType('t3.medium'), machineImage: ecs.EcsOptimizedImage.amazonLinux2023(), userData: ec2.UserData.forLinux(),
    role: new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }), requireImdsv2: true,
    blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
    securityGroup: new ec2.SecurityGroup(stack, 'InstanceSecurityGroup', { vpc }),
  }),
});
cluster.addAsgCapacityProvider(new ecs.AsgCapacityProvider(stack, 'Capacity', { autoScalingGroup: instances }));
// The example's own choices cdk-nag asks about (the construct's are acknowledged where it makes them).
Validations.of(instances).acknowledge({ id: 'AwsSolutions::AwsSolutions-AS3', reason: 'ECS scales this group through its capacity provider; notifications of scaling events are a team\'s own choice.' });
for (const id of ['AwsSolutions::AwsSolutions-IAM5[Resource::*]', 'AwsSolutions::AwsSolutions-IAM5[Action::ecs:Submit*]']) {
  Validations.of(stack.node.findChild('InstanceRole')).acknowledge({ id, reason: 'The ECS container agent\'s own actions (registering the instance, polling for and reporting on tasks) that CDK grants the instance role; IAM gives several no resource-level scope.' });
}
new EcsTrace(stack, 'Tracing', { cluster, store: EcsTraceStore.database() });
// ECS_TRACE_CDK_NAG=1: cdk-nag's AWS Solutions rules over the whole app, as the tests run them.
if (process.env['ECS_TRACE_CDK_NAG'] === '1') {
  const { AwsSolutionsChecks } = await import('cdk-nag');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
app.synth();
