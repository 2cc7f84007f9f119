#!/usr/bin/env node
import { main } from './main.js';

main(process.argv).then(
  (code) => { if (code !== undefined) process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`ecs-trace: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
