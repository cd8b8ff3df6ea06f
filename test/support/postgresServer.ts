/**
 * The tests' PostgreSQL server (vitest `globalSetup`): `PALIMPSEST_PG_URL` when
 * set, else a throwaway cluster (`postgresCluster.ts`) stopped and removed at
 * teardown. The URL is handed to the tests as `inject('pgUrl')`; each test
 * makes its own schema (`test/support/postgres.ts`).
 */
import type { TestProject } from 'vitest/node';
import { startThrowawayCluster } from './postgresCluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://…` of the test server. */
    pgUrl: string;
  }
}

/** vitest globalSetup: provides `pgUrl`; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.PALIMPSEST_PG_URL;
  if (given !== undefined && given !== '') {
    project.provide('pgUrl', given);
    return () => undefined;
  }
  const cluster = await startThrowawayCluster();
  project.provide('pgUrl', cluster.url);
  // Stop it even when vitest exits without running the teardown (a crash, an interrupt).
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    cluster.stop();
  };
  process.once('exit', stop);
  return () => {
    process.removeListener('exit', stop);
    stop();
  };
}
