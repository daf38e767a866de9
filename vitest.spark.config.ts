import { defineConfig } from 'vitest/config';

// npm run test:spark: the Spark MLlib round trip only (test/spark), one worker (Spark itself uses both cores).
export default defineConfig({
  test: {
    include: ['test/spark/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
});
