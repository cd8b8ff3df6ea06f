/**
 * The scratch directory of a streamed pi import (issue 9, P7): everything the
 * import keeps per entry, per op or per record lives here, not in memory.
 * `export` of an imported session uses one too (`sourceExport.ts`: the stored
 * source file written back out as `source.jsonl`, and its scan).
 * - the planned ops, kept between planning and writing: planning hands each
 *   session's own ops to a sink in order (`plan.ts`, `PiOpSink`); this one
 *   appends them as JSON lines to one file per session, written in blocks of
 *   about 1 MiB, and `ops(i)` reads session `i`'s back, in order, as often as
 *   needed;
 * - the scan's per-entry index (`entryIndex.ts`, in `dir`);
 * - number columns (`column(kind)`, `columns.ts`): branch paths, parents,
 *   depths and op digests while planning, original times while writing.
 *
 * The directory is `<parent>/palimpsest-pi-<key>-<pid>-XXXXXX`: `parent` the OS
 * temp directory unless given, `key` names the import (the importer passes
 * the first 16 hex digits of the SHA-256 of the file's absolute path: the
 * spill exists before the file's digest is known; `export --tree` of an
 * imported family passes `x` and the first 16 hex digits of the source's
 * digest), `pid` the process, `XXXXXX` what `mkdtemp` adds. `parseSpillName`
 * is the one reading of such a name; a name it does not parse is never
 * removed. Opening a spill first removes every directory of the same key whose
 * process is no longer running (a command killed before its `dispose()`), so
 * running a killed import or export again leaves no spill behind; a running
 * process's spill is never touched. `dispose()` removes the directory (it was
 * created by this process and holds nothing else); a command stopped by a
 * signal removes its own with `removeOwnSpills` (`cli/interrupt.ts`).
 */
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync, createReadStream, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { diskColumn, type PiColumn, type PiColumnFactory, type PiColumnKind } from './columns.ts';
import type { PiOpSink, PiPlanOp } from './plan.ts';

/** Bytes buffered before a write to the spill file. */
const BLOCK = 1 << 20;

/** A spill of planned ops: the sink planning writes to, the reader, and the cleanup. */
export interface PiOpSpill {
  /** The spill directory (the import's scratch files go here). */
  readonly dir: string;
  /** A fresh number column in a file of the directory (removed by its `close`, or with the directory). */
  readonly column: PiColumnFactory;
  readonly sink: PiOpSink;
  /** Ends the last session's file (call once planning is done). */
  readonly finish: () => void;
  /** The ops of session `i`, in order. */
  readonly ops: (session: number) => AsyncIterable<PiPlanOp>;
  /** Removes the spill directory. */
  readonly dispose: () => void;
}

/** The prefix of every spill directory's name. */
const SPILL_PREFIX = 'palimpsest-pi-';

/**
 * The name of a spill directory, parsed: `key` (1-64 letters or digits: a hex
 * key for an import, `x` and hex for an export), `pid` (a positive decimal
 * integer: the process that made it) and `rest` (the 6 letters or digits
 * `mkdtemp` adds).
 */
export interface SpillName {
  readonly key: string;
  readonly pid: number;
  readonly rest: string;
}

/** `palimpsest-pi-<key>-<pid>-<rest>`, exactly as `openOpSpill` makes it. */
const SPILL_NAME = new RegExp(`^${SPILL_PREFIX}([0-9A-Za-z]{1,64})-([1-9][0-9]{0,15})-([0-9A-Za-z]{6})$`);

/**
 * Parses `name` as a spill directory's name (`palimpsest-pi-<key>-<pid>-<rest>`,
 * `SpillName`); `undefined` for any other name (nothing of ours: never
 * removed). Pure.
 */
export const parseSpillName = (name: string): SpillName | undefined => {
  const m = SPILL_NAME.exec(name);
  if (m === null) return undefined;
  const pid = Number(m[2]);
  return Number.isSafeInteger(pid) ? { key: m[1]!, pid, rest: m[3]! } : undefined;
};

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
 * Removes the directories under `parent` whose name parses as a spill's
 * (`parseSpillName`) and whose parsed name `matches` (recursively); returns
 * how many. Files and symbolic links are never removed, whatever their name.
 * A directory that cannot be listed or removed is left (the next run tries
 * again).
 */
const removeSpillsWhere = (parent: string, matches: (spill: SpillName) => boolean): number => {
  let entries: Dirent[];
  try {
    entries = readdirSync(parent, { withFileTypes: true });
  } catch {
    return 0;
  }
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const spill = parseSpillName(entry.name);
    if (spill === undefined || !matches(spill)) continue;
    try {
      rmSync(join(parent, entry.name), { recursive: true, force: true });
      removed++;
    } catch {
      // Left for the next run.
    }
  }
  return removed;
};

/**
 * Removes the spill directories of key `key` under `parent` whose process is
 * no longer running (not this one, not a live one of any user); returns how
 * many. A directory that cannot be listed or removed is left (the next run
 * tries again).
 */
export const removeStaleSpills = (parent: string, key: string): number =>
  removeSpillsWhere(parent, (s) => s.key === key && s.pid !== process.pid && !isRunning(s.pid));

/**
 * Removes this process's spill directories under `parent`, whatever their
 * key (an import's hex key or an export's `x` key), synchronously: what a
 * command stopped by a signal would otherwise leave until the same command
 * runs again. Returns how many. Only directories named by the spill scheme
 * with this process's pid are touched (one of a dead earlier process that had
 * the same pid is stale, so also removed); one that cannot be removed is left.
 */
export const removeOwnSpills = (parent: string): number => removeSpillsWhere(parent, (s) => s.pid === process.pid);

/**
 * Opens a spill for the import named `key` (letters and digits) in a fresh
 * directory under `parent` (default: the OS temp directory), after removing
 * that key's spills left by processes no longer running (module comment).
 * Throws the `fs` error if the directory cannot be made.
 */
export const openOpSpill = (key: string, parent: string = tmpdir()): PiOpSpill => {
  if (!/^[0-9A-Za-z]{1,64}$/.test(key)) throw new RangeError(`spill key must be 1-64 letters or digits, got ${JSON.stringify(key)}`);
  removeStaleSpills(parent, key);
  const dir = mkdtempSync(join(parent, `${SPILL_PREFIX}${key}-${process.pid}-`));
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
  let made = 0;
  // The columns not closed yet (closed by `dispose`, so no file stays open).
  const columns = new Set<PiColumn>();
  const column = (kind: PiColumnKind): PiColumn => {
    const c = diskColumn(join(dir, `column-${++made}.bin`), kind);
    const tracked: PiColumn = {
      get: c.get,
      set: c.set,
      close: () => {
        if (columns.delete(tracked)) c.close();
      },
    };
    columns.add(tracked);
    return tracked;
  };
  return {
    dir,
    column,
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
        for (const c of [...columns]) c.close();
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
