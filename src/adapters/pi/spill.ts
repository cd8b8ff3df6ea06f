/**
 * The planned ops of a streamed pi import, kept on disk between planning and
 * writing (issue 9, P7): planning hands each session's own ops to a sink in
 * order (`plan.ts`, `PiOpSink`); this one appends them as JSON lines to one
 * file per session in a fresh directory, written in blocks of about 1 MiB, and
 * `ops(i)` reads session `i`'s back, in order, as often as needed.
 *
 * The directory is `<parent>/palimpsest-pi-<key>-<pid>-XXXXXX`: `parent` the OS
 * temp directory unless given, `key` names the import (the importer passes
 * the first 16 hex digits of the file's SHA-256), `pid` the process. Opening
 * a spill first removes every directory of the same key whose process is no
 * longer running (an import of that file killed before its `dispose()`), so
 * running a killed import again leaves no spill behind; a running import's
 * spill is never touched. `dispose()` removes the directory (it was created by
 * this import and holds nothing else).
 */
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PiOpSink, PiPlanOp } from './plan.ts';

/** Bytes buffered before a write to the spill file. */
const BLOCK = 1 << 20;

/** A spill of planned ops: the sink planning writes to, the reader, and the cleanup. */
export interface PiOpSpill {
  readonly sink: PiOpSink;
  /** Ends the last session's file (call once planning is done). */
  readonly finish: () => void;
  /** The ops of session `i`, in order. */
  readonly ops: (session: number) => AsyncIterable<PiPlanOp>;
  /** Removes the spill directory. */
  readonly dispose: () => void;
}

/** The prefix of the spill directories of imports named `key`. */
const spillPrefix = (key: string): string => `palimpsest-pi-${key}-`;

/** Whether process `pid` is running (`EPERM`: it is, under another user). */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === 'EPERM';
  }
};

/**
 * Removes the spill directories of imports named `key` under `parent` whose
 * process is no longer running; returns how many. A directory that cannot be
 * listed or removed is left (the next run tries again).
 */
export const removeStaleSpills = (parent: string, key: string): number => {
  const prefix = spillPrefix(key);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
      removed++;
    } catch {
      // Left for the next run.
    }
  }
  return removed;
};

/**
 * Opens a spill for the import named `key` (letters and digits) in a fresh
 * directory under `parent` (default: the OS temp directory), after removing
 * that key's spills left by processes no longer running (module comment).
 * Throws the `fs` error if the directory cannot be made.
 */
export const openOpSpill = (key: string, parent: string = tmpdir()): PiOpSpill => {
  if (!/^[0-9A-Za-z]{1,64}$/.test(key)) throw new RangeError(`spill key must be 1-64 letters or digits, got ${JSON.stringify(key)}`);
  removeStaleSpills(parent, key);
  const dir = mkdtempSync(join(parent, `${spillPrefix(key)}${process.pid}-`));
  let fd: number | undefined;
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (fd === undefined || parts.length === 0) return;
    writeSync(fd, parts.join(''));
    parts = [];
    size = 0;
  };
  const end = (): void => {
    flush();
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  const fileOf = (i: number): string => join(dir, `${i}.jsonl`);
  return {
    sink: {
      open: (i) => {
        end();
        fd = openSync(fileOf(i), 'w');
      },
      push: (_op, json) => {
        parts.push(json, '\n');
        size += json.length + 1;
        if (size >= BLOCK) flush();
      },
    },
    finish: end,
    ops: (i) => readOps(fileOf(i)),
    dispose: () => {
      try {
        end();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
};

async function* readOps(file: string): AsyncGenerator<PiPlanOp> {
  const lines = createInterface({ input: createReadStream(file, { highWaterMark: 1 << 16 }), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') yield JSON.parse(line) as PiPlanOp;
}
