/**
 * Log subscriptions of the session engine.
 *
 * A subscription yields every committed record of one session from a start seq,
 * in seq order, with no gap and no duplicate: first the records already stored
 * (read from the store's log in pages), then the records the engine commits
 * while it runs.
 *
 * How the switch from stored to live records stays exact:
 * - the subscription registers for live records synchronously, *before* it
 *   reads anything from the store. A record the engine committed before the
 *   registration is on disk when the first read runs; one committed after it is
 *   delivered live. Both paths are deduplicated by seq (`nextSeq`).
 * - a live record whose seq is above `nextSeq` means something was written
 *   around the engine (a writer using the store directly): the gap is read back
 *   from the store before the live record is yielded.
 * - a slow consumer never loses records and never makes memory grow without
 *   bound: past `bufferSize` held live records the buffer is dropped and the
 *   subscription reads those records back from the store (they are durable),
 *   then returns to the live feed.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { LogRecord } from '../session/record.ts';
import { corruptRecord } from '../store/errors.ts';
import type { EngineError } from './errors.ts';

/** Options of `SessionEngine.subscribe`. */
export interface SubscribeOptions {
  /**
   * The first seq to yield (a positive integer). Default: the first record
   * committed after the writes queued before this call (only new records).
   */
  readonly fromSeq?: number;
  /** Ends the subscription when aborted (like `return()`). */
  readonly signal?: AbortSignal;
  /** Live records held for a slow consumer before falling back to the store (default: the engine's `subscriptionBuffer`, 1024). */
  readonly bufferSize?: number;
}

/**
 * A running subscription: an async iterator of `LogRecord`s (one consumer; use
 * it with `for await`). It ends when `return()` or `close()` is called, the
 * signal aborts, the engine closes, or a read fails; in the last case `error`
 * says why. It never throws.
 */
export interface Subscription extends AsyncIterableIterator<LogRecord> {
  /** The session followed. */
  readonly sessionId: string;
  /** Why the subscription ended early (a failed store read, a bad `fromSeq`); `undefined` otherwise. */
  readonly error: EngineError | undefined;
  /** Whether the subscription has ended. */
  readonly closed: boolean;
  /** Ends the subscription; a pending `next()` resolves `done`. Idempotent. */
  close(): void;
}

/** One page of stored records from `from`; `reachedHead` when the page ends at the session's last record. */
export interface StoredPage {
  readonly records: readonly LogRecord[];
  readonly reachedHead: boolean;
}

/** What a subscription needs from the engine. */
export interface SubscriptionDeps {
  readonly sessionId: string;
  /** Resolves the first seq to yield; called once, synchronously, when the subscription is made (so "only new records" is fixed then). */
  readonly start: () => Promise<E.Either<EngineError, number>>;
  /** Reads up to `max` stored records from `from`. */
  readonly read: (from: number, max: number) => Promise<E.Either<EngineError, StoredPage>>;
  /** Called once when the subscription ends (unregister). */
  readonly onEnd: () => void;
  readonly bufferSize: number;
  readonly pageSize: number;
  readonly signal?: AbortSignal;
}

/** The engine's side of a subscription: feed committed records, end it. */
export interface SubscriptionControl {
  readonly subscription: Subscription;
  /** Delivers records the engine just committed (in seq order). */
  push(records: readonly LogRecord[]): void;
  /** Ends the subscription (with an error, or cleanly). */
  end(error?: EngineError): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Creates a subscription and its control. The caller registers the control for
 * live records *before* the first `next()` can read the store (that is, right
 * away, synchronously).
 */
export const makeSubscription = (deps: SubscriptionDeps): SubscriptionControl => {
  const { sessionId, bufferSize, pageSize } = deps;
  let ended = false;
  let error: EngineError | undefined;
  let nextSeq: number | undefined;
  const startPromise: Promise<E.Either<EngineError, number>> = deps.start();
  // live records: a queue with a moving head (compacted when half consumed)
  let live: LogRecord[] = [];
  let liveHead = 0;
  // stored records read but not yet yielded
  let stored: readonly LogRecord[] = [];
  let storedHead = 0;
  // the store may hold records not (or no longer) in the live queue
  let mustRead = true;
  let overflows = 0;
  let fruitlessReads = 0;
  let wake: (() => void) | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const onAbort = (): void => end();

  const end = (e?: EngineError): void => {
    if (ended) return;
    ended = true;
    if (e !== undefined) error = e;
    live = [];
    liveHead = 0;
    stored = [];
    storedHead = 0;
    deps.signal?.removeEventListener('abort', onAbort);
    deps.onEnd();
    notify();
  };

  const push = (records: readonly LogRecord[]): void => {
    if (ended || records.length === 0) return;
    for (const r of records) live.push(r);
    if (live.length - liveHead > bufferSize) {
      // Slow consumer: drop the held records; they are read back from the store.
      live = [];
      liveHead = 0;
      mustRead = true;
      overflows++;
    }
    notify();
  };

  const shiftLive = (): LogRecord | undefined => {
    const r = live[liveHead];
    if (r === undefined) return undefined;
    liveHead++;
    if (liveHead > 1024 && liveHead * 2 > live.length) {
      live = live.slice(liveHead);
      liveHead = 0;
    }
    return r;
  };

  const step = async (): Promise<IteratorResult<LogRecord, undefined>> => {
    for (;;) {
      if (ended) return DONE;
      if (nextSeq === undefined) {
        const s = await startPromise;
        if (ended) return DONE;
        if (E.isLeft(s)) {
          end(s.left);
          return DONE;
        }
        nextSeq = s.right;
      }
      const want: number = nextSeq;
      // 1. stored records already read
      while (storedHead < stored.length) {
        const r = stored[storedHead++]!;
        if (r.seq === want) {
          nextSeq = want + 1;
          return { done: false, value: r };
        }
      }
      // 2. live records (older ones were yielded from the store)
      while (live[liveHead] !== undefined && live[liveHead]!.seq < want) shiftLive();
      const head = live[liveHead];
      if (head !== undefined && head.seq === want) {
        shiftLive();
        nextSeq = want + 1;
        return { done: false, value: head };
      }
      if (head !== undefined) mustRead = true; // a gap: written around the engine
      // 3. read the store
      if (mustRead) {
        const epoch = overflows;
        const page = await deps.read(want, pageSize);
        if (ended) return DONE;
        if (E.isLeft(page)) {
          end(page.left);
          return DONE;
        }
        const records = page.right.records;
        if (page.right.reachedHead && epoch === overflows) mustRead = false;
        if (records.length === 0 && live[liveHead] !== undefined && live[liveHead]!.seq > want) {
          // The live feed is ahead of the store. A writer around the engine can race a read once or
          // twice; for records the engine committed it cannot happen (they are on disk before they are fed).
          if (++fruitlessReads > 3) {
            end(corruptRecord(sessionId, want, `record ${want} is missing from the store while record ${live[liveHead]!.seq} was committed`));
            return DONE;
          }
        } else fruitlessReads = 0;
        stored = records;
        storedHead = 0;
        continue;
      }
      // 4. wait for a live record or the end
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };

  const subscription: Subscription = {
    sessionId,
    get error() {
      return error;
    },
    get closed() {
      return ended;
    },
    close: () => end(),
    next: () => {
      const p = chain.then(step, step);
      chain = p;
      return p;
    },
    return: () => {
      end();
      return Promise.resolve(DONE);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  if (deps.signal !== undefined) {
    if (deps.signal.aborted) end();
    else deps.signal.addEventListener('abort', onAbort, { once: true });
  }
  return { subscription, push, end };
};
