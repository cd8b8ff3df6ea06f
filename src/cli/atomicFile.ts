/**
 * Writing a file the CLI creates (`export --out`) so that it is there whole or
 * not at all: the bytes go to a temporary file in the same directory
 * (`.<name>.<pid>-<random>.tmp`, created exclusively), flushed to disk, and
 * only then given the file's name: by `link` (fails with `EEXIST` when the
 * file exists: nothing is overwritten) or, with `replace`, by `rename` (an
 * existing file is replaced in one step). On any failure, the producer's
 * error included, the temporary file is removed and the file is untouched; so
 * is it when a stop signal (Ctrl-C, SIGTERM, SIGHUP: `interrupt.ts`) ends the
 * process part-way. A process killed by SIGKILL can leave only the `.tmp`
 * file, visibly incomplete, never a half-written file under the name asked for.
 *
 * Writes are buffered (`CHUNK_BYTES`) and awaited one at a time, so a producer
 * that awaits `write` is held back by the disk (backpressure).
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { armStopHandler } from './interrupt.ts';

/** Bytes gathered before one write to the file. */
const CHUNK_BYTES = 1 << 16;

/** Where a producer writes text (UTF-8); awaiting the promise is the backpressure. */
export type TextWrite = (text: string) => Promise<void>;

/** A write of the file failed: the `fs` exception (the temporary file is gone, the file untouched). */
export interface AtomicWriteFailed {
  readonly _tag: 'AtomicWriteFailed';
  readonly cause: unknown;
}

/** What `writeFileAtomically` wrote: the producer's result and the bytes written. */
export interface AtomicWritten<A> {
  readonly value: A;
  readonly bytes: number;
}

/** The temporary file name for `file`: hidden, in the same directory (so the rename stays on one filesystem). */
export const temporaryNameFor = (file: string): string =>
  nodePath.join(nodePath.dirname(file), `.${nodePath.basename(file)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);

/** A buffered writer over `fh` counting bytes. */
const bufferedWriter = (fh: FileHandle): { readonly write: TextWrite; readonly flush: () => Promise<void>; readonly bytes: () => number } => {
  let parts: string[] = [];
  let pending = 0;
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (parts.length === 0) return;
    const buf = Buffer.from(parts.join(''), 'utf8');
    parts = [];
    pending = 0;
    bytes += buf.length;
    for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
  };
  const write: TextWrite = async (text) => {
    parts.push(text);
    pending += text.length;
    if (pending >= CHUNK_BYTES) await flush();
  };
  return { write, flush, bytes: () => bytes };
};

/**
 * Creates `file` (an absolute path) with the text `produce` writes, atomically
 * (module comment). `produce` returns `Left` to abandon the file (its error is
 * returned as is) or `Right`. `replace`: an existing `file` is replaced;
 * otherwise it is left alone and the result is `AtomicWriteFailed` with code
 * `EEXIST`. Errors: the producer's `Left`, `AtomicWriteFailed` (create, write,
 * sync, link or rename failed). What `produce` throws is rethrown after the
 * temporary file is removed.
 */
export const writeFileAtomically = async <Err, A>(
  file: string,
  produce: (write: TextWrite) => Promise<E.Either<Err, A>>,
  opts: { readonly replace?: boolean } = {},
): Promise<E.Either<Err | AtomicWriteFailed, AtomicWritten<A>>> => {
  const tmp = temporaryNameFor(file);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx');
  } catch (cause) {
    return E.left({ _tag: 'AtomicWriteFailed', cause });
  }
  let named = false;
  // A stop signal while the temporary file exists removes it before the process dies.
  const release = armStopHandler(() => {
    if (!named) unlinkSync(tmp);
  });
  try {
    const w = bufferedWriter(fh);
    let r: E.Either<Err, A>;
    try {
      r = await produce(w.write);
      if (E.isRight(r)) {
        await w.flush();
        await fh.sync();
      }
    } catch (cause) {
      if (isFsError(cause)) return E.left({ _tag: 'AtomicWriteFailed', cause });
      throw cause;
    }
    if (E.isLeft(r)) return r;
    try {
      await fh.close();
      if (opts.replace === true) await rename(tmp, file);
      else await link(tmp, file);
      named = opts.replace === true;
    } catch (cause) {
      return E.left({ _tag: 'AtomicWriteFailed', cause });
    }
    return E.right({ value: r.right, bytes: w.bytes() });
  } finally {
    await fh.close().catch(() => undefined);
    if (!named) await unlink(tmp).catch(() => undefined);
    release();
  }
};

/** Whether `e` is a Node.js system error (has a string `code` and a `syscall`). */
const isFsError = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { syscall?: unknown }).syscall === 'string';
