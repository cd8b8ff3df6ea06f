/**
 * How the inspector reaches a store: an application's own open store (live,
 * never closed by the inspector), or a store directory opened on demand.
 *
 * LevelDB allows one process at a time (its LOCK file; a second open is
 * `StoreLocked`). `storeAtPath` therefore holds the directory open only while
 * requests are running: the first request opens it, concurrent requests share
 * that handle, and the last one to finish closes it, so between page loads
 * another process (an agent, `palimpsest import`) can open the store. While an
 * application holds the store, requests answer `StoreLocked` (HTTP 503); such
 * an application mounts `createInspectorHandler(itsStore)` itself instead.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { SessionStore, StoreError } from '../store/index.ts';

/** Runs reads against a store. */
export interface StoreAccess {
  /** Runs `f` with an open store; `Left` when the store cannot be opened (`StoreLocked`, `StoreIoError`, `UnsupportedVersion`). */
  readonly use: <A>(f: (store: SessionStore) => Promise<A>) => Promise<E.Either<StoreError, A>>;
}

/** An application's open store: used as is and never closed by the inspector. */
export const liveStore = (store: SessionStore): StoreAccess => ({
  use: async (f) => E.right(await f(store)),
});

/** Opens a store directory (`SessionStore.open` or a test's opener). */
export type StoreOpener = (path: string) => Promise<E.Either<StoreError, SessionStore>>;

/** State of `storeAtPath`: the open handle (or the open in progress) and how many requests use it. */
interface Shared {
  opening: Promise<E.Either<StoreError, SessionStore>> | undefined;
  /** The close of the previous handle; a new open waits for it (else it would find the LOCK still held). */
  closing: Promise<void>;
  users: number;
}

/** A store directory opened for the duration of the requests using it (see the module comment). */
export const storeAtPath = (path: string, open: StoreOpener): StoreAccess => {
  const shared: Shared = { opening: undefined, closing: Promise.resolve(), users: 0 };
  return {
    use: async (f) => {
      shared.users++;
      try {
        shared.opening ??= shared.closing.then(() => open(path));
        const opened = await shared.opening;
        if (E.isLeft(opened)) {
          // Retry on the next request (the other process may be gone by then).
          if (shared.users === 1) shared.opening = undefined;
          return opened;
        }
        return E.right(await f(opened.right));
      } finally {
        shared.users--;
        if (shared.users === 0) {
          shared.closing = closeShared(shared);
          await shared.closing;
        }
      }
    },
  };
};

const closeShared = async (shared: Shared): Promise<void> => {
  const opening = shared.opening;
  shared.opening = undefined;
  if (opening === undefined) return;
  const opened = await opening;
  if (E.isRight(opened)) await opened.right.close();
};
