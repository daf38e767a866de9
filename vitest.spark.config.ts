import { defineConfig } from 'vitest/config';

// npm run test:spark: the Spark MLlib round trip only (test/spark), one worker (Spark itself uses both cores).
export default defineConfig({
  // Vite transforms .ts/.mts by default; ts/package_root.cts is TypeScript too.
  oxc: { include: /\.[cm]?tsx?$/ },
  test: {
    include: ['test/spark/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
});
