import { defineConfig } from 'vitest/config';

const FIRST_RUN = 'e2e/first-run.e2e.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e tests spawn agents and tracers; two cores only.
    maxWorkers: 2,
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'all', include: ['packages/*/src/**/*.test.ts', 'e2e/**/*.test.ts'], exclude: [FIRST_RUN, 'e2e/apps/.build/**'], sequence: { groupOrder: 0 } } },
      // `npm start` rebuilds the web UI, which the browser tests read: it runs after everything else.
      { extends: true, test: { name: 'first-run', include: [FIRST_RUN], sequence: { groupOrder: 1 } } },
    ],
  },
});
