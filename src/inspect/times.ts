/**
 * Original times: when the events of an imported session's records happened
 * (pi's entry times, ms since the epoch), as opposed to `at`, when the import
 * wrote each record. They live in the import's times blob
 * (`adapters/pi/provenance.ts`), named by the session's `pi.imported` metadata;
 * `palimpsest log` reads the same blob.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../model/json.ts';
import { parseTimesBlob, piImportStatus } from '../adapters/pi/provenance.ts';
import type { SessionStore, StoreError } from '../store/index.ts';

/**
 * The original times of `sessionId` (whose newest metadata is `metadata`),
 * indexed by `seq - 1`; `undefined` for a session no completed import wrote.
 * Errors: `BlobNotFound`, and `CorruptBlob` for a blob that is not this
 * session's times list (fail closed).
 */
export const originalTimes = async (store: SessionStore, sessionId: string, metadata: Readonly<Record<string, Json>>): Promise<E.Either<StoreError, readonly number[] | undefined>> => {
  const st = piImportStatus(sessionId, metadata);
  if (st.kind !== 'complete' || st.imported.times === undefined) return E.right(undefined);
  const blob = st.imported.times;
  const b = await store.getBlob(blob);
  if (E.isLeft(b)) return b;
  const times = parseTimesBlob(sessionId, b.right.bytes);
  return times === undefined ? E.left({ _tag: 'CorruptBlob', blobId: blob, reason: 'not a times list', message: `blob ${blob} is not the original times of ${sessionId}` }) : E.right(times);
};
