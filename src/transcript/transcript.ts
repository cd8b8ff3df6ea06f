/**
 * The in-memory transcript: messages in a persistent vector, the running digest
 * accumulator of the whole list (the head revision), and a checkpoint accumulator
 * every `CHECKPOINT_INTERVAL` messages (model.md §7.4).
 *
 * Invariants of every `Transcript` these functions return:
 * - `head` has absorbed exactly the messages, so `accumulatorDigest(head)` is
 *   `transcriptDigest(messages)`;
 * - `checkpoints` has `floor(length / K) + 1` entries and `checkpoints[i]` has
 *   absorbed the first `i * K` messages (`checkpoints[0]` is the empty accumulator);
 * - every message is deeply frozen, so `canonicalMessageBytes` memoizes it and a
 *   message is canonicalized once however often it is re-hashed.
 *
 * Costs (n = length, K = 256): append O(size of the new messages); `takeTranscript`
 * and `prefixRevision` O(log n + K) message hashes at most; `replaceSpan` hashes
 * fewer than K prefix messages, the replacement and the suffix, never the prefix
 * below the checkpoint.
 *
 * ## Lazily loaded messages
 *
 * `messages` and `checkpoints` may hold lazy leaves (`vecFromLazy`): a store
 * rebuilds a long transcript from a snapshot with `transcriptFromParts` without
 * reading its messages, and they are read (and decoded, and verified by the store)
 * the first time something needs them. What each function reads:
 * - `appendToTranscript`, `transcriptLength`, `lastMessage`, `transcriptRevision`,
 *   `takeTranscript(t, length)`: nothing below the vector's tail (the last
 *   message is always materialized), so appending after a cold load does not
 *   read the prefix;
 * - `takeTranscript(t, n)`, `prefixRevision(t, n)`: the checkpoint at or below `n`
 *   and messages `[floor(n / K) * K, n)` (at most one chunk of K);
 * - `replaceSpan(t, start, …)`: the checkpoint at or below `start` and every
 *   message from it to the end (they are re-hashed anyway);
 * - `transcriptMessageAt`, `transcriptSlice`, `spanDigest`: the messages asked for;
 *   `transcriptMessages`: all of them.
 * A read that needs a lazy leaf may throw what the store's loader throws (a
 * store's `LazyReadFailure`: `CorruptRecord` for a missing or corrupt chunk,
 * `StoreClosed` after close); these functions never catch it.
 */
import * as E from 'fp-ts/lib/Either.js';
import {
  accumulatorDigest,
  appendMessages,
  shareAccumulator,
  emptyAccumulator,
  type Digest,
  type DigestAccumulator,
  type Message,
} from '../model/index.ts';
import { emptyVec, vecFrom, vecGet, vecIter, vecLast, vecPush, vecPushAll, vecSize, vecSlice, vecTake, vecToArray, type PVec } from './vector.ts';

/** Messages between two digest checkpoints (K of model.md §7.4). */
export const CHECKPOINT_INTERVAL = 256;
const K = CHECKPOINT_INTERVAL;

/**
 * An immutable transcript.
 * - `messages`: the messages in order (deep-frozen);
 * - `head`: the accumulator that absorbed all of them (`transcriptRevision`);
 * - `checkpoints[i]`: the accumulator after the first `i * CHECKPOINT_INTERVAL` messages.
 */
export interface Transcript {
  readonly messages: PVec<Message>;
  readonly head: DigestAccumulator;
  readonly checkpoints: PVec<DigestAccumulator>;
}

/**
 * Values `deepFreeze` has frozen whole: its roots and the nodes it met frozen
 * already (not every node of a message). A cache, nothing more: a value it
 * has forgotten is walked again and found frozen. Bounded: after
 * `DEEP_FROZEN_MEMO_LIMIT` additions it starts over with a new set, because a
 * `WeakSet`'s table never shrinks when the GC clears its dead entries (V8 11.3):
 * a 400,000-message import left one of 16.8 MB (room for ~1,000,000 entries)
 * for the rest of the process.
 */
let deepFrozen = new WeakSet<object>();
let deepFrozenAdded = 0;
/** See `deepFrozen`: ~1 MB of table at most. */
const DEEP_FROZEN_MEMO_LIMIT = 65_536;

const rememberDeepFrozen = (v: object): void => {
  if (++deepFrozenAdded > DEEP_FROZEN_MEMO_LIMIT) {
    deepFrozen = new WeakSet<object>();
    deepFrozenAdded = 1;
  }
  deepFrozen.add(v);
};

/**
 * Deep-freezes a JSON-like value in place (objects and arrays; primitives are
 * left alone) and returns it. A value already frozen whole by this function,
 * at the root or met inside, is skipped; a cycle ends the walk.
 */
export const deepFreeze = <A>(value: A): A => {
  if (typeof value !== 'object' || value === null || deepFrozen.has(value)) return value;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    // A node frozen already (by its owner, or by this walk when met again through a shared or
    // cyclic reference) is remembered before its members are walked, so each node is walked at most twice.
    if (Object.isFrozen(v)) {
      if (deepFrozen.has(v)) continue;
      rememberDeepFrozen(v);
    } else Object.freeze(v);
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'object' && x !== null) stack.push(x);
    }
  }
  rememberDeepFrozen(value);
  return value;
};

let EMPTY: Transcript | undefined;

/** The transcript with no messages (revision `sha256:4f53cd…b945`). */
export const emptyTranscript = (): Transcript => {
  if (EMPTY === undefined) {
    const acc = emptyAccumulator();
    EMPTY = Object.freeze({ messages: emptyVec<Message>(), head: acc, checkpoints: vecFrom([acc]) });
  }
  return EMPTY;
};

/**
 * Absorbs `ms` into `head`, pushing a checkpoint each time the count reaches a
 * multiple of K. `checkpoints` must match `head` (floor(count / K) + 1 entries).
 */
const absorb = (
  head: DigestAccumulator,
  checkpoints: PVec<DigestAccumulator>,
  ms: readonly Message[] | Iterable<Message>,
): { head: DigestAccumulator; checkpoints: PVec<DigestAccumulator> } => {
  let acc = head;
  let cps = checkpoints;
  let chunk: Message[] = [];
  for (const m of ms) {
    chunk.push(m);
    if ((acc.count + chunk.length) % K === 0) {
      acc = appendMessages(acc, chunk);
      // Forks and rewrites append to a checkpoint again: its hash is copied, never taken over.
      shareAccumulator(acc);
      cps = vecPush(cps, acc);
      chunk = [];
    }
  }
  if (chunk.length > 0) acc = appendMessages(acc, chunk);
  return { head: acc, checkpoints: cps };
};

/**
 * A new transcript with `ms` appended (each message is deep-frozen in place, which
 * lets `canonicalMessageBytes` memoize it). `t` is unchanged and stays valid.
 * O(total size of `ms`), independent of the length of `t`. No shape check (see
 * `checkAppend`); messages are assumed to be valid `Message`s (decoded).
 */
export const appendToTranscript = (t: Transcript, ms: readonly Message[]): Transcript => {
  if (ms.length === 0) return t;
  for (const m of ms) deepFreeze(m);
  const { head, checkpoints } = absorb(t.head, t.checkpoints, ms);
  return Object.freeze({ messages: vecPushAll(t.messages, ms), head, checkpoints });
};

/**
 * A transcript from its parts, as a store rebuilds it from a snapshot: `messages`
 * (possibly with lazy leaves whose loaders return decoded, deep-frozen messages),
 * `head` = the accumulator that absorbed exactly those messages, `checkpoints[i]`
 * = the accumulator of the first `i * K` messages. Checks what costs O(1):
 * `head.count` is the length and there are `floor(length / K) + 1` checkpoints
 * (`Left(reason)` otherwise). The accumulators themselves are trusted (the store
 * imports them from its snapshot; `verify` recomputes them from the log).
 * Reads no message.
 */
export const transcriptFromParts = (messages: PVec<Message>, head: DigestAccumulator, checkpoints: PVec<DigestAccumulator>): E.Either<string, Transcript> => {
  const n = vecSize(messages);
  if (head.count !== n) return E.left(`the head accumulator absorbed ${head.count} messages, the transcript has ${n}`);
  const expected = Math.floor(n / K) + 1;
  if (vecSize(checkpoints) !== expected) return E.left(`${vecSize(checkpoints)} digest checkpoints for ${n} messages, ${expected} expected`);
  return E.right(Object.freeze({ messages, head, checkpoints }));
};

/** A transcript holding `ms` (deep-frozen in place). O(total size of `ms`). */
export const transcriptFromMessages = (ms: readonly Message[]): Transcript => appendToTranscript(emptyTranscript(), ms);

/** Number of messages. O(1). */
export const transcriptLength = (t: Transcript): number => vecSize(t.messages);

/** A new array of the messages (the messages themselves are shared, frozen). O(n). */
export const transcriptMessages = (t: Transcript): Message[] => vecToArray(t.messages);

/** Messages `[start, end)` as a new array, bounds clamped to `[0, length]`. */
export const transcriptSlice = (t: Transcript, start: number, end: number): Message[] => vecSlice(t.messages, start, end);

/** Message `i`, or `undefined` when `i` is not an index. O(log n). */
export const transcriptMessageAt = (t: Transcript, i: number): Message | undefined => vecGet(t.messages, i);

/** The last message, or `undefined` for an empty transcript. O(1). */
export const lastMessage = (t: Transcript): Message | undefined => vecLast(t.messages);

/** The head revision: `transcriptDigest` of all messages (memoized; O(1) after the first call). */
export const transcriptRevision = (t: Transcript): Digest => accumulatorDigest(t.head);

const clampCount = (t: Transcript, n: number): number => (Number.isNaN(n) ? 0 : Math.max(0, Math.min(Math.trunc(n), transcriptLength(t))));

/** The accumulator of the first `k` messages (`0 <= k <= length`), from the checkpoint at or below `k`. */
const prefixAccumulator = (t: Transcript, k: number): DigestAccumulator => {
  if (k === transcriptLength(t)) return t.head;
  const c = Math.floor(k / K);
  const cp = vecGet(t.checkpoints, c);
  if (cp === undefined) throw new Error(`transcript invariant broken: no checkpoint ${c}`);
  // These messages are read only to resume the digest: their texts are not kept (`commaMessageBytes`).
  return appendMessages(cp, vecIter(t.messages, c * K, k), false);
};

/**
 * The revision of the first `n` messages, `n` clamped to `[0, length]`: resumes from
 * the checkpoint at or below `n` and absorbs fewer than K messages.
 */
export const prefixRevision = (t: Transcript, n: number): Digest => accumulatorDigest(prefixAccumulator(t, clampCount(t, n)));

/**
 * The transcript of the first `min(max(n, 0), length)` messages. Shares the message
 * structure and the checkpoints with `t`; hashes fewer than K messages.
 */
export const takeTranscript = (t: Transcript, n: number): Transcript => {
  const k = clampCount(t, n);
  if (k === transcriptLength(t)) return t;
  return Object.freeze({
    messages: vecTake(t.messages, k),
    head: prefixAccumulator(t, k),
    checkpoints: vecTake(t.checkpoints, Math.floor(k / K) + 1),
  });
};

/**
 * `t[0, start) ++ replacement ++ t[end, length)`; replacement messages are
 * deep-frozen in place. Hashing resumes from the checkpoint at or below `start`
 * and absorbs fewer than K prefix messages, `replacement` and the suffix
 * (model.md §7.4); the prefix below that checkpoint is never read.
 * Precondition: integers with `0 <= start <= end <= length`; otherwise throws
 * `RangeError` (callers check the range first: `InvalidRewriteRange`).
 */
export const replaceSpan = (t: Transcript, start: number, end: number, replacement: readonly Message[]): Transcript => {
  const n = transcriptLength(t);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > n) {
    throw new RangeError(`replaceSpan: invalid range [${start}, ${end}) of ${n} messages`);
  }
  for (const m of replacement) deepFreeze(m);
  const c = Math.floor(start / K);
  const base = vecGet(t.checkpoints, c);
  if (base === undefined) throw new Error(`transcript invariant broken: no checkpoint ${c}`);
  const cps = vecTake(t.checkpoints, c + 1);
  const slack = vecIter(t.messages, c * K, start);
  const suffix = vecSlice(t.messages, end, n);
  const prefixHead = appendMessages(base, slack);
  const { head, checkpoints } = absorb(prefixHead, cps, [...replacement, ...suffix]);
  return Object.freeze({ messages: vecPushAll(vecPushAll(vecTake(t.messages, start), replacement), suffix), head, checkpoints });
};

/**
 * `transcriptDigest` of messages `[start, end)`, bounds clamped to `[0, length]`
 * (an empty range gives the digest of `[]`). O(end - start) hashing of memoized bytes.
 */
export const spanDigest = (t: Transcript, start: number, end: number): Digest =>
  accumulatorDigest(appendMessages(emptyAccumulator(), vecIter(t.messages, start, end)));
