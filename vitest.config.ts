import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The monorepo runs the packages from their sources; an application gets their builds.
  ssr: { resolve: { conditions: [...defaultServerConditions, 'kaskade-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and browser tests start real processes and share 2 cores: run files one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
