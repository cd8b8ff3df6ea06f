/**
 * The raw-LevelDB side of a ratio: the batches a store wrote, captured as they
 * were written and replayed into a plain `level` database with nothing of ours
 * around them (same keys, same values, one awaited `batch` each, as the store
 * awaits its appends). Used by B1 (ours / raw) and by P4's floor (pi / raw: the
 * best P4 any store writing through LevelDB's awaited batch could reach).
 */
import { Level } from 'level';

/** One operation of a captured batch, as the store handed it to `level` (values as bytes). */
export type RawOp = { readonly type: 'put'; readonly key: string; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: string };

type CapturedOp = { type: 'put' | 'del'; key: string; value?: unknown };

/** Marks the databases `openRawLevel` opens: their batches are the replay, never captured. */
const RAW = Symbol('raw replay database');

/** Captures every array-form `batch` of every `level` database in this process (except `openRawLevel`'s) until `stop()`. */
export interface BatchCapture {
  /** The batches captured since the last `take()` (or since the capture started), values as bytes. */
  take(): RawOp[][];
  /** Restores `level`'s own `batch`. Idempotent. */
  stop(): void;
}

/** Starts capturing (wraps the `batch` method `Level` inherits, for this measurement only). */
export const captureLevelBatches = (): BatchCapture => {
  const proto = Object.getPrototypeOf(Level.prototype) as { batch: (...args: unknown[]) => unknown };
  const original = proto.batch;
  let captured: CapturedOp[][] = [];
  proto.batch = function (this: unknown, ...args: unknown[]) {
    // The array itself, not a copy: the store builds a fresh one per batch and never touches it
    // again (abstract-level copies each operation), so copying here would only add to the time
    // measured as ours; `take()` converts it, outside the timed spans.
    if (Array.isArray(args[0]) && !(this as { [RAW]?: true })[RAW]) captured.push(args[0] as CapturedOp[]);
    return original.apply(this, args);
  };
  return {
    take: () => {
      const out = captured.map((ops) =>
        ops.map((op): RawOp => (op.type === 'put' ? { type: 'put', key: op.key, value: typeof op.value === 'string' ? Buffer.from(op.value) : (op.value as Uint8Array) } : { type: 'del', key: op.key })),
      );
      captured = [];
      return out;
    },
    stop: () => {
      proto.batch = original;
    },
  };
};

/** Bytes of keys and put values in `batches`. */
export const rawBytes = (batches: readonly RawOp[][]): number =>
  batches.reduce((n, ops) => n + ops.reduce((m, op) => m + op.key.length + (op.type === 'put' ? op.value.length : 0), 0), 0);

/** A plain `level` database that replays captured batches. */
export interface RawLevel {
  /** Writes `batches` in order, one awaited `batch` each. */
  replay(batches: readonly RawOp[][]): Promise<void>;
  close(): Promise<void>;
}

/** A plain `level` database at `path` (values as bytes, `level`'s default options) that replays captured batches, one awaited `batch` each. */
export const openRawLevel = async (path: string): Promise<RawLevel> => {
  const db = new Level<string, Uint8Array>(path, { valueEncoding: 'view' });
  await db.open();
  Object.defineProperty(db, RAW, { value: true });
  return {
    replay: async (batches) => {
      for (const ops of batches) await db.batch(ops as never);
    },
    close: () => db.close(),
  };
};
