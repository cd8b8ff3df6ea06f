/**
 * `readLazy`: runs a read of a loaded session's lazily stored parts (messages,
 * revisions) and turns the store's `LazyReadFailure` (a missing or corrupt
 * chunk, a closed store) into `Left`, so a corrupt store fails closed as a value.
 */
import * as E from 'fp-ts/lib/Either.js';
import { isLazyReadFailure, type StoreError } from '../store/index.ts';

/** `Right(f())`, or `Left(error)` when `f` hit a lazy read failure; other exceptions propagate (bugs). */
export const readLazy = <A>(f: () => A): E.Either<StoreError, A> => {
  try {
    return E.right(f());
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
};
