/**
 * Incremental transcript digest (model.md §7.4).
 *
 * A `DigestAccumulator` is an immutable value holding a SHA-256 state that has
 * absorbed `T(messages)` without its closing `]`. `append` clones the state
 * (eight words, at most 63 pending bytes) and absorbs only the new message, so
 * appending costs O(size of the message) whatever the transcript length; an
 * existing accumulator is never changed, so older Session values stay valid.
 *
 * `exportAccumulator` / `importAccumulator` move the state in and out of
 * snapshots. @noble/hashes has no public API for that, so they use the runtime
 * fields of its SHA-256 class (`get()`, `set()`, `buffer`, `pos`, `length`); the
 * lock file pins the version and `test/model/accumulator.test.ts` fails if an
 * upgrade moves them.
 */
import * as E from 'fp-ts/lib/Either.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { canonicalMessageBytes, framing } from './digest.ts';
import { finalizeWith } from './hashing.ts';
import { decodeWith, nat, refine, str, strict, type DecodeError } from './decode.ts';
import type * as t from 'io-ts';
import type { Message, MessageInput } from './message.ts';
import type { Digest } from './scalars.ts';

type Sha256 = ReturnType<typeof sha256.create>;

/** Runtime fields of @noble/hashes 2.x's SHA-256 used for export/import. */
interface Sha256Internals {
  get(): number[];
  set(...words: number[]): void;
  buffer: Uint8Array;
  pos: number;
  length: number;
}

/** An immutable incremental digest: `count` messages absorbed, `byteLength` bytes of `T` so far. */
export interface DigestAccumulator {
  readonly count: number;
  readonly byteLength: number;
  readonly state: Sha256;
}

const digestMemo = new WeakMap<DigestAccumulator, Digest>();

/** A state that has absorbed `"["`. */
export const emptyAccumulator = (): DigestAccumulator => {
  const state = sha256.create();
  state.update(framing.OPEN);
  return Object.freeze({ count: 0, byteLength: 1, state });
};

/** A new accumulator that has also absorbed `m` (and the `,` before it). `acc` is unchanged. */
export const appendMessage = (acc: DigestAccumulator, m: Message | MessageInput): DigestAccumulator => {
  const state = acc.state.clone();
  let byteLength = acc.byteLength;
  if (acc.count > 0) {
    state.update(framing.COMMA);
    byteLength += 1;
  }
  const bytes = canonicalMessageBytes(m);
  state.update(bytes);
  return Object.freeze({ count: acc.count + 1, byteLength: byteLength + bytes.length, state });
};

/** Folds `appendMessage` over `messages`, cloning the state once instead of once per message. */
export const appendMessages = (acc: DigestAccumulator, messages: Iterable<Message | MessageInput>): DigestAccumulator => {
  let state: Sha256 | undefined;
  let { count, byteLength } = acc;
  for (const m of messages) {
    state ??= acc.state.clone();
    if (count > 0) {
      state.update(framing.COMMA);
      byteLength += 1;
    }
    const bytes = canonicalMessageBytes(m);
    state.update(bytes);
    byteLength += bytes.length;
    count += 1;
  }
  return state === undefined ? acc : Object.freeze({ count, byteLength, state });
};

/** The transcript digest of what `acc` absorbed (memoized per accumulator). */
export const accumulatorDigest = (acc: DigestAccumulator): Digest => {
  let d = digestMemo.get(acc);
  if (d === undefined) {
    d = finalizeWith(acc.state, framing.CLOSE);
    digestMemo.set(acc, d);
  }
  return d;
};

const hex = (name: string, re: RegExp) => refine(str, name, (s) => (re.test(s) ? undefined : `expected ${name}`));

/** Snapshot form of an accumulator: state words (64 hex, big-endian) and pending bytes (hex). */
export const ExportedAccumulatorCodec = strict('ExportedAccumulator', {
  count: nat,
  byteLength: nat,
  chain: hex('64 lowercase hex digits', /^[0-9a-f]{64}$/),
  tail: hex('lowercase hex bytes', /^(?:[0-9a-f]{2})*$/),
});
/** Snapshot form of an accumulator. */
export type ExportedAccumulator = t.TypeOf<typeof ExportedAccumulatorCodec>;

const chainOf = (state: Sha256): string =>
  (state as unknown as Sha256Internals)
    .get()
    .map((w) => (w >>> 0).toString(16).padStart(8, '0'))
    .join('');
/** The SHA-256 initial chain value (FIPS 180-4 §5.3.3): the chain until 64 bytes are absorbed. */
const initialChain = chainOf(sha256.create());

/** `{ count, byteLength, chain, tail }` for a snapshot. */
export const exportAccumulator = (acc: DigestAccumulator): ExportedAccumulator => {
  const s = acc.state as unknown as Sha256Internals;
  const chain = chainOf(acc.state);
  const tail = bytesToHex(s.buffer.subarray(0, s.pos));
  return { count: acc.count, byteLength: acc.byteLength, chain, tail };
};

/**
 * Rebuilds an accumulator from its snapshot form. `Left` when the value is not an
 * `ExportedAccumulator` or its parts disagree (`tail` must hold `byteLength mod 64`
 * bytes; an empty transcript has `byteLength` 1 and `count` 0; below 64 bytes the
 * chain is the SHA-256 initial value and the tail starts with `[`).
 */
export const importAccumulator = (u: unknown): E.Either<DecodeError, DigestAccumulator> => {
  const r = decodeWith(ExportedAccumulatorCodec, u);
  if (E.isLeft(r)) return r;
  const { count, byteLength, chain, tail } = r.right;
  const bad = (message: string): E.Either<DecodeError, DigestAccumulator> =>
    E.left({ _tag: 'DecodeError', path: '$', reason: 'invalid_value', expected: 'ExportedAccumulator', message: `invalid_value at $: ${message}` });
  if (tail.length / 2 !== byteLength % 64) return bad(`tail holds ${tail.length / 2} bytes, byteLength ${byteLength} needs ${byteLength % 64}`);
  if (byteLength < 1 || (count === 0) !== (byteLength === 1)) return bad(`count ${count} does not fit byteLength ${byteLength}`);
  if (count > 0 && byteLength < 2 * count) return bad(`byteLength ${byteLength} is too small for ${count} messages`);
  // Before the first 64 bytes no block is compressed: the chain is the initial value and
  // every byte so far, starting with "[", is pending in the tail.
  if (byteLength < 64 && chain !== initialChain) return bad(`chain must be the SHA-256 initial value while byteLength (${byteLength}) is below 64`);
  if (byteLength < 64 && !tail.startsWith('5b')) return bad('the transcript bytes must start with "["');
  const state = sha256.create();
  const s = state as unknown as Sha256Internals;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(parseInt(chain.slice(i * 8, i * 8 + 8), 16) | 0);
  s.set(...words);
  const tailBytes = hexToBytes(tail);
  s.buffer.set(tailBytes);
  s.pos = tailBytes.length;
  s.length = byteLength;
  return E.right(Object.freeze({ count, byteLength, state }));
};
