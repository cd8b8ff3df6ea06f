/**
 * Blobs (model.md §7.2): stored under `B/<blobId>` as `UTF-8(mediaType) 0x00
 * bytes`, so the blob id is the SHA-256 of the stored value and a read checks it.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../model/decode.ts';
import { BlobMediaTypeCodec } from '../model/content.ts';
import { isDigest, type BlobId } from '../model/scalars.ts';
import { sha256OfBytes } from './chunks.ts';
import { blobNotFound, corruptBlob, invalidArgument, type StoreError } from './errors.ts';
import { keys } from './layout.ts';
import { guard, type StoreContext } from './context.ts';
import type { StoredBlob } from './store.ts';

/** The start of a stored blob value: `UTF-8(mediaType) 0x00` (the bytes follow). */
export const blobValueHead = (mediaType: string): Uint8Array => {
  const mt = new TextEncoder().encode(mediaType);
  const head = new Uint8Array(mt.length + 1);
  head.set(mt, 0);
  return head;
};

/** Whether the bytes right before the view `bytes` in its buffer are `head`. */
const precededBy = (bytes: Uint8Array, head: Uint8Array): boolean => {
  if (bytes.byteOffset < head.length) return false;
  const before = new Uint8Array(bytes.buffer, bytes.byteOffset - head.length, head.length);
  for (let i = 0; i < head.length; i++) if (before[i] !== head[i]) return false;
  return true;
};

/**
 * `store.putBlob`: idempotent. The stored value is `blobValueHead(mediaType)`
 * then the bytes; when `bytes` is a view whose buffer already holds that head
 * right before it (a caller that built a large blob in place, e.g. the pi
 * import's times), the value is that region of the buffer, not a copy.
 */
export const putBlob = (ctx: StoreContext, mediaType: string, bytes: Uint8Array): Promise<E.Either<StoreError, BlobId>> =>
  guard(ctx, async () => {
    const mt = decodeWith(BlobMediaTypeCodec, mediaType);
    if (E.isLeft(mt)) return E.left(invalidArgument('mediaType', mt.left.message));
    if (!(bytes instanceof Uint8Array)) return E.left(invalidArgument('bytes', 'expected a Uint8Array'));
    const head = blobValueHead(mt.right);
    let value: Uint8Array;
    if (precededBy(bytes, head)) value = new Uint8Array(bytes.buffer, bytes.byteOffset - head.length, head.length + bytes.length);
    else {
      value = new Uint8Array(head.length + bytes.length);
      value.set(head, 0);
      value.set(bytes, head.length);
    }
    const id = sha256OfBytes(value);
    const w = await ctx.io.batch([{ key: keys.blob(id), bytes: value }]);
    return E.isLeft(w) ? w : E.right(id);
  });

/** `store.getBlob`: `BlobNotFound`, `CorruptBlob`. */
export const getBlob = (ctx: StoreContext, blobId: BlobId): Promise<E.Either<StoreError, StoredBlob>> =>
  guard(ctx, async () => {
    if (!isDigest(blobId)) return E.left(invalidArgument('blobId', 'expected sha256:<64 lowercase hex>'));
    const raw = await ctx.io.getBytes(keys.blob(blobId));
    if (E.isLeft(raw)) return raw;
    if (raw.right === undefined) return E.left(blobNotFound(blobId));
    const value = raw.right;
    if (sha256OfBytes(value) !== blobId) return E.left(corruptBlob(blobId, 'the stored bytes do not hash to the blob id'));
    const sep = value.indexOf(0);
    if (sep <= 0) return E.left(corruptBlob(blobId, 'no media type before the 0x00 separator'));
    let mediaType: string;
    try {
      mediaType = new TextDecoder('utf-8', { fatal: true }).decode(value.subarray(0, sep));
    } catch {
      return E.left(corruptBlob(blobId, 'the media type is not UTF-8'));
    }
    return E.right({ mediaType, bytes: Uint8Array.from(value.subarray(sep + 1)) });
  });
