/**
 * Reading a pi file for import in bounded memory (issue 9, P7).
 *
 * `scanPiFile(path, name, dir, column)` streams the file once, line by line, and keeps no
 * entry: each line is parsed and checked by `parsePiLine` (the rules of
 * `parse.ts`, so errors and repairs are those of `parsePiJsonl`) and only its
 * line number, byte range and tree links are kept, with the counts and labels
 * the plan reports, in an on-disk index (`entryIndex.ts`, in `dir`, the
 * import's spill directory), so the scan's memory does not grow with the
 * number of entries: duplicate ids, parents, forks, compaction targets and
 * labels are looked up there. The same pass computes the file's digest and cuts its
 * bytes into source chunks exactly as `sourceChunkRanges` does (≤
 * `PI_SOURCE_CHUNK_BYTES`, at line ends), hashing each chunk into its blob id.
 *
 * The scan is a `PiEntrySource`: `entry(i)` reads entry `i` back from the file.
 * Bytes are read a whole chunk at a time (the last two chunks are kept) and a
 * chunk whose bytes no longer hash to the id the scan computed throws
 * `PiFileChangedError` (the file was rewritten during the import), so what is
 * planned, checked and written is always the file the scan saw and the source
 * blobs hold. `close()` releases the file.
 */
import { createReadStream, openSync, closeSync, readSync, statSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { blobId, blobIdHasher, type BlobIdHasher } from '../../model/digest.ts';
import { blobValueHead } from '../../store/blobs.ts';
import { defaultSha256 } from '../../model/hashing.ts';
import type { BlobId, Digest } from '../../model/scalars.ts';
import { finishPiParse, parsePiLine, piParseState, type PiLine, type PiParseState } from './parse.ts';
import { addEntry, closeEntryIndex, findCycleOnDisk, lineAt, linkAt, lookup, openEntryIndex, parentIndexAt, rangeAt, resolveForward, type PiEntryIndex } from './entryIndex.ts';
import type { PiColumnFactory } from './columns.ts';
import { countEntry, labelOfEntry, type PiEntrySource } from './plan.ts';
import type { PiImportError } from './report.ts';
import { PI_SOURCE_CHUNK_BYTES, PI_SOURCE_CHUNK_TYPE } from './source.ts';

/** One source chunk: bytes `[start, end)` of the file and their blob id. */
export interface PiSourceChunk {
  readonly start: number;
  readonly end: number;
  readonly id: BlobId;
}

/** The file changed while it was being imported: chunk `chunk` no longer has the id the scan computed. */
export interface PiFileChanged {
  readonly _tag: 'PiFileChanged';
  readonly file: string;
  readonly chunk: number;
  readonly message: string;
}

/** Thrown by a scan's `entry`/`chunkBytes` (inside planning) and turned into `PiFileChanged` by the importer. */
export class PiFileChangedError extends Error {
  constructor(readonly error: PiFileChanged) {
    super(error.message);
  }
}

/** A scanned pi file: the entry source, its size, digest and source chunks. */
export interface PiScan extends PiEntrySource {
  /** Size of the file, in bytes. */
  readonly bytes: number;
  /** `sha256:<hex>` of the file's bytes. */
  readonly digest: Digest;
  readonly chunks: readonly PiSourceChunk[];
  /**
   * The bytes of chunk `i`, read again and checked against its id: a view of
   * one of two reused buffers, valid until the second next call. Throws
   * `PiFileChangedError`.
   */
  readonly chunkBytes: (i: number) => Uint8Array;
  /**
   * Closes and removes the on-disk per-entry index once planning is done
   * (the write needs only the chunk list): `entry`, `link` and the lookups then
   * throw, and `labels` is emptied (the plan holds what it took of them; they
   * grow with the file). `chunkBytes` still works.
   */
  readonly release: () => void;
  /** The on-disk index, until `release` (for tests: what it holds in memory). */
  readonly index: () => PiEntryIndex | undefined;
  /** Releases the file (and the index, if `release` was not called). */
  readonly close: () => void;
}

/**
 * Cuts a stream of line segments (each with its `\n`) into chunks the way
 * `sourceChunkRanges` does, hashing each chunk as its segments arrive (holding
 * them until the chunk closed kept up to a chunk of line views alive across
 * minor GCs, promoted and soon garbage: bench/RESULTS.md "I1").
 */
interface Chunker {
  start: number;
  end: number;
  /** The open chunk's id so far (from its first segment). */
  hash: BlobIdHasher | undefined;
  readonly out: PiSourceChunk[];
}

const closeChunk = (c: Chunker): void => {
  if (c.end === c.start || c.hash === undefined) return;
  c.out.push({ start: c.start, end: c.end, id: c.hash.id() });
  c.hash = undefined;
  c.start = c.end;
};

/** Adds the segment `bytes` (one line with its newline, if any) at file offset `c.end`. */
const addSegment = (c: Chunker, bytes: Buffer): void => {
  if (bytes.length === 0) return;
  if (c.end > c.start && c.end + bytes.length - c.start > PI_SOURCE_CHUNK_BYTES) closeChunk(c);
  (c.hash ??= blobIdHasher(PI_SOURCE_CHUNK_TYPE)).update(bytes);
  c.end += bytes.length;
};

/** Bytes read at a time by the scan. */
const READ_BYTES = 1 << 16;

const errnoCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;

/** A read failure of the scan: the Node.js error and its code. */
export interface PiScanReadError {
  readonly _tag: 'PiScanReadError';
  readonly code?: string;
  readonly cause: unknown;
}

/** Bytes of file per entry assumed when sizing the id table (a smaller average only costs rebuilding the table). */
const BYTES_PER_ENTRY_GUESS = 128;

/**
 * Streams the pi file at `path` (named `file` in errors and reports) once and
 * returns its scan (module comment); its index goes in the directory `dir`,
 * its planning columns come from `column` (both the import's spill). Errors:
 * `PiScanReadError` (cannot read), the first `PiParseError` in file order.
 * Memory: one read buffer, one chunk, the index's page caches and the list of
 * source chunks (one per MiB of file), whatever the number of entries.
 */
export const scanPiFile = async (path: string, file: string, dir: string, column: PiColumnFactory): Promise<E.Either<PiImportError | PiScanReadError, PiScan>> => {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch (e) {
    const code = errnoCode(e);
    return E.left({ _tag: 'PiScanReadError', ...(code !== undefined ? { code } : {}), cause: e });
  }
  const index = openEntryIndex(dir, size / BYTES_PER_ENTRY_GUESS);
  let r: E.Either<PiImportError | PiScanReadError, PiScan> | undefined;
  try {
    r = await scanInto(path, file, index, column);
    return r;
  } finally {
    if (r === undefined || E.isLeft(r)) closeEntryIndex(index);
  }
};

/** The line of the entry whose id is `id` in `index`, if any (a scan's `PiSeenIds`). */
const seenLine = (index: PiEntryIndex, id: string): number | undefined => {
  const i = lookup(index, id);
  return i === undefined ? undefined : lineAt(index, i);
};

/** The scan proper, adding every entry to `index`. */
const scanInto = async (path: string, file: string, index: PiEntryIndex, column: PiColumnFactory): Promise<E.Either<PiImportError | PiScanReadError, PiScan>> => {
  // Duplicates are looked up in the index; each entry is added to it once its line parsed (so `set` does nothing).
  const st = piParseState(file, { get: (id) => seenLine(index, id), set: () => undefined });
  const counts = { messages: 0, toolCalls: 0, toolResults: 0 };
  const labels: Array<{ targetId: string; label?: string }> = [];
  const hash = defaultSha256.create();
  const chunker: Chunker = { start: 0, end: 0, hash: undefined, out: [] };
  let failure: PiImportError | undefined;
  let line = 0;
  let offset = 0; // file offset of `pending`'s first byte
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const onLine = (bytes: Buffer, start: number, terminated: boolean): void => {
    line++;
    addSegment(chunker, bytes);
    if (failure !== undefined) return;
    const content = terminated ? bytes.subarray(0, bytes.length - 1) : bytes;
    const r = parsePiLine(st, content.toString('utf8'), line, terminated);
    if (E.isLeft(r)) {
      failure = r.left;
      return;
    }
    const e = r.right;
    if (e === undefined) return;
    addEntry(index, line, start, content.length, e.entry.id, e.entry.parentId);
    countEntry(counts, e);
    const l = labelOfEntry(e);
    if (l !== undefined) labels.push(l);
  };

  try {
    for await (const data of createReadStream(path, { highWaterMark: READ_BYTES }) as AsyncIterable<Buffer>) {
      hash.update(data);
      let from = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0 && failure === undefined; nl = data.indexOf(0x0a, from)) {
        const tail = data.subarray(from, nl + 1);
        const bytes = pendingBytes === 0 ? tail : Buffer.concat([...pending, tail]);
        onLine(bytes, offset, true);
        offset += bytes.length;
        pending = [];
        pendingBytes = 0;
        from = nl + 1;
      }
      if (failure !== undefined) break;
      if (from < data.length) {
        pending.push(data.subarray(from));
        pendingBytes += data.length - from;
      }
    }
  } catch (e) {
    const code = errnoCode(e);
    return E.left({ _tag: 'PiScanReadError', ...(code !== undefined ? { code } : {}), cause: e });
  }
  if (failure !== undefined) return E.left(failure);
  onLine(pendingBytes === 0 ? Buffer.alloc(0) : Buffer.concat(pending), offset, false);
  if (failure !== undefined) return E.left(failure);
  const bytes = offset + pendingBytes;
  closeChunk(chunker);

  resolveForward(index);
  const done = finishPiParse(st, () => findCycleOnDisk(index));
  if (E.isLeft(done)) return done;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = errnoCode(e);
    return E.left({ _tag: 'PiScanReadError', ...(code !== undefined ? { code } : {}), cause: e });
  }
  return E.right(fileSource({ st, index, column, counts, labels, chunks: chunker.out, fd, bytes, digest: `sha256:${hash.digestHex()}` }));
};

/** The scan as an entry source reading entries back through checked chunks. */
const fileSource = (s: {
  readonly st: PiParseState;
  readonly index: PiEntryIndex;
  readonly column: PiColumnFactory;
  readonly counts: PiEntrySource['counts'];
  /** Emptied by `release`. */
  readonly labels: Array<PiEntrySource['labels'][number]>;
  readonly chunks: readonly PiSourceChunk[];
  readonly fd: number;
  readonly bytes: number;
  readonly digest: Digest;
}): PiScan => {
  const { st, chunks, fd } = s;
  let index: PiEntryIndex | undefined = s.index;
  const file = st.file;
  const indexed = (): PiEntryIndex => {
    if (index === undefined) throw new Error(`pi import: the index of ${file} was released after planning`);
    return index;
  };
  // The last two chunks read, in two buffers each after the stored head of a chunk blob, so `putBlob`
  // stores a chunk without copying it (`blobs.ts`). Each is `PI_SOURCE_CHUNK_BYTES` (the file's size if
  // smaller), larger only while it holds the chunk of one long line: a 16 MB line costs one 16 MB
  // buffer while its chunk is one of the last two read, not two for the rest of the import.
  const normal = Math.min(PI_SOURCE_CHUNK_BYTES, s.bytes);
  const head = blobValueHead(PI_SOURCE_CHUNK_TYPE);
  const slots: Array<{ chunk: number; buf: Buffer }> = [];
  let next = 0;
  const slotBuffer = (bytes: number): Buffer => {
    const b = Buffer.allocUnsafe(head.length + bytes);
    b.set(head, 0);
    return b.subarray(head.length);
  };
  const chunkBytes = (i: number): Buffer => {
    const hit = slots.find((x) => x.chunk === i);
    if (hit !== undefined) return hit.buf.subarray(0, chunks[i]!.end - chunks[i]!.start);
    const c = chunks[i]!;
    const need = c.end - c.start;
    const slot = slots[next] ?? { chunk: -1, buf: slotBuffer(Math.max(need, normal)) };
    if (slot.buf.length < need || (slot.buf.length > normal && need <= normal)) slot.buf = slotBuffer(Math.max(need, normal));
    slots[next] = slot;
    next = (next + 1) % 2;
    slot.chunk = -1;
    const buf = slot.buf.subarray(0, need);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, c.start + got);
      if (n === 0) break;
      got += n;
    }
    if (got < buf.length || blobId(PI_SOURCE_CHUNK_TYPE, buf) !== c.id) {
      throw new PiFileChangedError({ _tag: 'PiFileChanged', file, chunk: i, message: `${file} changed while it was being imported (bytes ${c.start}..${c.end} differ from the first read); nothing more was written` });
    }
    slot.chunk = i;
    return buf;
  };
  const chunkAt = (offset: number): number => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (chunks[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const entry = (i: number): PiLine => {
    const index = indexed();
    const { start, end } = rangeAt(index, i);
    const c = chunkAt(start);
    const buf = chunkBytes(c);
    const base = chunks[c]!.start;
    const text = buf.toString('utf8', start - base, end - base);
    const line = lineAt(index, i);
    // A fresh state (the scan already reported this line's repairs and checked its id).
    const again: PiParseState = { ...st, ids: new Map(), repairs: [], warnings: [] };
    const r = parsePiLine(again, text, line, true);
    if (E.isLeft(r) || r.right === undefined) throw new Error(`pi import: line ${line} of ${file} decoded during the scan but not when read again`);
    return r.right;
  };
  const release = (): void => {
    if (index !== undefined) closeEntryIndex(index);
    index = undefined;
    s.labels.length = 0;
  };
  return {
    file,
    version: st.version,
    header: st.header!,
    createdAt: st.createdAt,
    count: s.index.count,
    link: (i) => linkAt(indexed(), i),
    lineOf: (i) => lineAt(indexed(), i),
    parentOf: (i) => parentIndexAt(indexed(), i),
    indexOfId: (id) => lookup(indexed(), id),
    column: s.column,
    entry,
    labels: s.labels,
    counts: s.counts,
    repairs: st.repairs,
    warnings: st.warnings,
    bytes: s.bytes,
    digest: s.digest,
    chunks,
    chunkBytes,
    release,
    index: () => index,
    close: () => {
      try {
        release();
      } finally {
        closeSync(fd);
      }
    },
  };
};
