import { defineConfig } from 'vitest/config';

// Source-first: workspace packages resolve to their src/ through the `alf-source`
// export condition, so tests never need a build. Plain `resolve.conditions` did
// not reach SSR (node) resolution; `ssr.resolve.conditions` does.
export default defineConfig({
  ssr: { resolve: { conditions: ['alf-source'], externalConditions: ['alf-source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
    setupFiles: ['./scripts/vitest-setup.ts'],
  },
});
