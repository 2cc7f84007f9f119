#!/usr/bin/env node
import { main } from './main.js';

// A reader that goes away (`ecs-trace config | head -1`) ends the output, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

main(process.argv).then(
  (code) => { if (code !== undefined) process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`ecs-trace: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
