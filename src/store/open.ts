/**
 * Where a store lives and how its backend is opened: a directory (LevelDB,
 * `levelIo.ts`) or a PostgreSQL database (`postgresIo.ts`, whose module and
 * the `pg` package are imported only then).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { invalidArgument, storeIoError, type StoreError } from './errors.ts';
import type { Io } from './io.ts';
import { openLevelIo } from './levelIo.ts';

/** PostgreSQL connection options of `SessionStore.open({ postgres })`. */
export interface PostgresTarget {
  /** `postgres://user[:password]@host[:port]/database` (libpq URL; `postgresql://` too). */
  readonly connectionString: string;
  /** The schema holding the store's tables (created when missing). Default `palimpsest`. */
  readonly schema?: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
}

/**
 * Where a store lives: a directory (LevelDB), a `postgres://` / `postgresql://`
 * URL (PostgreSQL, schema `palimpsest`), or `{ postgres: PostgresTarget }`.
 */
export type StoreTarget = string | { readonly postgres: PostgresTarget };

/** Whether `target` is a PostgreSQL URL (`postgres://` or `postgresql://`). */
export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

/**
 * `{ connectionString, schema }` of a URL: a `schema` query parameter names
 * the schema (`postgres://u@h/db?schema=app`) and is removed from the
 * connection string; default `palimpsest`.
 */
export const postgresTargetOfUrl = (url: string): PostgresTarget => {
  try {
    const u = new URL(url);
    const schema = u.searchParams.get('schema');
    if (schema === null) return { connectionString: url };
    u.searchParams.delete('schema');
    return { connectionString: u.toString(), schema };
  } catch {
    return { connectionString: url };
  }
};

/** The backend for `target` (see `SessionStore.open`); `sync` is LevelDB's fsync-per-batch; `create` false refuses to create a store. */
export const openIo = async (target: StoreTarget, sync: boolean, create: boolean): Promise<E.Either<StoreError, Io>> => {
  if (typeof target === 'object' && target !== null && typeof target.postgres === 'object' && target.postgres !== null) {
    const { openPostgresIo } = await import('./postgresIo.ts');
    return openPostgresIo(target.postgres, sync, create);
  }
  if (typeof target !== 'string' || target.length === 0) return E.left(invalidArgument('path', 'expected a directory path, a postgres:// URL or { postgres: { connectionString } }'));
  if (isPostgresUrl(target)) {
    const { openPostgresIo } = await import('./postgresIo.ts');
    return openPostgresIo(postgresTargetOfUrl(target), sync, create);
  }
  const dir = nodePath.resolve(target);
  if (!create && !fs.existsSync(nodePath.join(dir, 'CURRENT'))) return E.left(storeIoError(dir, 'no palimpsest store here (nothing was created)'));
  return openLevelIo(dir, sync);
};
