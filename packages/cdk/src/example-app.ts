/*
 * An example CDK app: a VPC, an ECS cluster of two EC2 instances, and ecs-trace on it with a
 * PostgreSQL on RDS and the UI behind an internal load balancer. `npx cdk deploy --app "node
 * packages/cdk/dist/example-app.js"` deploys it (README: "Deploy to your cluster"); the tests synth it.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsTrace } from './ecs-trace.js';
import { EcsTraceStore } from './store.js';

const app = new App();
const stack = new Stack(app, 'EcsTraceExample', {
  env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
});
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
cluster.addCapacity('Instances', {
  instanceType: new ec2.InstanceType('t3.medium'), minCapacity: 2, maxCapacity: 2,
  machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
});
new EcsTrace(stack, 'Tracing', { cluster, store: EcsTraceStore.database() });
app.synth();
