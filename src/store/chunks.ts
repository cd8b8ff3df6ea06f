/**
 * Chunked persistent lists (see `layout.ts`, "Snapshots and chunks").
 *
 * A list of `n` items is stored as `floor(n / 256)` full chunks chained by
 * `prev`, plus a tail of `n mod 256` items kept inline in the snapshot:
 *
 *     Chunk   = { v: 1, prev?: ChunkId, items: T[256] }     // canonical JSON
 *     ChunkId = "sha256:" + hex(SHA-256(chunk bytes))
 *     ListRef = { count, last?: ChunkId, tail: T[] }        // in the snapshot
 *
 * Chunks are content-addressed: equal prefixes give equal chunk ids, so
 * consecutive snapshots and forks share them. Re-hashing every chunk at every
 * snapshot would cost O(list length); a `ListMemo` remembers the chunk ids of a
 * list written (or read) before together with an identity *key* per chunk, and
 * chunk `i` is reused while its key is still the same value (`===`). The key of a
 * chunk must change whenever any item at or below it changes; the callers pick
 * keys with that property (see `snapshot.ts`).
 */
import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { arrayOf, decodeWith, literal, nat, strict, type Codec } from '../model/decode.ts';
import { canonicalJsonUnsafe } from '../model/json.ts';
import { DigestCodec, type Digest } from '../model/scalars.ts';

/** Items per chunk; equals the transcript's checkpoint interval (K of model.md §7.4). */
export const CHUNK_SIZE = 256;
/** Chunk format version. */
export const CHUNK_VERSION = 1 as const;

/** A chunk id: `sha256:<64 hex>` of the chunk's canonical JSON bytes. */
export type ChunkId = Digest;

/** A list as a snapshot references it: `count` items, the last full chunk (when `count >= 256`) and the inline tail. */
export interface ListRef<T> {
  readonly count: number;
  readonly last?: ChunkId;
  readonly tail: readonly T[];
}

/** The codec of a `ListRef` of `item`s. */
export const listRefCodec = <T>(name: string, item: Codec<T>): Codec<ListRef<T>> =>
  strict(name, { count: nat, tail: arrayOf(item, { name: `${name}.tail` }) }, { last: DigestCodec }) as unknown as Codec<ListRef<T>>;

/** A chunk to write: its id (key `C/<id>`) and its canonical JSON value. */
export interface StoredChunk {
  readonly id: ChunkId;
  readonly value: string;
}

/** Chunk ids of a list's full chunks, each with the identity key it was built from. Immutable. */
export interface ListMemo {
  readonly ids: readonly ChunkId[];
  readonly keys: readonly unknown[];
}

/** The memo of a list with no known chunks. */
export const emptyListMemo: ListMemo = Object.freeze({ ids: Object.freeze([]), keys: Object.freeze([]) });

/** `sha256:<hex>` of a string's UTF-8 bytes (node's native SHA-256). */
export const sha256OfString = (s: string): Digest => `sha256:${createHash('sha256').update(s, 'utf8').digest('hex')}`;

/** `sha256:<hex>` of bytes (node's native SHA-256). */
export const sha256OfBytes = (b: Uint8Array): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Builds one chunk's canonical JSON and id. */
export const makeChunk = (prev: ChunkId | undefined, items: readonly unknown[]): StoredChunk => {
  const value = canonicalJsonUnsafe({ v: CHUNK_VERSION, ...(prev !== undefined ? { prev } : {}), items });
  return { id: sha256OfString(value), value };
};

/** What `encodeList` produced: the reference, the chunks not in the memo, and the memo of the result. */
export interface EncodedList<T> {
  readonly ref: ListRef<T>;
  readonly chunks: readonly StoredChunk[];
  readonly memo: ListMemo;
}

/**
 * Chunks a list of `size` items. `slice(start, end)` returns items `[start, end)`;
 * `keyOf(i)` is the identity key of full chunk `i`. Chunks `0..r-1` whose key is
 * `===` the memo's are reused (`r` = the first mismatch); the rest are built.
 * Cost: O(chunks) key comparisons + O(items in rebuilt chunks and the tail).
 */
export const encodeList = <T>(size: number, slice: (start: number, end: number) => readonly T[], keyOf: (i: number) => unknown, memo: ListMemo): EncodedList<T> => {
  const full = Math.floor(size / CHUNK_SIZE);
  let reuse = 0;
  while (reuse < full && reuse < memo.ids.length && memo.keys[reuse] === keyOf(reuse)) reuse++;
  const ids = memo.ids.slice(0, reuse) as ChunkId[];
  const ks = memo.keys.slice(0, reuse) as unknown[];
  const chunks: StoredChunk[] = [];
  for (let i = reuse; i < full; i++) {
    const c = makeChunk(ids[i - 1], slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE));
    chunks.push(c);
    ids.push(c.id);
    ks.push(keyOf(i));
  }
  const last = ids[full - 1];
  return {
    ref: { count: size, ...(last !== undefined ? { last } : {}), tail: slice(full * CHUNK_SIZE, size) },
    chunks,
    memo: { ids, keys: ks },
  };
};

/** Why a list could not be read back. `io` carries a storage failure through unchanged. */
export type ListReadFailure<Err> = { readonly type: 'corrupt'; readonly reason: string } | { readonly type: 'io'; readonly error: Err };

/**
 * Reads a list back: follows `ref.last` through `prev` links (each chunk's bytes
 * must hash to its id, decode with the strict chunk codec, hold 256 items and
 * chain to exactly `floor(count / 256)` chunks), then appends the tail.
 * Returns the items and the chunk ids in order.
 */
export const readList = async <T, Err>(
  name: string,
  ref: ListRef<T>,
  item: Codec<T>,
  getChunk: (id: ChunkId) => Promise<E.Either<Err, string | undefined>>,
): Promise<E.Either<ListReadFailure<Err>, { readonly items: T[]; readonly ids: ChunkId[] }>> => {
  const corrupt = (reason: string) => E.left({ type: 'corrupt' as const, reason: `${name}: ${reason}` });
  const full = Math.floor(ref.count / CHUNK_SIZE);
  if (ref.tail.length !== ref.count - full * CHUNK_SIZE) return corrupt(`count ${ref.count} needs a tail of ${ref.count - full * CHUNK_SIZE} items, found ${ref.tail.length}`);
  if ((full > 0) !== (ref.last !== undefined)) return corrupt(full > 0 ? `count ${ref.count} needs a chunk reference` : `count ${ref.count} has no full chunk, yet names one`);
  const codec = strict(`${name}Chunk`, { v: literal(CHUNK_VERSION), items: arrayOf(item, { name: `${name}.items` }) }, { prev: DigestCodec });
  const parts: T[][] = new Array<T[]>(full);
  const ids: ChunkId[] = new Array<ChunkId>(full);
  let id: ChunkId | undefined = ref.last;
  for (let i = full - 1; i >= 0; i--) {
    if (id === undefined) return corrupt(`the chunk chain ends after ${full - 1 - i} chunks, ${full} expected`);
    const raw = await getChunk(id);
    if (E.isLeft(raw)) return E.left({ type: 'io' as const, error: raw.left });
    if (raw.right === undefined) return corrupt(`chunk ${id} is missing`);
    if (sha256OfString(raw.right) !== id) return corrupt(`chunk ${id} does not hash to its id`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.right);
    } catch (e) {
      return corrupt(`chunk ${id} is not JSON (${(e as Error).message})`);
    }
    const decoded = decodeWith(codec, parsed);
    if (E.isLeft(decoded)) return corrupt(`chunk ${id}: ${decoded.left.message}`);
    if (decoded.right.items.length !== CHUNK_SIZE) return corrupt(`chunk ${id} holds ${decoded.right.items.length} items, not ${CHUNK_SIZE}`);
    parts[i] = decoded.right.items;
    ids[i] = id;
    id = decoded.right.prev;
  }
  if (id !== undefined) return corrupt(`the chunk chain is longer than the ${full} chunks its count allows`);
  const items: T[] = [];
  for (const p of parts) for (const x of p) items.push(x);
  for (const x of ref.tail) items.push(x);
  return E.right({ items, ids });
};
