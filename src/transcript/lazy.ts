/**
 * Lazily loaded parts of a transcript, and how their read failures travel.
 *
 * A store rebuilds a long transcript from a snapshot without reading its
 * messages (`vecFromLazy`); each chunk is read, checked against its id and
 * decoded the first time something needs it. That read can fail long after the
 * load returned: a chunk missing or altered on disk, the store closed, an I/O
 * error. The loader (the store) throws a `LazyReadFailure` carrying one of the
 * `LazyReadError` values below; nothing in the pure layers catches it except
 * `readLazily`, which turns it back into a `Left`. Every `Either`-returning
 * `Session` method and the `Session.read*` readers go through `readLazily`, so a
 * caller of those meets the failure as a value.
 */
import * as E from 'fp-ts/lib/Either.js';

/**
 * A stored chunk of a lazily loaded list is missing or does not hash to its id
 * (the store's `CorruptRecord`: `sessionId` and `seq` name the snapshot the list
 * came from, `reason` what disagreed).
 */
export interface LazyChunkCorrupt {
  readonly _tag: 'CorruptRecord';
  readonly sessionId: string;
  readonly seq: number;
  readonly reason: string;
  readonly message: string;
}

/** The store the list is read from was closed, is locked by another process, or failed an I/O read (`path`: the store). */
export interface LazyStoreUnavailable {
  readonly _tag: 'StoreClosed' | 'StoreLocked' | 'StoreIoError';
  readonly path: string;
  readonly message: string;
}

/** Why a lazily loaded part of a transcript could not be read; the same values as the store's errors of these tags. */
export type LazyReadError = LazyChunkCorrupt | LazyStoreUnavailable;

/**
 * Thrown (never returned) by a lazy loader when it cannot produce its elements.
 * Its own fields are the error's (`_tag`, `message`, …), so code that reports
 * thrown tagged objects reports it as that error. Catch it only with
 * `readLazily` (or at a store boundary) and hand on `error` as a `Left`.
 */
export class LazyReadFailure<Err extends LazyReadError = LazyReadError> extends Error {
  readonly _tag: Err['_tag'];
  readonly error: Err;
  constructor(error: Err) {
    super(error.message);
    this.name = 'LazyReadFailure';
    Object.assign(this, error);
    this._tag = error._tag;
    this.error = error;
  }
}

/** Whether `e` is a `LazyReadFailure`. */
export const isLazyReadFailure = (e: unknown): e is LazyReadFailure => e instanceof LazyReadFailure;

/**
 * `Right(read())`, or `Left(error)` when `read` needed a lazily loaded element
 * that could not be read. Any other exception propagates (it is a bug).
 */
export const readLazily = <A>(read: () => A): E.Either<LazyReadError, A> => {
  try {
    return E.right(read());
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
};
