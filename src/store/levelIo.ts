/**
 * The LevelDB backend of the storage port (`io.ts`): one LevelDB database per
 * store directory (`level` 10, classic-level underneath), keys as in
 * `layout.ts`. Every LevelDB exception becomes `StoreIoError` / `StoreLocked`
 * / `StoreClosed`. LevelDB's LOCK file keeps a second process out
 * (`StoreLocked` naming the directory), so the store's in-process cache is the
 * truth (`shared: false`).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { Level } from 'level';
import * as E from 'fp-ts/lib/Either.js';
import { LazyReadFailure, type ChunkId } from './chunks.ts';
import { fromLevelError, storeClosed, storeIoError, unsupportedVersion, type StoreError } from './errors.ts';
import { readHeader, type Io } from './io.ts';
import { STORE_FORMAT_VERSION, keys } from './layout.ts';

/**
 * LevelDB's memtable size (bytes; classic-level's default is 4 MiB). LevelDB
 * keeps up to two memtables, and each level-0 file it flushes is about this
 * size; a level-0 compaction reads every level-0 file and the level-1 files
 * they overlap through memory-mapped reads, which count in the process's RSS
 * while it runs. 1 MiB: a long write (a 500k-message pi import) peaked at
 * 261–269 MiB RSS in three runs against 265–298 MiB with the defaults,
 * interleaved (ARCHITECTURE.md, "LevelDB is opened small"). Same on-disk format.
 */
const WRITE_BUFFER_BYTES = 1 << 20;
/** LevelDB's cache of uncompressed blocks read (bytes; classic-level's default is 8 MiB); the OS page cache holds the files. */
const BLOCK_CACHE_BYTES = 2 << 20;
/**
 * Files LevelDB keeps open (classic-level's default is 1000; LevelDB raises
 * anything below 74 to 74, 10 of them for its own files): the rest is its
 * table cache, 64 tables here. On a 64-bit system LevelDB memory-maps every
 * table it opens (up to 1000) and unmaps it only when the table leaves that
 * cache, so every page of every cached table that a read or a compaction
 * touched counts in the process's RSS. With 1000, a 1,000,000-message pi
 * import (a 0.8 GB store, ~700 tables of 2 MiB) held all ~700 tables mapped
 * and their touched pages grew to 39 MiB of the peak RSS (sampled from
 * /proc/<pid>/smaps); with 74, 7–19 MiB over the whole import and the peak
 * 287–292 MiB instead of 326–327 (ARCHITECTURE.md, "LevelDB is opened small"). The cost: a
 * read that needs a table outside the cache opens it again (open, footer,
 * index block). Same on-disk format.
 */
const MAX_OPEN_FILES = 74;

/**
 * Opens (or creates) the LevelDB store in directory `dir` (absolute) and checks
 * its format key `F` (writing it into a new database). `sync` is passed to
 * every batch. Errors: `StoreLocked` (another process holds it),
 * `StoreIoError` (not a directory, a non-empty directory without a LevelDB
 * database, a LevelDB database that is not a palimpsest store, I/O),
 * `UnsupportedVersion { what: 'store' }`.
 */
export const openLevelIo = async (dir: string, sync: boolean): Promise<E.Either<StoreError, Io>> => {
  try {
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (st !== undefined && !st.isDirectory()) return E.left(storeIoError(dir, 'not a directory'));
    // Never turn an unrelated directory into a store: it must be new, empty, or hold a LevelDB database.
    if (st !== undefined && !fs.existsSync(nodePath.join(dir, 'CURRENT')) && fs.readdirSync(dir).length > 0) {
      return E.left(storeIoError(dir, 'not a palimpsest store: the directory is not empty and holds no LevelDB database'));
    }
  } catch (e) {
    return E.left(storeIoError(dir, (e as Error).message));
  }
  let db: Level<string, string>;
  try {
    db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', writeBufferSize: WRITE_BUFFER_BYTES, cacheSize: BLOCK_CACHE_BYTES, maxOpenFiles: MAX_OPEN_FILES });
    await db.open();
  } catch (e) {
    return E.left(fromLevelError(dir, e));
  }
  const io = makeLevelIo(db, dir, sync);
  const fail = async (err: StoreError): Promise<E.Either<StoreError, Io>> => {
    await io.close();
    return E.left(err);
  };
  const format = await io.get(keys.format);
  if (E.isLeft(format)) return fail(format.left);
  if (format.right === undefined) {
    const any = await io.keys({ gte: '', lt: '\uffff' });
    if (E.isLeft(any)) return fail(any.left);
    if (any.right.length > 0) return fail(storeIoError(dir, 'not a palimpsest store (the database has no format key)'));
    const w = await io.batch([{ key: keys.format, value: JSON.stringify({ v: STORE_FORMAT_VERSION }) }]);
    if (E.isLeft(w)) return fail(w.left);
  } else {
    let v: unknown;
    try {
      v = (JSON.parse(format.right) as { v?: unknown }).v;
    } catch {
      v = undefined;
    }
    if (v !== STORE_FORMAT_VERSION) return fail(unsupportedVersion('store', v, STORE_FORMAT_VERSION));
  }
  return E.right(io);
};

/** How many bytes one `nextv` of a scan may read (classic-level's `highWaterMarkBytes`; its default is 16 KiB). */
const SCAN_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** Batch options with `sync` (the default, `sync: false`, passes no options object at all). */
const SYNC_BATCH = Object.freeze({ sync: true });

/** Wraps an open `level` database. `sync` is passed to every batch. */
const makeLevelIo = (db: Level<string, string>, path: string, sync: boolean): Io => {
  let closed = false;
  /**
   * The synchronous chunk reader of lazily loaded lists (`snapshot.ts`, "Lazy
   * lists"): `db.getSync`, so a `Session` can read its messages without a
   * promise. Chunks are content-addressed and never deleted, so reading later
   * sees what the snapshot named. Throws `LazyReadFailure`: `StoreClosed` once
   * `close()` was called, `StoreIoError` when LevelDB fails.
   */
  const readChunkSync = (id: ChunkId): string | undefined => {
    if (closed) throw new LazyReadFailure(storeClosed(path));
    try {
      return db.getSync(keys.chunk(id));
    } catch (e) {
      throw new LazyReadFailure(fromLevelError(path, e));
    }
  };
  const io: Io = {
    path,
    shared: false,
    async get(key) {
      try {
        // A point read synchronously (classic-level `getSync`: no trip through LevelDB's thread
        // pool and back to the event loop, which costs more than the read of a small value).
        return E.right(db.getSync(key));
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async getBytes(key) {
      try {
        return E.right(await db.get<string, Uint8Array>(key, { valueEncoding: 'view' }));
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async batch(ops) {
      try {
        // The array form: classic-level's chained batch is several times slower per write.
        const arr = ops.map((op) =>
          'bytes' in op
            ? ({ type: 'put', key: op.key, value: op.bytes, valueEncoding: 'view' } as unknown as { type: 'put'; key: string; value: string })
            : ({ type: 'put', key: op.key, value: op.value } as const),
        );
        // No options object unless `sync`: abstract-level spreads the batch options into every
        // operation (measured on a three-put batch: ~3-4 µs of main-thread CPU of the ~20-30 µs
        // the whole batch call costs, and ~30 µs in a tight loop with the native write stubbed out).
        await (sync ? db.batch(arr, SYNC_BATCH) : db.batch(arr));
        return E.right(undefined);
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async *scan(range, size = 500) {
      let it: ReturnType<typeof db.iterator<string, string>> | undefined;
      // The next batch is read while the caller works on the current one (LevelDB reads
      // on its own thread), so a long scan does not wait for the disk between batches.
      let ahead: Promise<Array<[string, string]>> | undefined;
      const readAhead = (): Promise<Array<[string, string]>> => {
        const p = it!.nextv(size);
        p.catch(() => undefined); // awaited below; never an unhandled rejection
        return p;
      };
      try {
        // classic-level stops a nextv() after 16 KiB by default, which would cut a batch
        // of records into dozens of round trips to LevelDB's thread.
        it = db.iterator<string, string>({ ...range, highWaterMarkBytes: SCAN_HIGH_WATER_BYTES });
        ahead = readAhead();
        for (;;) {
          const entries: Array<[string, string]> = await ahead;
          ahead = undefined;
          if (entries.length === 0) break;
          ahead = readAhead();
          yield E.right(entries);
        }
      } catch (e) {
        yield E.left(fromLevelError(path, e));
      } finally {
        if (ahead !== undefined) await ahead.catch(() => undefined);
        if (it !== undefined) await it.close().catch(() => undefined);
      }
    },
    async keys(range) {
      try {
        return E.right(await db.keys({ ...range }).all());
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    async lastKey(range) {
      try {
        const ks = await db.keys({ ...range, reverse: true, limit: 1 }).all();
        return E.right(ks[0]);
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
    header: (sid) => readHeader(io.get, sid),
    // LevelDB reads on demand and synchronously: nothing to read up front.
    chunkReader: async () => E.right(readChunkSync),
    async close() {
      closed = true;
      try {
        await db.close();
        return E.right(undefined);
      } catch (e) {
        return E.left(fromLevelError(path, e));
      }
    },
  };
  return io;
};

