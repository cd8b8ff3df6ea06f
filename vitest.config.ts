import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'spec/**/*.spec.ts'],
    // Generous: the property specs run thousands of cases each and slow down several-fold
    // on a loaded 2-core machine (a 15 s realtime spec once took 76 s); a timeout is not a speed check.
    testTimeout: 240_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A throwaway PostgreSQL server for the PostgreSQL backend's tests (or PALIMPSEST_PG_URL).
    globalSetup: ['test/support/postgresServer.ts'],
  },
});
