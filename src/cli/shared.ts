/**
 * Helpers shared by the commands: argument parsers (invalid values are usage
 * errors, exit 2), session-id resolution (a unique prefix is accepted), the
 * "store must exist" check of read-only commands, and help-text building.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { InvalidArgumentError } from 'commander';
import type { SessionSummary } from '../store/index.ts';
import { EXIT_HELP } from './exit.ts';
import { isPostgresStore, withStore, type Ctx, type Store } from './context.ts';
import type { TaggedError } from './errors.ts';

/** A parser for a non-negative integer option (commander `argParser`); `min` defaults to 0. */
export const intArg =
  (what: string, min = 0) =>
  (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${what} must be an integer >= ${min}, got ${JSON.stringify(value)}.`);
    const n = Number(value.trim());
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}, got ${JSON.stringify(value)}.`);
    return n;
  };

/** Collects a repeatable option into an array. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** No store directory at `path` (read-only commands never create one). */
export interface StoreNotFound {
  readonly _tag: 'StoreNotFound';
  readonly path: string;
  readonly message: string;
}

/** A session-id prefix matches more than one session. */
export interface AmbiguousSessionId {
  readonly _tag: 'AmbiguousSessionId';
  readonly sessionId: string;
  readonly candidates: readonly string[];
  readonly message: string;
}

/**
 * `Left(StoreNotFound)` unless the store directory exists and holds a LevelDB
 * database (its `CURRENT` file), so that `sessions`, `log`, ... neither create
 * an empty store nor write LevelDB files into some other directory.
 */
export const requireStoreDir = (ctx: Ctx): E.Either<StoreNotFound, void> => {
  // A PostgreSQL store has no directory: opening it checks the server and the schema.
  if (isPostgresStore(ctx)) return E.right(undefined);
  if (fs.existsSync(nodePath.join(ctx.storePath, 'CURRENT'))) return E.right(undefined);
  const what = fs.existsSync(ctx.storePath) ? `${ctx.storePath} is not a palimpsest store (no LevelDB CURRENT file)` : `no store at ${ctx.storePath}`;
  return E.left({
    _tag: 'StoreNotFound',
    path: ctx.storePath,
    message: `${what} (create one with \`palimpsest import <file>\`, or pass --store DIR)`,
  });
};

/**
 * The session id `arg` names: the id itself (or `pi:` + `arg`) when such a
 * session exists, else the one session whose id starts with `arg` (or with
 * `pi:` + `arg`).
 * `SessionNotFound` when none does, `AmbiguousSessionId` when several do.
 */
export const resolveSessionId = async (store: Store, arg: string): Promise<E.Either<TaggedError, SessionSummary>> => {
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  const all = listed.right;
  const exact = all.find((s) => s.sessionId === arg) ?? all.find((s) => s.sessionId === `pi:${arg}`);
  if (exact !== undefined) return E.right(exact);
  const matches = arg === '' ? [] : all.filter((s) => s.sessionId.startsWith(arg) || s.sessionId.startsWith(`pi:${arg}`));
  if (matches.length === 1) return E.right(matches[0]!);
  if (matches.length === 0) return E.left({ _tag: 'SessionNotFound', sessionId: arg, message: `no session ${JSON.stringify(arg)} in ${store.path}` });
  const candidates = matches.map((s) => s.sessionId);
  return E.left({
    _tag: 'AmbiguousSessionId',
    sessionId: arg,
    candidates,
    message: `session id prefix ${JSON.stringify(arg)} matches ${candidates.length} sessions: ${candidates.slice(0, 5).join(', ')}${candidates.length > 5 ? ', …' : ''}`,
  });
};

/**
 * The opening every command that takes `<id>` shares: the store must exist
 * (`requireStoreDir`), is opened for the call (`withStore`, closed after `f`),
 * and `id` is resolved to one session (`resolveSessionId`); then
 * `f(store, session)`. Errors: `StoreNotFound`, the store's open errors,
 * `SessionNotFound`, `AmbiguousSessionId`, or whatever `f` returns.
 */
export const withSession = async <A>(
  ctx: Ctx,
  id: string,
  f: (store: Store, session: SessionSummary) => Promise<E.Either<TaggedError, A>>,
): Promise<E.Either<TaggedError, A>> => {
  const dir = requireStoreDir(ctx);
  if (E.isLeft(dir)) return dir;
  return withStore(ctx, async (store) => {
    const s = await resolveSessionId(store, id);
    return E.isLeft(s) ? s : f(store, s.right);
  });
};

/** The `--help` epilogue of a command: what it prints, what `--json` prints, notes, and the exit codes. */
export const helpAfter = (h: { readonly prints: string; readonly json: string; readonly notes?: string; readonly exits?: string }): string =>
  [
    '',
    'Prints:',
    indent(h.prints),
    '',
    'With --json:',
    indent(h.json),
    ...(h.notes !== undefined ? ['', indent(h.notes, '')] : []),
    '',
    h.exits ?? EXIT_HELP,
  ].join('\n');

const indent = (s: string, pad = '  '): string =>
  s
    .split('\n')
    .map((l) => (l === '' ? l : `${pad}${l}`))
    .join('\n');

/** The id argument's help. */
export const ID_HELP = 'session id (or a unique prefix of one; `pi:` may be left out)';
