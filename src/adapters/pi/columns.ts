/**
 * Number columns for what a pi import keeps per entry, per op or per record
 * (issue 9, P7): branch paths, parent links, depths, op digests, original
 * times. A column is a growable array of int32 or float64 values, all 0 until
 * set. Planning a file held in memory (`parsedEntries`) uses `memoryColumn`;
 * the streamed import uses `diskColumn`, a scratch file in the import's spill
 * directory seen through a small page cache (`pagedFile.ts`), so the import's
 * memory does not grow with the file.
 */
import { closePagedFile, openPagedFile, readFloat64, readInt32, writeFloat64, writeInt32 } from './pagedFile.ts';

/** The kind of value a column holds: `int32` (−2³¹…2³¹−1) or `float64`. */
export type PiColumnKind = 'int32' | 'float64';

/** A growable array of numbers, 0 where never set. */
export interface PiColumn {
  readonly get: (i: number) => number;
  readonly set: (i: number, value: number) => void;
  /** Frees what the column holds in memory; on disk, the file is removed. The column is not used after. */
  readonly close: () => void;
}

/** Makes a fresh column of `kind` (the source of an import's scratch storage). */
export type PiColumnFactory = (kind: PiColumnKind) => PiColumn;

/** A column in a typed array, doubled when a `set` falls past its end. */
export const memoryColumn: PiColumnFactory = (kind) => {
  let a: Int32Array | Float64Array = kind === 'int32' ? new Int32Array(1024) : new Float64Array(1024);
  return {
    get: (i) => (i < a.length ? a[i]! : 0),
    set: (i, value) => {
      if (i >= a.length) {
        const b = kind === 'int32' ? new Int32Array(Math.max(i + 1, a.length * 2)) : new Float64Array(Math.max(i + 1, a.length * 2));
        b.set(a);
        a = b;
      }
      a[i] = value;
    },
    close: () => {
      a = kind === 'int32' ? new Int32Array(0) : new Float64Array(0);
    },
  };
};

/** Page size and pages cached of a disk column: 64 KiB × 4 = 256 KiB of memory at most. */
const COLUMN_PAGE = 1 << 16;
const COLUMN_PAGES = 4;

/** A column in the scratch file `path` (created, emptied; removed by `close`). Memory: at most 256 KiB of cached pages. */
export const diskColumn = (path: string, kind: PiColumnKind): PiColumn => {
  const file = openPagedFile(path, COLUMN_PAGE, COLUMN_PAGES);
  return kind === 'int32'
    ? { get: (i) => readInt32(file, i * 4), set: (i, v) => writeInt32(file, i * 4, v), close: () => closePagedFile(file) }
    : { get: (i) => readFloat64(file, i * 8), set: (i, v) => writeFloat64(file, i * 8, v), close: () => closePagedFile(file) };
};
