import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The monorepo runs the packages from their sources; an application gets their builds.
  ssr: { resolve: { conditions: [...defaultServerConditions, 'kaskade-source'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          // Pure logic: one worker runs many files (no fresh worker per file), and the
          // group ends before the processes start.
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          // Integration and browser tests start real processes and share 2 cores: run files one at a time.
          name: 'processes',
          include: ['test/integration/**/*.test.ts', 'test/browser/**/*.test.ts', 'test/deploy/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
