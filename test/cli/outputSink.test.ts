/** `outputSink`: lines gathered into chunks; a full stream holds the next write until it drains. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CHUNK_CHARS, outputSink } from '../../src/cli/outputSink.ts';

/** A stream that reports itself full after every write until `drain()` is called. */
class FullStream extends EventEmitter {
  readonly chunks: string[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return false;
  }
  drain(): void {
    this.emit('drain');
  }
}

describe('outputSink', () => {
  it('writes whole lines in chunks and waits for drain when the stream is full', async () => {
    const out = new FullStream();
    const sink = outputSink(out);
    const line = `${'x'.repeat(999)}\n`;
    let waiting: Promise<void> | undefined;
    let n = 0;
    while (waiting === undefined) {
      const r = sink.write(line);
      n++;
      if (r !== undefined) waiting = r;
    }
    // One chunk of whole lines went out once CHUNK_CHARS were gathered; the producer now waits.
    expect(out.chunks).toEqual([line.repeat(n)]);
    expect(n).toBe(Math.ceil(CHUNK_CHARS / line.length));
    let released = false;
    void waiting.then(() => (released = true));
    await new Promise((r) => setImmediate(r));
    expect(released).toBe(false);
    out.drain();
    await waiting;
    expect(released).toBe(true);
    // The rest goes out at the end.
    expect(sink.write('tail\n')).toBeUndefined();
    const ended = sink.end();
    out.drain();
    await ended;
    expect(out.chunks.join('')).toBe(`${line.repeat(n)}tail\n`);
  });

  it('a stream without once (a plain writer) is written to without waiting', async () => {
    const chunks: string[] = [];
    const sink = outputSink({ write: (c: string) => (chunks.push(c), false) });
    for (let i = 0; i < 200; i++) expect(sink.write(`${'y'.repeat(999)}\n`)).toBeUndefined();
    await sink.end();
    expect(chunks.join('')).toBe(`${'y'.repeat(999)}\n`.repeat(200));
  });
});
