/**
 * The source of a pi import, kept as content-addressed blobs (model.md §7.2), so
 * an export can give back every entry exactly as pi wrote it.
 *
 * The file's bytes are cut at line ends into chunks of at most
 * `PI_SOURCE_CHUNK_BYTES` (a line longer than that is one chunk), each stored as
 * a blob of media type `application/x-ndjson`; a manifest blob
 * (`application/json`) lists them:
 * `{ v: 1, kind: 'pi-source', file, bytes, digest, chunks: [blobId, …] }` where
 * `digest` is `sha256:` + hex SHA-256 of the whole file and `bytes` its size.
 * The manifest's blob id is what the import records (`pi.import.source`), in a
 * hash-chained record, so reading the source back fails closed: a chunk whose
 * bytes do not hash to its id is `CorruptBlob`, a missing one `BlobNotFound`,
 * and bytes that do not add up to the manifest's digest are `PiSourceMismatch`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { BlobId, Digest } from '../../model/scalars.ts';
import { blobId } from '../../model/digest.ts';
import type { SessionStore, StoreError } from '../../store/index.ts';

/** Largest chunk of a stored pi source, in bytes (a longer single line is one chunk). */
export const PI_SOURCE_CHUNK_BYTES = 1 << 20;
/** Media type of a source chunk blob. */
export const PI_SOURCE_CHUNK_TYPE = 'application/x-ndjson';

/** The manifest of a stored pi source file. */
export interface PiSourceManifest {
  readonly v: 1;
  readonly kind: 'pi-source';
  /** The file's name as given to the import. */
  readonly file: string;
  /** Size of the file, in bytes. */
  readonly bytes: number;
  /** `sha256:<hex>` of the file's bytes. */
  readonly digest: Digest;
  /** Blob ids of the chunks, in file order. */
  readonly chunks: readonly BlobId[];
}

/** A stored source did not read back as recorded: `source` is the manifest blob id. */
export interface PiSourceMismatch {
  readonly _tag: 'PiSourceMismatch';
  readonly source: BlobId;
  readonly message: string;
}

/** `sha256:<hex>` of `bytes`, by an incremental hash (no copy). */
export const piSourceDigest = (bytes: Uint8Array): Digest => `sha256:${bytesToHex(sha256(bytes))}`;

/** `[start, end)` byte ranges of `bytes`, cut after a `\n`, each at most `max` bytes unless one line is longer. */
export const sourceChunkRanges = (bytes: Uint8Array, max = PI_SOURCE_CHUNK_BYTES): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + max);
    if (end < bytes.length) {
      const nl = bytes.lastIndexOf(0x0a, end - 1);
      end = nl >= start ? nl + 1 : Math.max(end, bytes.indexOf(0x0a, end) + 1 || bytes.length);
    }
    out.push([start, end]);
    start = end;
  }
  return out;
};

/** One blob to store: its media type, bytes and id (`blobId(mediaType, bytes)`). */
export interface PiSourceBlob {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly id: BlobId;
}

/** The blobs of a stored pi source (chunks then manifest) and the manifest's id; pure, so ids are known before anything is written. */
export interface PiSourceBlobs {
  readonly id: BlobId;
  readonly manifest: PiSourceManifest;
  readonly blobs: readonly PiSourceBlob[];
}

/** Cuts the bytes of a pi file into chunk blobs and a manifest (see the module comment). Pure. */
export const piSourceBlobs = (file: string, bytes: Uint8Array, digest: Digest = piSourceDigest(bytes)): PiSourceBlobs => {
  const blobs: PiSourceBlob[] = [];
  for (const [s, e] of sourceChunkRanges(bytes)) {
    const part = bytes.subarray(s, e);
    blobs.push({ mediaType: PI_SOURCE_CHUNK_TYPE, bytes: part, id: blobId(PI_SOURCE_CHUNK_TYPE, part) });
  }
  const m = piSourceManifest(file, bytes.length, digest, blobs.map((b) => b.id));
  blobs.push(m.blob);
  return { id: m.blob.id, manifest: m.manifest, blobs };
};

/** The manifest of a source of `bytes` bytes with `digest` cut into the chunk blobs `chunks`, and its blob. Pure. */
export const piSourceManifest = (file: string, bytes: number, digest: Digest, chunks: readonly BlobId[]): { readonly manifest: PiSourceManifest; readonly blob: PiSourceBlob } => {
  const manifest: PiSourceManifest = { v: 1, kind: 'pi-source', file, bytes, digest, chunks: [...chunks] };
  const body = new TextEncoder().encode(JSON.stringify(manifest));
  return { manifest, blob: { mediaType: 'application/json', bytes: body, id: blobId('application/json', body) } };
};

/**
 * Writes the blobs of `source` (chunks first, the manifest last). Idempotent
 * (blobs are content-addressed): storing the same file again writes the same
 * keys; a crash part-way leaves only unreferenced blobs. Errors: the store's
 * write errors.
 */
export const storePiSource = async (store: SessionStore, source: PiSourceBlobs): Promise<E.Either<StoreError, BlobId>> => {
  for (const b of source.blobs) {
    const r = await store.putBlob(b.mediaType, b.bytes);
    if (E.isLeft(r)) return r;
    if (r.right !== b.id) throw new Error(`pi source: the store named blob ${b.id} ${r.right}`);
  }
  return E.right(source.id);
};

const mismatch = (source: BlobId, what: string): PiSourceMismatch => ({ _tag: 'PiSourceMismatch', source, message: `pi source ${source}: ${what}` });

const isManifest = (u: unknown): u is PiSourceManifest => {
  if (typeof u !== 'object' || u === null) return false;
  const m = u as Record<string, unknown>;
  return (
    m['v'] === 1 &&
    m['kind'] === 'pi-source' &&
    typeof m['file'] === 'string' &&
    typeof m['bytes'] === 'number' &&
    typeof m['digest'] === 'string' &&
    Array.isArray(m['chunks']) &&
    m['chunks'].every((c) => typeof c === 'string')
  );
};

/**
 * Reads a stored pi source back: its manifest and the file's text (UTF-8).
 * Fails closed: `BlobNotFound` / `CorruptBlob` from the store, `PiSourceMismatch`
 * when the manifest is not one, the size or the digest of the bytes disagree.
 */
export const readPiSource = async (
  store: SessionStore,
  source: BlobId,
): Promise<E.Either<StoreError | PiSourceMismatch, { readonly manifest: PiSourceManifest; readonly text: string }>> => {
  const m = await store.getBlob(source);
  if (E.isLeft(m)) return m;
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(m.right.bytes)) as unknown;
  } catch {
    return E.left(mismatch(source, 'the manifest is not JSON'));
  }
  if (!isManifest(manifest)) return E.left(mismatch(source, 'the blob is not a pi source manifest'));
  const parts: Uint8Array[] = [];
  const hash = sha256.create();
  let size = 0;
  for (const c of manifest.chunks) {
    const b = await store.getBlob(c as BlobId);
    if (E.isLeft(b)) return b;
    parts.push(b.right.bytes);
    hash.update(b.right.bytes);
    size += b.right.bytes.length;
  }
  if (size !== manifest.bytes) return E.left(mismatch(source, `the chunks hold ${size} bytes, the manifest says ${manifest.bytes}`));
  const digest = `sha256:${bytesToHex(hash.digest())}`;
  if (digest !== manifest.digest) return E.left(mismatch(source, `the chunks hash to ${digest}, the manifest says ${manifest.digest}`));
  return E.right({ manifest, text: Buffer.concat(parts).toString('utf8') });
};
