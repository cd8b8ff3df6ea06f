import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'spec/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A throwaway PostgreSQL server for the PostgreSQL backend's tests (or PALIMPSEST_PG_URL).
    globalSetup: ['test/support/postgresServer.ts'],
  },
});
