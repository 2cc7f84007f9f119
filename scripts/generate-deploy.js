// Regenerates deploy/ with the ecs-trace taskdef commands (npm run deploy:generate); the tests
// check that what is committed is what these commands produce, and that it lints clean.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

// The agent's image as a user's ECR holds it once pushed (deploy/README.md), so that every file lints clean.
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-trace/agent:0.2.0';
const cli = (...args) => execFileSync(process.execPath, ['packages/cli/dist/bin.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

export const DEPLOY_FILES = {
  'deploy/agent-task-definition.json': () => cli('taskdef', 'agent', '--image', IMAGE, '--region', 'us-east-1'),
  'deploy/agent-service.json': () => cli('taskdef', 'service', '--task-definition', 'ecs-trace-agent', '--cluster', 'default'),
  'deploy/app-task-definition.json': () => cli('taskdef', 'app', 'deploy/src/app.json', '--discovery', 'launcher', '--image-entrypoint', 'none', '--service', 'checkout', '--env', 'prod', '--version', '1.4.2'),
  'deploy/app-fargate-task-definition.json': () => cli('taskdef', 'app', 'deploy/src/app.json', '--fargate', '--agent-image', IMAGE, '--region', 'us-east-1', '--execution-role-arn', 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole', '--service', 'checkout', '--env', 'prod', '--version', '1.4.2'),
  'deploy/ui-task-definition.json': () => cli('taskdef', 'ui', '--image', IMAGE, '--region', 'us-east-1',
    '--store-secret', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecs-trace/store-url',
    '--token-secret', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecs-trace/ui-token',
    '--execution-role-arn', 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole'),
  'deploy/ui-service.json': () => cli('taskdef', 'ui-service', '--task-definition', 'ecs-trace-ui', '--cluster', 'default',
    '--target-group-arn', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/ecs-trace-ui/0123456789abcdef',
    '--subnets', 'subnet-0123456789abcdef0,subnet-0fedcba9876543210', '--security-groups', 'sg-0123456789abcdef0'),
  'deploy/ui-target-group.json': () => cli('taskdef', 'ui-target-group', '--vpc-id', 'vpc-0123456789abcdef0'),
};

if (process.argv[1] === new URL(import.meta.url).pathname) {
  for (const [file, make] of Object.entries(DEPLOY_FILES)) writeFileSync(file, make());
}
