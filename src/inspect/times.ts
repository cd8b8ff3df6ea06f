/**
 * Original times: when the events of an imported session's records happened
 * (pi's entry times, ms since the epoch), as opposed to `at`, when the import
 * wrote each record. They live in the import's times blob — one blob, or a
 * manifest of parts for a long session (`adapters/pi/provenance.ts`) — named
 * by the session's `pi.imported` metadata; `palimpsest log` reads the same
 * blobs.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../model/json.ts';
import type { BlobId } from '../model/scalars.ts';
import { parseTimesIndex, parseTimesPart, piImportStatus } from '../adapters/pi/provenance.ts';
import type { SessionStore, StoreError } from '../store/index.ts';

const notTimes = (blob: BlobId, sessionId: string, why: string): StoreError => ({ _tag: 'CorruptBlob', blobId: blob, reason: why, message: `blob ${blob} is not the original times of ${sessionId}: ${why}` });

/**
 * The times of a v2 manifest's `parts`, in order, checked: each part is one of
 * `sessionId`'s starting where the previous ended, and they hold `count` times
 * in all. Errors: `BlobNotFound`, `CorruptBlob` (naming `manifest` when the
 * parts do not add up).
 */
const readParts = async (store: SessionStore, sessionId: string, manifest: BlobId, count: number, parts: readonly BlobId[]): Promise<E.Either<StoreError, readonly number[]>> => {
  const times: number[] = [];
  for (const part of parts) {
    const b = await store.getBlob(part);
    if (E.isLeft(b)) return b;
    const list = parseTimesPart(sessionId, times.length, b.right.bytes);
    if (list === undefined) return E.left(notTimes(part, sessionId, `not its times part from record ${times.length + 1}`));
    if (times.length + list.length > count) return E.left(notTimes(manifest, sessionId, `its parts hold more than ${count} times`));
    for (const t of list) times.push(t);
  }
  return times.length === count ? E.right(times) : E.left(notTimes(manifest, sessionId, `its parts hold ${times.length} times, not ${count}`));
};

/**
 * The original times of `sessionId` (whose newest metadata is `metadata`),
 * indexed by `seq - 1`; `undefined` for a session no completed import wrote.
 * Reads both layouts (the single blob, and a manifest with its parts).
 * Errors: `BlobNotFound`, and `CorruptBlob` for a blob that is not this
 * session's times list or part, or parts that do not add up to the manifest's
 * count (fail closed).
 */
export const originalTimes = async (store: SessionStore, sessionId: string, metadata: Readonly<Record<string, Json>>): Promise<E.Either<StoreError, readonly number[] | undefined>> => {
  const st = piImportStatus(sessionId, metadata);
  if (st.kind !== 'complete' || st.imported.times === undefined) return E.right(undefined);
  const blob = st.imported.times;
  const b = await store.getBlob(blob);
  if (E.isLeft(b)) return b;
  const index = parseTimesIndex(sessionId, b.right.bytes);
  if (index === undefined) return E.left(notTimes(blob, sessionId, 'not a times list'));
  return index.kind === 'times' ? E.right(index.times) : readParts(store, sessionId, blob, index.count, index.parts);
};
