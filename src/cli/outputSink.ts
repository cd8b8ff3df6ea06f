/**
 * Streamed text output on a stream the CLI writes to (stdout): lines are
 * gathered into writes of about `CHUNK_CHARS` characters, and when the stream
 * says it is full (`write` returned `false`) the next write waits for its
 * `drain` event (backpressure), so a slow reader holds the producer back
 * instead of the process buffering the output.
 */
import type { Output } from './context.ts';

/** Characters gathered before one write. */
export const CHUNK_CHARS = 1 << 16;

/** A line sink: `write` (awaited when it returns a promise) and `end`, which writes what is left. */
export interface OutputSink {
  readonly write: (line: string) => void | Promise<void>;
  readonly end: () => Promise<void>;
}

/** A sink over `out` (module comment). A stream without `once` is written to without waiting. */
export const outputSink = (out: Output): OutputSink => {
  let parts: string[] = [];
  let pending = 0;
  const flush = (): void | Promise<void> => {
    if (parts.length === 0) return;
    const ok = out.write(parts.join(''));
    parts = [];
    pending = 0;
    const once = out.once?.bind(out);
    if (ok === false && once !== undefined) return new Promise<void>((resolve) => void once('drain', () => resolve()));
  };
  return {
    write: (line) => {
      parts.push(line);
      pending += line.length;
      if (pending >= CHUNK_CHARS) return flush();
    },
    end: async () => {
      await flush();
    },
  };
};
