/**
 * The planned ops of a streamed pi import, kept on disk between planning and
 * writing (issue 9, P7): planning hands each session's own ops to a sink in
 * order (`plan.ts`, `PiOpSink`); this one appends them as JSON lines to one
 * file per session in a fresh directory under the OS temp directory
 * (`palimpsest-pi-XXXXXX`), written in blocks of about 1 MiB, and `ops(i)`
 * reads session `i`'s back, in order, as often as needed (the check and the
 * write each read them once). `dispose()` removes the directory (it was created
 * by this import and holds nothing else); a process killed mid-import leaves it
 * to the OS's temp cleaning.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync, createReadStream } from 'node:fs';
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

/** Opens a spill in a fresh temp directory. Throws the `fs` error if the directory cannot be made. */
export const openOpSpill = (): PiOpSpill => {
  const dir = mkdtempSync(join(tmpdir(), 'palimpsest-pi-'));
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
