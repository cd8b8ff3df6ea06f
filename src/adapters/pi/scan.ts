/**
 * Reading a pi file for import in bounded memory (issue 9, P7).
 *
 * `scanPiFile(path, name)` streams the file once, line by line, and keeps no
 * entry: each line is parsed and checked by `parsePiLine` (the rules of
 * `parse.ts`, so errors and repairs are those of `parsePiJsonl`) and only its
 * line number, byte range and tree links are kept, with the counts and labels
 * the plan reports. The same pass computes the file's digest and cuts its
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
import { createReadStream, openSync, closeSync, readSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { blobId } from '../../model/digest.ts';
import { defaultSha256 } from '../../model/hashing.ts';
import type { BlobId, Digest } from '../../model/scalars.ts';
import { finishPiParse, parsePiLine, piParseState, type PiEntryLink, type PiLine, type PiParseState } from './parse.ts';
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
   * Drops the per-entry index (and the parse state's id map) once planning is
   * done, so the write holds only the chunk list: `entry` and `link` then
   * throw. `chunkBytes` still works.
   */
  readonly release: () => void;
  /** Releases the file. */
  readonly close: () => void;
}

/**
 * The per-entry index a scan keeps, compact: line, byte range and parent in
 * typed arrays (outside the JS heap, 24 bytes an entry), the id strings in one
 * array. `parents[i]` is the index of entry `i`'s parent when its `parentId`
 * names an earlier (or its own) entry, `PARENT_NULL` / `PARENT_ABSENT` for
 * `null` / no `parentId`, else `PARENT_OTHER` with the value in `otherParents`
 * (a parent not seen yet, or not a string).
 */
interface Index {
  count: number;
  lines: Int32Array;
  starts: Float64Array;
  ends: Float64Array;
  parents: Int32Array;
  readonly ids: Array<string | undefined>;
  readonly otherParents: Map<number, unknown>;
}

const PARENT_NULL = -1;
const PARENT_ABSENT = -2;
const PARENT_OTHER = -3;

const emptyIndex = (): Index => ({ count: 0, lines: new Int32Array(1024), starts: new Float64Array(1024), ends: new Float64Array(1024), parents: new Int32Array(1024), ids: [], otherParents: new Map() });

/** `a` with room for `n` elements (a copy twice as large when full). */
const grown = <T extends Int32Array | Float64Array>(a: T, n: number): T => {
  if (n <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(n, a.length * 2));
  b.set(a);
  return b;
};

/** The entry whose line is `line` (lines increase with the index), or -1. */
const entryOfLine = (index: Index, line: number): number => {
  let lo = 0;
  let hi = index.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const l = index.lines[mid]!;
    if (l === line) return mid;
    if (l < line) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
};

/** Adds entry `e` of line `line` at bytes `[start, end)`; `lineOfId` gives the line of an id seen so far. */
const addEntry = (index: Index, line: number, start: number, end: number, e: PiLine, lineOfId: (id: string) => number | undefined): void => {
  const i = index.count;
  index.lines = grown(index.lines, i + 1);
  index.starts = grown(index.starts, i + 1);
  index.ends = grown(index.ends, i + 1);
  index.parents = grown(index.parents, i + 1);
  index.lines[i] = line;
  index.starts[i] = start;
  index.ends[i] = end;
  index.ids.push(typeof e.entry.id === 'string' ? e.entry.id : undefined);
  index.count = i + 1;
  const p = e.entry.parentId;
  let code = PARENT_OTHER;
  if (p === null) code = PARENT_NULL;
  else if (p === undefined) code = PARENT_ABSENT;
  else if (typeof p === 'string') {
    const pl = lineOfId(p);
    const j = pl === undefined ? -1 : entryOfLine(index, pl);
    if (j >= 0 && index.ids[j] === p) code = j;
  }
  index.parents[i] = code;
  if (code === PARENT_OTHER) index.otherParents.set(i, p);
};

/** The parent id of entry `i` as written. */
const parentOf = (index: Index, i: number): unknown => {
  const code = index.parents[i]!;
  return code >= 0 ? index.ids[code] : code === PARENT_NULL ? null : code === PARENT_ABSENT ? undefined : index.otherParents.get(i);
};

/** The tree links of entry `i`. */
const linkAt = (index: Index, i: number): PiEntryLink => ({ line: index.lines[i]!, id: index.ids[i], parentId: parentOf(index, i) });

/** Cuts a stream of line segments (each with its `\n`) into chunks the way `sourceChunkRanges` does. */
interface Chunker {
  start: number;
  end: number;
  parts: Buffer[];
  readonly out: PiSourceChunk[];
}

const closeChunk = (c: Chunker): void => {
  if (c.end === c.start) return;
  const bytes = c.parts.length === 1 ? c.parts[0]! : Buffer.concat(c.parts);
  c.out.push({ start: c.start, end: c.end, id: blobId(PI_SOURCE_CHUNK_TYPE, bytes) });
  c.parts = [];
  c.start = c.end;
};

/** Adds the segment `bytes` (one line with its newline, if any) at file offset `c.end`. */
const addSegment = (c: Chunker, bytes: Buffer): void => {
  if (bytes.length === 0) return;
  if (c.end > c.start && c.end + bytes.length - c.start > PI_SOURCE_CHUNK_BYTES) closeChunk(c);
  c.parts.push(bytes);
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

/**
 * Streams the pi file at `path` (named `file` in errors and reports) once and
 * returns its scan (module comment). Errors: `PiScanReadError` (cannot read),
 * the first `PiParseError` in file order. Memory: one read buffer, one chunk
 * and the per-entry index (line, byte range, id and parent id).
 */
export const scanPiFile = async (path: string, file: string): Promise<E.Either<PiImportError | PiScanReadError, PiScan>> => {
  const st = piParseState(file);
  const index = emptyIndex();
  const counts = { messages: 0, toolCalls: 0, toolResults: 0 };
  const labels: Array<{ targetId: string; label?: string }> = [];
  const hash = defaultSha256.create();
  const chunker: Chunker = { start: 0, end: 0, parts: [], out: [] };
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
    addEntry(index, line, start, start + content.length, e, (id) => st.ids.get(id));
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

  const done = finishPiParse(st, index.count, (i) => linkAt(index, i));
  if (E.isLeft(done)) return done;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = errnoCode(e);
    return E.left({ _tag: 'PiScanReadError', ...(code !== undefined ? { code } : {}), cause: e });
  }
  return E.right(fileSource({ st, index, counts, labels, chunks: chunker.out, fd, bytes, digest: `sha256:${hash.digestHex()}` }));
};

/** The scan as an entry source reading entries back through checked chunks. */
const fileSource = (s: {
  readonly st: PiParseState;
  readonly index: Index;
  readonly counts: PiEntrySource['counts'];
  readonly labels: PiEntrySource['labels'];
  readonly chunks: readonly PiSourceChunk[];
  readonly fd: number;
  readonly bytes: number;
  readonly digest: Digest;
}): PiScan => {
  const { st, chunks, fd } = s;
  let index: Index | undefined = s.index;
  const file = st.file;
  const indexed = (): Index => {
    if (index === undefined) throw new Error(`pi import: the index of ${file} was released after planning`);
    return index;
  };
  // The last two chunks read, in two buffers allocated once (as large as the largest chunk).
  const largest = chunks.reduce((m, c) => Math.max(m, c.end - c.start), 0);
  const slots: Array<{ chunk: number; buf: Buffer }> = [];
  let next = 0;
  const chunkBytes = (i: number): Buffer => {
    const hit = slots.find((x) => x.chunk === i);
    if (hit !== undefined) return hit.buf.subarray(0, chunks[i]!.end - chunks[i]!.start);
    const c = chunks[i]!;
    const slot = slots[next] ?? { chunk: -1, buf: Buffer.allocUnsafe(largest) };
    slots[next] = slot;
    next = (next + 1) % 2;
    slot.chunk = -1;
    const buf = slot.buf.subarray(0, c.end - c.start);
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
    const start = index.starts[i]!;
    const c = chunkAt(start);
    const buf = chunkBytes(c);
    const base = chunks[c]!.start;
    const text = buf.toString('utf8', start - base, index.ends[i]! - base);
    // A fresh state (the scan already reported this line's repairs and checked its id).
    const again: PiParseState = { ...st, ids: new Map(), repairs: [], warnings: [] };
    const r = parsePiLine(again, text, index.lines[i]!, true);
    if (E.isLeft(r) || r.right === undefined) throw new Error(`pi import: line ${index.lines[i]} of ${file} decoded during the scan but not when read again`);
    return r.right;
  };
  return {
    file,
    version: st.version,
    header: st.header!,
    createdAt: st.createdAt,
    count: s.index.count,
    link: (i) => linkAt(indexed(), i),
    indexOfId: (id) => {
      const line = st.ids.get(id);
      const i = line === undefined ? -1 : entryOfLine(indexed(), line);
      return i < 0 ? undefined : i;
    },
    entry,
    labels: s.labels,
    counts: s.counts,
    repairs: st.repairs,
    warnings: st.warnings,
    bytes: s.bytes,
    digest: s.digest,
    chunks,
    chunkBytes,
    release: () => {
      index = undefined;
      st.ids.clear();
    },
    close: () => closeSync(fd),
  };
};
