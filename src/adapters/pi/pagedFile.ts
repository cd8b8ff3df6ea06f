/**
 * Scratch files of a pi import, read and written in pages (issue 9, P7): what
 * the import needs per entry, per op or per record is kept on disk in the
 * import's spill directory (`spill.ts`), so its memory does not grow with the
 * file.
 *
 * - `PagedFile`: a file of fixed-size pages (`pageBytes`, a power of two) seen
 *   through a cache of at most `maxPages` pages (the clock algorithm picks
 *   the page to give up; a changed page is written back when it leaves the
 *   cache). Bytes never
 *   written read as 0 (the file is sparse). Values are little-endian int32 and
 *   float64 at byte offsets that are multiples of their size, so none
 *   straddles a page. Memory: `pageBytes × maxPages`.
 * - `ByteLog`: an append-only file of byte strings (UTF-8 text), written in
 *   blocks of `BLOCK_BYTES`; `readText` reads a range back (from the block not
 *   yet written, or with one positional read). Memory: one block and a read
 *   buffer as large as the largest range read.
 *
 * Reads and writes are positional (`readSync`/`writeSync` at an offset): the
 * OS page cache holds what was written, which does not count in the process's
 * resident memory. A file is created by its `open…` function and removed by
 * its `close…` function (the spill directory is removed as a whole anyway).
 * Errors are the `fs` errors, thrown (a scratch file that cannot be written
 * ends the import; the spill is disposed by the caller).
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';

/** A page in the cache (the object is reused for the page that replaces it). */
interface Page {
  index: number;
  readonly buf: Buffer;
  dirty: boolean;
  /** Used since the clock hand last passed it (second chance). */
  referenced: boolean;
}

/** A scratch file read and written through a bounded page cache (module comment). */
export interface PagedFile {
  readonly path: string;
  readonly fd: number;
  readonly pageBytes: number;
  readonly maxPages: number;
  /**
   * The cached pages by page index (a sparse array: a slot per page of the
   * file up to the highest cached, 8 bytes each, ~0.2% of the file at 4 KiB
   * pages), so a hit or a miss allocates nothing.
   */
  readonly pages: Array<Page | undefined>;
  /** The same pages in a ring, for the clock hand. */
  readonly ring: Page[];
  /** The ring position the next eviction looks at first. */
  hand: number;
  /** The page used last (checked before the map). */
  last: Page | undefined;
}

/** Creates (or empties) the scratch file `path` with pages of `pageBytes` bytes (a power of two), at most `maxPages` in memory. */
export const openPagedFile = (path: string, pageBytes: number, maxPages: number): PagedFile => {
  if (!Number.isSafeInteger(pageBytes) || pageBytes < 64 || (pageBytes & (pageBytes - 1)) !== 0) throw new RangeError(`pageBytes must be a power of two >= 64, got ${pageBytes}`);
  if (!Number.isSafeInteger(maxPages) || maxPages < 1) throw new RangeError(`maxPages must be a positive integer, got ${maxPages}`);
  return { path, fd: openSync(path, 'w+'), pageBytes, maxPages, pages: [], ring: [], hand: 0, last: undefined };
};

/** Reads `buf.length` bytes at `position` into `buf`; bytes past the end of the file are 0. */
const readFully = (fd: number, buf: Buffer, position: number): void => {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  if (got < buf.length) buf.fill(0, got);
};

const writeFully = (fd: number, buf: Buffer, position: number): void => {
  let put = 0;
  while (put < buf.length) put += writeSync(fd, buf, put, buf.length - put, position + put);
};

const writeBack = (f: PagedFile, p: Page): void => {
  if (!p.dirty) return;
  writeFully(f.fd, p.buf, p.index * f.pageBytes);
  p.dirty = false;
};

/** The ring slot of the page a full cache gives up: the first the hand finds not used since it last passed (clock, second chance). */
const victimSlot = (f: PagedFile): number => {
  for (;;) {
    const slot = f.hand;
    const p = f.ring[slot]!;
    f.hand = (slot + 1) % f.ring.length;
    if (!p.referenced) return slot;
    p.referenced = false;
  }
};

/**
 * The cached page `index`, read in if needed. Eviction is the clock algorithm
 * (second chance, an approximation of least recently used): a hit only marks
 * the page referenced, and a miss reuses the evicted page's object and
 * buffer, so neither allocates. (The cache used to be a `Map` kept in LRU
 * order by moving each hit to its end, a delete and a set: V8 rebuilt the
 * map's table every few hits, and each table, and each new page object, was
 * still in use at the next minor GC, so it was promoted and soon garbage:
 * old-generation churn that raised V8's heap limit, bench/RESULTS.md "I1".)
 */
const pageAt = (f: PagedFile, index: number): Page => {
  const last = f.last;
  if (last !== undefined && last.index === index) return last;
  let p = f.pages[index];
  if (p === undefined) {
    if (f.ring.length < f.maxPages) {
      p = { index, buf: Buffer.allocUnsafe(f.pageBytes), dirty: false, referenced: true };
      f.ring.push(p);
    } else {
      p = f.ring[victimSlot(f)]!;
      writeBack(f, p);
      f.pages[p.index] = undefined;
      p.index = index;
      p.referenced = true;
    }
    readFully(f.fd, p.buf, index * f.pageBytes);
    while (f.pages.length <= index) f.pages.push(undefined); // grown densely: a sparse write would make it a dictionary
    f.pages[index] = p;
  } else {
    p.referenced = true;
  }
  f.last = p;
  return p;
};

/** The int32 at byte `offset` (a multiple of 4). */
export const readInt32 = (f: PagedFile, offset: number): number => {
  const index = Math.floor(offset / f.pageBytes);
  return pageAt(f, index).buf.readInt32LE(offset - index * f.pageBytes);
};

/** Sets the int32 at byte `offset` (a multiple of 4) to `value`. */
export const writeInt32 = (f: PagedFile, offset: number, value: number): void => {
  const index = Math.floor(offset / f.pageBytes);
  const p = pageAt(f, index);
  p.buf.writeInt32LE(value | 0, offset - index * f.pageBytes);
  p.dirty = true;
};

/** The float64 at byte `offset` (a multiple of 8). */
export const readFloat64 = (f: PagedFile, offset: number): number => {
  const index = Math.floor(offset / f.pageBytes);
  return pageAt(f, index).buf.readDoubleLE(offset - index * f.pageBytes);
};

/** Sets the float64 at byte `offset` (a multiple of 8) to `value`. */
export const writeFloat64 = (f: PagedFile, offset: number, value: number): void => {
  const index = Math.floor(offset / f.pageBytes);
  const p = pageAt(f, index);
  p.buf.writeDoubleLE(value, offset - index * f.pageBytes);
  p.dirty = true;
};

/** Bytes of the pages cached now (for tests: the cache stays within `pageBytes × maxPages`). */
export const cachedBytes = (f: PagedFile): number => f.ring.length * f.pageBytes;

/** Closes and removes the file (its contents are lost). */
export const closePagedFile = (f: PagedFile): void => {
  f.pages.length = 0;
  f.ring.length = 0;
  f.last = undefined;
  try {
    closeSync(f.fd);
  } finally {
    rmSync(f.path, { force: true });
  }
};

/** Bytes appended to a `ByteLog` before they are written. */
const BLOCK_BYTES = 1 << 16;

/** An append-only scratch file of UTF-8 strings (module comment). */
export interface ByteLog {
  readonly path: string;
  readonly fd: number;
  /** Bytes written to the file; the block holds the bytes after them. */
  written: number;
  readonly block: Buffer;
  used: number;
  /** Buffer for reads from the file (grown to the largest range read). */
  scratch: Buffer;
}

/** Creates (or empties) the scratch file `path` as a byte log. */
export const openByteLog = (path: string): ByteLog => ({ path, fd: openSync(path, 'w+'), written: 0, block: Buffer.allocUnsafe(BLOCK_BYTES), used: 0, scratch: Buffer.allocUnsafe(256) });

const flushLog = (l: ByteLog): void => {
  if (l.used === 0) return;
  writeFully(l.fd, l.block.subarray(0, l.used), l.written);
  l.written += l.used;
  l.used = 0;
};

/** Appends the UTF-8 bytes of `text`; returns their offset and length in bytes. */
export const appendText = (l: ByteLog, text: string): { readonly offset: number; readonly length: number } => {
  const length = Buffer.byteLength(text, 'utf8');
  if (l.used + length > l.block.length) flushLog(l);
  const offset = l.written + l.used;
  if (length > l.block.length) {
    writeFully(l.fd, Buffer.from(text, 'utf8'), l.written);
    l.written += length;
  } else {
    l.block.write(text, l.used, length, 'utf8');
    l.used += length;
  }
  return { offset, length };
};

/** The text of the `length` bytes at `offset` (as appended). */
export const readText = (l: ByteLog, offset: number, length: number): string => {
  if (offset >= l.written) return l.block.toString('utf8', offset - l.written, offset - l.written + length);
  if (offset + length > l.written) flushLog(l);
  if (l.scratch.length < length) l.scratch = Buffer.allocUnsafe(Math.max(length, l.scratch.length * 2));
  const view = l.scratch.subarray(0, length);
  readFully(l.fd, view, offset);
  return view.toString('utf8');
};

/** Closes and removes the log. */
export const closeByteLog = (l: ByteLog): void => {
  try {
    closeSync(l.fd);
  } finally {
    rmSync(l.path, { force: true });
  }
};
