/**
 * What every store operation works with (`StoreContext`: the open backend, the
 * options, the LRU of latest sessions, the per-session writer lock) and the
 * guards they share: `guard` (closed store, lazy-read failures and LevelDB
 * exceptions become `Left`), argument checks, `requireHeader`. The operations
 * themselves live by job in `load.ts`, `write.ts`, `forks.ts`, `queries.ts`
 * and `blobs.ts`; `store.ts` assembles them into a `SessionStore`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Session, type Clock } from '../session/session.ts';
import type { SessionError } from '../session/errors.ts';
import type { AnchorHead } from './anchors.ts';
import { isLazyReadFailure } from './chunks.ts';
import { fromLevelError, invalidArgument, invalidSessionId, sessionNotFound, storeClosed, type StoreError } from './errors.ts';
import type { Io, SessionHeader } from './io.ts';
import type { KeyedMutex } from './keyedMutex.ts';
import { sessionIdProblem } from './layout.ts';
import type { CacheEntry, SessionCache } from './sessionCache.ts';

/** One open store's backend, options and in-memory state (no global state: one per `SessionStore.open`). */
export interface StoreContext {
  readonly io: Io;
  /** Write a snapshot each time an append crosses a multiple of this many records. */
  readonly snapshotEvery: number;
  /** Time source stamped into records (ms since epoch). */
  readonly clock: Clock;
  /** Called after every committed batch with the session's new head. */
  readonly onCommit?: (head: AnchorHead) => void;
  readonly cache: SessionCache;
  /** The per-session writer lock, shared with the engine (`update`). */
  readonly writers: KeyedMutex;
  /** Whether `close()` was called. */
  readonly isClosed: () => boolean;
}

/** A session read from the backend at some seq, with the header it was read under. */
export interface Loaded extends CacheEntry {
  readonly header: SessionHeader;
  /** The snapshot's inline tail was not re-hashed (`LoadSessionOptions.readsBelow`): read only below it, never cache or return it. */
  readonly tailUnchecked?: true;
}

/** Whether `e` is a tagged error value (`{ _tag, … }`) some `Session` code threw. */
export const isTagged = (e: unknown): e is SessionError => typeof e === 'object' && e !== null && typeof (e as { _tag?: unknown })._tag === 'string';

/** `Tag: message`, for an error quoted inside another. */
export const describe = (e: { readonly _tag: string; readonly message: string }): string => `${e._tag}: ${e.message}`;

/** `s` with an empty log and the store's clock (what the cache holds, so memory does not grow with the log). */
export const rebase = (ctx: StoreContext, s: Session): Session => s.withoutLog(ctx.clock);

/**
 * Runs `f` unless the store is closed (`StoreClosed`); a `LazyReadFailure`
 * (a lazily loaded chunk that is corrupt or missing, or the store closed
 * meanwhile) becomes its `Left`, a LevelDB exception `StoreIoError`.
 */
export const guard = async <A, Err = never>(ctx: StoreContext, f: () => Promise<E.Either<StoreError | Err, A>>): Promise<E.Either<StoreError | Err, A>> => {
  if (ctx.isClosed()) return E.left(storeClosed(ctx.io.path));
  try {
    return await f();
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    if (typeof code === 'string' && code.startsWith('LEVEL_')) return E.left(fromLevelError(ctx.io.path, e));
    throw e;
  }
};

/** A valid session id, or `InvalidSessionId`. */
export const checkSid = (sid: unknown): E.Either<StoreError, string> => {
  const p = sessionIdProblem(sid);
  return p === undefined ? E.right(sid as string) : E.left(invalidSessionId(sid, p));
};

/** An integer seq argument named `name`, or `InvalidArgument`. */
export const checkSeqArg = (name: string, seq: unknown): E.Either<StoreError, number> =>
  typeof seq === 'number' && Number.isSafeInteger(seq) ? E.right(seq) : E.left(invalidArgument(name, 'expected an integer'));

/** `expectedSeq` must be a non-negative integer. */
export const expectedSeqProblem = (v: unknown): StoreError | undefined =>
  typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 ? invalidArgument('expectedSeq', 'expected a non-negative integer') : undefined;

/** The header of `sid`, or `SessionNotFound`. */
export const requireHeader = async (ctx: StoreContext, sid: string): Promise<E.Either<StoreError, SessionHeader>> => {
  const h = await ctx.io.header(sid);
  if (E.isLeft(h)) return h;
  return h.right === undefined ? E.left(sessionNotFound(sid)) : E.right(h.right);
};
