import { Command, Option } from 'commander';

/*
 * `ecs-trace deploy template`: the CDK construct (packages/cdk) as a plain CloudFormation
 * template, for teams that deploy with CloudFormation alone. The CDK is a development dependency
 * (the agent's image does not carry it): the command runs from a checkout after `npm ci`.
 */

const STORES = ['embedded', 'database'] as const;

export function deployCommands(program: Command, setExit: (code: number) => void): void {
  const deploy = program.command('deploy').description('Deploy ecs-trace to an ECS cluster (the CDK construct in packages/cdk, or its CloudFormation template).');
  deploy
    .command('template')
    .description('Print the CloudFormation template of the agent DAEMON service (and, with --store database, PostgreSQL on RDS and the UI behind a load balancer).')
    .addOption(new Option('--store <kind>', 'embedded: each host\'s own store; database: a PostgreSQL on RDS, shared, and the UI service').choices([...STORES]).default('embedded'))
    .option('--stack-name <name>', 'the stack name the template is made for', 'EcsTrace')
    .action(async (o: { store: (typeof STORES)[number]; stackName: string }) => {
      let cdk: typeof import('@ecs-trace/cdk');
      try {
        cdk = await import('@ecs-trace/cdk');
      } catch (err) {
        process.stderr.write(`ecs-trace deploy template: the CDK is not installed here (${(err as Error).message.split('\n')[0]}): run it from a checkout after npm ci\n`);
        setExit(1);
        return;
      }
      const { App } = await import('aws-cdk-lib');
      const app = new App();
      const stack = cdk.templateStack({ store: o.store, stackName: o.stackName }, app);
      const template = app.synth().getStackByName(stack.stackName).template as unknown;
      process.stdout.write(`${JSON.stringify(template, null, 2)}\n`);
    });
}
