// A script traced by ecs-trace that does its work and ends on its own: no flush call, no timer.
import tracer from '@ecs-trace/tracer';

tracer.init({ service: 'batch-job', flushInterval: 60_000 });
await tracer.trace('job.run', { resource: 'nightly' }, async (span) => {
  span.setTag('items', 3);
  await new Promise((r) => setTimeout(r, 10));
});
process.stdout.write(JSON.stringify({ done: true }) + '\n');
