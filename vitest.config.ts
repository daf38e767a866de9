import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Vite transforms .ts/.mts by default; ts/package_root.cts is TypeScript too.
  oxc: { include: /\.[cm]?tsx?$/ },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // The Spark round trip starts JVMs (a minute or more): its own script, npm run test:spark.
    exclude: ['test/spark/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Native fits use their own threads; two vitest workers match the 2-core machines this runs on.
    maxWorkers: 2,
  },
});
