/**
 * Chunked persistent lists (see `layout.ts`, "Snapshots and chunks").
 *
 * A list of `n` items is stored as `floor(n / 256)` full chunks chained by
 * `prev`, plus a tail of `n mod 256` items kept inline in the snapshot:
 *
 *     Chunk   = { v: 1, prev?: ChunkId, items: T[256] }     // canonical JSON
 *     ChunkId = "sha256:" + hex(SHA-256(chunk bytes))
 *     ListRef = { count, last?: ChunkId, index?: NodeId, tail: T[] }   // in the snapshot
 *
 * `index` (snapshot format v2) is the root of the list's chunk-id index
 * (`chunkIndex.ts`), present exactly when there is a full chunk.
 *
 * Chunks are content-addressed: equal prefixes give equal chunk ids, so
 * consecutive snapshots and forks share them. Re-hashing every chunk at every
 * snapshot would cost O(list length); a `ListMemo` remembers the chunk ids of a
 * list written (or read) before together with an identity *key* per chunk, and
 * chunk `i` is reused while its key is still the same value (`===`). The key of a
 * chunk must change whenever any item at or below it changes; the callers pick
 * keys with that property (see `snapshot.ts`).
 *
 * ## Reading
 *
 * `lazyChunks` reads a list's full chunks on demand, synchronously (LevelDB `getSync`), for the lazily loaded
 * transcript: a v2 snapshot names the list's chunk-id index (`chunkIndex.ts`),
 * so chunk `i`'s id takes O(log n) node reads; a v1 snapshot names only the
 * last chunk, so chunk `i`'s id is learnt
 * by walking the `prev` links down from the lowest chunk known so far (each
 * chunk on the way is read and hashed, its `prev` taken from the canonical JSON's
 * fixed suffix; the ids are kept, so the walk is paid once per loaded list). A
 * chunk's items are read, hashed, parsed, checked (decoded, or for messages
 * only "a JSON object": see `lazyChunks`) and prepared only when asked for (a chunk the walk read and hashed is parsed from those same bytes while
 * the GC keeps them, through a `WeakRef`, instead of being read and hashed again). Every failure is thrown as a `LazyReadFailure` carrying the `StoreError`
 * (`CorruptRecord` naming the session and snapshot seq for a missing or corrupt
 * chunk; what the reader threw for a closed store or an I/O failure).
 */
import { sha256OfBytes, sha256OfUtf8 } from '../model/hashing.ts';
import * as E from 'fp-ts/lib/Either.js';
import { arrayOf, decodeWith, nat, strict, type Codec } from '../model/decode.ts';
import { canonicalJsonUnsafe } from '../model/json.ts';
import { DigestCodec, isDigest, type Digest } from '../model/scalars.ts';
import type { StoreError } from './errors.ts';
import type { LazyReadFailure } from '../transcript/lazy.ts';
import { buildIndex, indexReader, type IndexMemo, type NodeId } from './chunkIndex.ts';

/** Items per chunk; equals the transcript's checkpoint interval (K of model.md §7.4). */
export const CHUNK_SIZE = 256;
/** Chunk format version. */
export const CHUNK_VERSION = 1 as const;

/** A chunk id: `sha256:<64 hex>` of the chunk's canonical JSON bytes. */
export type ChunkId = Digest;

/**
 * A list as a snapshot references it: `count` items, the last full chunk (when
 * `count >= 256`), the root of its chunk-id index (`chunkIndex.ts`; snapshot
 * format v2, when `count >= 256`) and the inline tail.
 */
export interface ListRef<T> {
  readonly count: number;
  readonly last?: ChunkId;
  readonly index?: NodeId;
  readonly tail: readonly T[];
}

/** The codec of a `ListRef` of `item`s. */
export const listRefCodec = <T>(name: string, item: Codec<T>): Codec<ListRef<T>> =>
  strict(name, { count: nat, tail: arrayOf(item, { name: `${name}.tail` }) }, { last: DigestCodec, index: DigestCodec }) as unknown as Codec<ListRef<T>>;

/** A chunk to write: its id (key `C/<id>`) and its canonical JSON value. */
export interface StoredChunk {
  readonly id: ChunkId;
  readonly value: string;
}

/**
 * Chunk ids of a list's full chunks, each with the identity key it was built
 * from. Immutable. A list loaded lazily knows neither its older chunk ids nor
 * their keys up front: such entries of `ids` / `keys` are missing (holes) and
 * `resolve` gives them (`id` walks the chain and may throw `LazyReadFailure`;
 * `key` reads nothing).
 */
export interface ListMemo {
  readonly ids: readonly (ChunkId | undefined)[];
  readonly keys: readonly unknown[];
  readonly resolve?: { readonly id: (i: number) => ChunkId; readonly key: (i: number) => unknown };
  /** The chunk-id index of these chunks, when one was built or read (`chunkIndex.ts`). */
  readonly index?: IndexMemo;
}

/** The memo of a list with no known chunks. */
export const emptyListMemo: ListMemo = Object.freeze({ ids: Object.freeze([]), keys: Object.freeze([]) });

/** `sha256:<hex>` of a string's UTF-8 bytes (the hashing port). */
export const sha256OfString = (s: string): Digest => sha256OfUtf8(s);

export { sha256OfBytes };

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
 * With `indexed` (snapshot format v2) the list also gets its chunk-id index
 * (`buildIndex`: the memo's nodes below `r` are kept, the right spine built),
 * its nodes returned among `chunks`.
 * Cost: O(chunks) key comparisons + O(items in rebuilt chunks and the tail) + O(index nodes built).
 */
export const encodeList = <T>(size: number, slice: (start: number, end: number) => readonly T[], keyOf: (i: number) => unknown, memo: ListMemo, indexed = true): EncodedList<T> => {
  const full = Math.floor(size / CHUNK_SIZE);
  const { resolve } = memo;
  const memoKey = (i: number): unknown => memo.keys[i] ?? resolve?.key(i);
  let reuse = 0;
  while (reuse < full && reuse < memo.keys.length && memoKey(reuse) === keyOf(reuse)) reuse++;
  const ids = memo.ids.slice(0, reuse) as Array<ChunkId | undefined>;
  const ks = memo.keys.slice(0, reuse) as unknown[];
  const idAt = (i: number): ChunkId => {
    let id = ids[i];
    if (id === undefined) {
      if (resolve === undefined) throw new Error(`chunk memo invariant broken: no id for chunk ${i}`);
      id = ids[i] = resolve.id(i);
    }
    return id;
  };
  const chunks: StoredChunk[] = [];
  for (let i = reuse; i < full; i++) {
    const c = makeChunk(i > 0 ? idAt(i - 1) : undefined, slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE));
    chunks.push(c);
    ids.push(c.id);
    ks.push(keyOf(i));
  }
  const last = full > 0 ? idAt(full - 1) : undefined;
  const index = indexed && full > 0 ? buildIndex(full, reuse, idAt, memo.index) : undefined;
  if (index !== undefined) for (const n of index.nodes) chunks.push(n);
  return {
    ref: { count: size, ...(last !== undefined ? { last } : {}), ...(index !== undefined ? { index: index.root } : {}), tail: slice(full * CHUNK_SIZE, size) },
    chunks,
    memo: { ids, keys: ks, ...(resolve !== undefined ? { resolve } : {}), ...(index !== undefined ? { index: index.memo } : {}) },
  };
};

/**
 * Checks one stored chunk `id` whose value is `raw`: present, hashes to its id,
 * its envelope (`parseEnvelope`), every item decodes with `items` (the item
 * array codec). `Left(reason)`.
 */
const checkChunk = <T>(id: ChunkId, raw: string | undefined, items: Codec<T[]>): E.Either<string, { readonly items: T[]; readonly prev: ChunkId | undefined }> => {
  if (raw === undefined) return E.left(`chunk ${id} is missing`);
  if (sha256OfString(raw) !== id) return E.left(`chunk ${id} does not hash to its id`);
  const c = parseEnvelope(id, raw);
  if (E.isLeft(c)) return c;
  const decoded = decodeWith(items, c.right.items);
  return E.isLeft(decoded) ? E.left(`chunk ${id}: ${decoded.left.message}`) : E.right({ items: decoded.right, prev: c.right.prev });
};

/** Why `ref` does not fit its count (the tail length, a `last` exactly when there is a full chunk), or `undefined`. */
export const refShapeProblem = (ref: { readonly count: number; readonly last?: ChunkId; readonly tail: readonly unknown[] }): string | undefined => {
  const full = Math.floor(ref.count / CHUNK_SIZE);
  if (ref.tail.length !== ref.count - full * CHUNK_SIZE) return `count ${ref.count} needs a tail of ${ref.count - full * CHUNK_SIZE} items, found ${ref.tail.length}`;
  if ((full > 0) !== (ref.last !== undefined)) return full > 0 ? `count ${ref.count} needs a chunk reference` : `count ${ref.count} has no full chunk, yet names one`;
  return undefined;
};


// ---- lazy reading -------------------------------------------------------------

/**
 * A lazily loaded list that cannot be read throws `LazyReadFailure` (defined
 * with the lazy vector, `transcript/lazy.ts`) carrying the `StoreError`:
 * `CorruptRecord { sessionId, seq }` of the snapshot the list came from for a
 * missing or corrupt chunk, `StoreClosed` once the store is closed,
 * `StoreIoError`. The store's functions and the `Session` readers turn it into
 * `Left(error)`.
 */
export { LazyReadFailure, isLazyReadFailure, readLazily } from '../transcript/lazy.ts';

/** Items the persistent vector holds per leaf; a chunk is decoded a leaf at a time. */
export const LEAF_SIZE = 32;
const LEAVES_PER_CHUNK = CHUNK_SIZE / LEAF_SIZE;

/** A chunk's envelope, parsed: its items not yet decoded, its `prev`. */
interface ParsedChunk {
  readonly items: readonly unknown[];
  readonly prev: ChunkId | undefined;
}

/** A chunk's bytes (already hashed to `id`) parsed: JSON, only `v: 1`, `items` (exactly 256) and an optional digest `prev`. */
const parseEnvelope = (id: ChunkId, raw: string): E.Either<string, ParsedChunk> => {
  let p: unknown;
  try {
    p = JSON.parse(raw);
  } catch (e) {
    return E.left(`chunk ${id} is not JSON (${(e as Error).message})`);
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return E.left(`chunk ${id} is not an object`);
  const o = p as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'v' && k !== 'items' && k !== 'prev') return E.left(`chunk ${id} has an unknown member ${JSON.stringify(k)}`);
  if (o.v !== CHUNK_VERSION) return E.left(`chunk ${id} is not a v${CHUNK_VERSION} chunk`);
  if (o.prev !== undefined && !isDigest(o.prev)) return E.left(`chunk ${id} has a prev that is not a chunk id`);
  if (!Array.isArray(o.items) || o.items.length !== CHUNK_SIZE) return E.left(`chunk ${id} holds ${Array.isArray(o.items) ? o.items.length : 'no'} items, not ${CHUNK_SIZE}`);
  return E.right({ items: o.items, prev: o.prev as ChunkId | undefined });
};

/** Reads a chunk's stored value synchronously (`undefined` when absent); throws `LazyReadFailure` for a closed store or an I/O failure. */
export type SyncChunkReader = (id: ChunkId) => string | undefined;

/** The full chunks of a persisted list, read on demand (see "Reading"). */
export interface LazyChunks<U> {
  /** Number of full chunks. */
  readonly full: number;
  /** The id of chunk `i` (`0 <= i < full`): through the index (O(log n) node reads), else walks the chain down to it the first time. */
  id(i: number): ChunkId;
  /**
   * Items `[32k, 32k + 32)` of the list (leaf `k` of the persistent vector, in
   * full chunk `floor(k / 8)`): the chunk read, hashed against its id, parsed and
   * linked (once while it is held), then only these 32 items checked (as
   * `items` says) and prepared (not memoized: the vector keeps them).
   */
  leaf(k: number): readonly U[];
  /** Items `[from, to)` of leaf `k` (`0 <= from < to <= 32`), read, checked and prepared as `leaf` does with the whole leaf. */
  leafRange(k: number, from: number, to: number): readonly U[];
  /** The memo of the list's index, when the snapshot names one (reads nothing). */
  readonly index?: IndexMemo;
}

const PREV_SUFFIX = /^,"prev":"(sha256:[0-9a-f]{64})","v":1\}$/;
const NO_PREV_SUFFIX = '],"v":1}';
const PREV_SUFFIX_LENGTH = ',"prev":"sha256:'.length + 64 + '","v":1}'.length;

/**
 * The `prev` of a chunk from its canonical JSON (keys sorted: `items`, `prev`,
 * `v`, so it is the fixed-length suffix), `null` when it has none, `undefined`
 * when the value does not end like a chunk. Only for bytes that hashed to their id.
 */
const prevOf = (raw: string): ChunkId | null | undefined => {
  const m = PREV_SUFFIX.exec(raw.slice(-PREV_SUFFIX_LENGTH));
  if (m !== null) return m[1] as ChunkId;
  return raw.endsWith(NO_PREV_SUFFIX) ? null : undefined;
};

/**
 * The full chunks of the list `ref` (of `name`), read through `read` on demand,
 * a leaf of 32 items at a time. `prepare(items, first, before)` turns the
 * decoded items of a leaf starting at list index `first` (`before`: the parsed,
 * undecoded item before it in the same chunk, if any) into what the caller keeps
 * (freezing, importing, position checks: `Left(reason)` is corruption). `fail`
 * builds the failure for a corruption reason (prefixed with `name`). `ref` must
 * have passed `refShapeProblem`.
 *
 * With `ref.index` (snapshot format v2) chunk ids come from the index
 * (`chunkIndex.ts`); the index is checked against the chain it stands for
 * before any id from it is used (its last id must be `ref.last`) and as chunks
 * are read (chunk `i`'s `prev` must be the index's id of chunk `i - 1`).
 * Without one, ids are learnt by walking `prev` links down from `ref.last`.
 */
export const lazyChunks = <T, U>(opts: {
  readonly name: string;
  readonly ref: { readonly count: number; readonly last?: ChunkId; readonly index?: NodeId };
  /**
   * How a leaf's items are checked: `{ codec }` decodes them on every leaf read;
   * `'id'` takes the items of a chunk whose bytes hashed to its id as written
   * (only "each item is a JSON object" is checked): the list's writer decoded
   * them, and no byte of a chunk can change without its id changing (see
   * ARCHITECTURE.md, "Lazy loads", for what this trusts).
   */
  readonly items: { readonly codec: Codec<T> } | 'id';
  readonly read: SyncChunkReader;
  readonly fail: (reason: string) => LazyReadFailure;
  readonly prepare: (items: T[], first: number, before: unknown) => E.Either<string, readonly U[]>;
}): LazyChunks<U> => {
  const { name, read, fail, prepare } = opts;
  const full = Math.floor(opts.ref.count / CHUNK_SIZE);
  const leafCodec = opts.items === 'id' ? undefined : arrayOf(opts.items.codec, { name: `${name}.items` });
  const ids = new Array<ChunkId | undefined>(full);
  if (full > 0) ids[full - 1] = opts.ref.last;
  let low = full - 1; // without an index: ids[low .. full-1] are known
  // The bytes of chunks the walk read and hashed, for `items` while the GC leaves them (a walk is
  // often followed by reading those chunks, e.g. every message): not read or hashed a second time.
  const walked = new Map<number, WeakRef<{ readonly raw: string }>>();
  const corrupt = (reason: string) => fail(`${name}: ${reason}`);
  const index = full > 0 && opts.ref.index !== undefined ? indexReader(full, opts.ref.index, read, corrupt) : undefined;
  let indexChecked = false;
  const fetch = (cid: ChunkId): string => {
    const raw = read(cid);
    if (raw === undefined) throw corrupt(`chunk ${cid} is missing`);
    if (sha256OfString(raw) !== cid) throw corrupt(`chunk ${cid} does not hash to its id`);
    return raw;
  };
  const indexed = (i: number, reader: NonNullable<typeof index>): ChunkId => {
    if (!indexChecked) {
      const last = reader.chunkId(full - 1);
      if (last !== opts.ref.last) throw corrupt(`the index names ${last} as the last chunk, the list reference ${opts.ref.last}`);
      indexChecked = true;
    }
    return (ids[i] = reader.chunkId(i));
  };
  const id = (i: number): ChunkId => {
    if (!Number.isInteger(i) || i < 0 || i >= full) throw new RangeError(`${name}: no chunk ${i} (the list has ${full})`);
    const known = ids[i]; // with an index: the snapshot's own `last`, or an id read through the checked index
    if (known !== undefined) return known;
    if (index !== undefined) return indexed(i, index);
    while (low > i) {
      const cid = ids[low]!;
      const raw = fetch(cid);
      walked.set(low, new WeakRef({ raw }));
      const prev = prevOf(raw);
      if (prev === undefined) throw corrupt(`chunk ${cid} is not a chunk`);
      if (prev === null) throw corrupt(`the chunk chain ends after ${full - low} chunks, ${full} expected`);
      ids[low - 1] = prev;
      low--;
    }
    return ids[i]!;
  };
  // Chunks parsed for `leaf`: the last one held, the others while the GC leaves them (a chunk's
  // eight leaves are usually read together, e.g. every message, or the few a fork needs).
  const parsed = new Map<number, WeakRef<ParsedChunk>>();
  let recent: { readonly i: number; readonly chunk: ParsedChunk } | undefined;
  const chunk = (i: number): ParsedChunk => {
    if (recent?.i === i) return recent.chunk;
    const held = parsed.get(i)?.deref();
    if (held !== undefined) {
      recent = { i, chunk: held };
      return held;
    }
    const cid = id(i);
    const known = walked.get(i)?.deref();
    walked.delete(i);
    const raw = known?.raw ?? read(cid);
    if (raw === undefined) throw corrupt(`chunk ${cid} is missing`);
    if (known === undefined && sha256OfString(raw) !== cid) throw corrupt(`chunk ${cid} does not hash to its id`);
    const c = parseEnvelope(cid, raw);
    if (E.isLeft(c)) throw corrupt(c.left);
    const prev = c.right.prev;
    if (i === 0 && prev !== undefined) throw corrupt(`the chunk chain is longer than the ${full} chunks its count allows`);
    if (i > 0) {
      if (prev === undefined) throw corrupt(`the chunk chain ends after ${full - i} chunks, ${full} expected`);
      if (index !== undefined) {
        const expected = id(i - 1);
        if (expected !== prev) throw corrupt(`chunk ${cid} links to ${prev}, the index says chunk ${i - 1} is ${expected}`);
      } else if (low === i) {
        ids[i - 1] = prev;
        low = i - 1;
      } else if (ids[i - 1] !== prev) throw corrupt(`chunk ${cid} links to ${prev}, the chain says ${ids[i - 1]}`);
    }
    parsed.set(i, new WeakRef(c.right));
    recent = { i, chunk: c.right };
    return c.right;
  };
  const leafRange = (k: number, from: number, to: number): readonly U[] => {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > LEAF_SIZE || from >= to) throw new RangeError(`${name}: no items [${from}, ${to}) in a leaf`);
    const i = Math.floor(k / LEAVES_PER_CHUNK);
    const c = chunk(i);
    const offset = (k % LEAVES_PER_CHUNK) * LEAF_SIZE + from;
    const items = c.items.slice(offset, offset + to - from);
    let decoded: T[];
    if (leafCodec === undefined) {
      const bad = items.findIndex((x) => typeof x !== 'object' || x === null || Array.isArray(x));
      if (bad >= 0) throw corrupt(`chunk ${ids[i]} item ${offset + bad} is not an object`);
      decoded = items as T[];
    } else {
      const d = decodeWith(leafCodec, items);
      if (E.isLeft(d)) throw corrupt(`chunk ${ids[i]} items ${offset}..${offset + to - from - 1}: ${d.left.message}`);
      decoded = d.right;
    }
    const p = prepare(decoded, i * CHUNK_SIZE + offset, offset > 0 ? c.items[offset - 1] : undefined);
    if (E.isLeft(p)) throw corrupt(`chunk ${ids[i]}: ${p.left}`);
    return p.right;
  };
  const leaf = (k: number): readonly U[] => leafRange(k, 0, LEAF_SIZE);
  return { full, id, leaf, leafRange, ...(index !== undefined ? { index: index.memo } : {}) };
};

