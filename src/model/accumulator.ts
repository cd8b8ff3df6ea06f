/**
 * Incremental transcript digest (model.md §7.4).
 *
 * A `DigestAccumulator` is an immutable value holding a SHA-256 hash (from the
 * hashing port, `hashing.ts`) that has absorbed `T(messages)` without its
 * closing `]`. `append` absorbs only the new message into a hash of its own, so
 * appending costs O(size of the message) whatever the transcript length; an
 * existing accumulator never changes value, so older Session values stay valid.
 *
 * **Hash handover.** The first accumulator appended to another takes over its
 * hash object instead of copying it (`hash.copy()` builds a native `Hash`, a
 * few µs, and the digest of every new head needs one copy anyway), unless the
 * older one is shared: the empty accumulator and digest checkpoints, which
 * forks and rewrites append to again. An accumulator whose hash was taken and
 * is needed again (an older session appended to a second time) rebuilds it from
 * its trail as our resumable SHA-256 (`ResumableSha256`, as a snapshot-loaded
 * accumulator has): the same digests, hashed in JavaScript from then on.
 *
 * `exportAccumulator` / `importAccumulator` move the SHA-256 state (chain words,
 * pending bytes, length) in and out of snapshots. Neither hashing port exposes
 * that state, so each accumulator also keeps a *trail*: the exportable state of
 * some earlier accumulator (`sha256State.ts`) and the bytes absorbed since.
 * Export absorbs those bytes into the earlier state once and remembers the
 * result on every trail on the way, so consecutive exports (one per snapshot)
 * cost the bytes absorbed in between; `settleAccumulator` does that work ahead
 * of time. An imported accumulator continues on the exportable hash itself,
 * whose state an export reads directly.
 */
import * as E from 'fp-ts/lib/Either.js';
import { commaMessageBytes, framing } from './digest.ts';
import { defaultSha256, type Sha256Hash, type Sha256Port } from './hashing.ts';
import { ResumableSha256, SHA256_IV, type Sha256MidState } from './sha256State.ts';
import { decodeWith, nat, refine, str, strict, type DecodeError } from './decode.ts';
import type * as t from 'io-ts';
import type { Message, MessageInput } from './message.ts';
import type { Digest } from './scalars.ts';

/**
 * How to rebuild the exportable SHA-256 state of an accumulator: the state after
 * `prev` followed by `bytes` (the `,` before a message included), or a known `state`.
 * `state` is filled in (and `prev` dropped) once computed: the value it stands
 * for never changes.
 */
export class AccumulatorTrail {
  constructor(
    public prev: AccumulatorTrail | undefined,
    readonly bytes: Uint8Array | undefined,
    public state: Sha256MidState | undefined,
  ) {}
}

/** An immutable incremental digest: `count` messages absorbed, `byteLength` bytes of `T` so far. */
export interface DigestAccumulator {
  readonly count: number;
  readonly byteLength: number;
  /** A hash that absorbed those bytes (never update it: copy it). */
  readonly hash: Sha256Hash;
  /** How `exportAccumulator` rebuilds the state (internal). */
  readonly trail: AccumulatorTrail;
}

/**
 * The accumulators this module makes: frozen, their hash held in a private
 * field that `takeHash` hands over to the next accumulator (module docstring,
 * "Hash handover").
 */
class Accumulator implements DigestAccumulator {
  #hash: Sha256Hash | undefined;
  #shared: boolean;
  constructor(
    readonly count: number,
    readonly byteLength: number,
    hash: Sha256Hash,
    readonly trail: AccumulatorTrail,
    shared: boolean,
  ) {
    this.#hash = hash;
    this.#shared = shared;
    Object.freeze(this);
  }
  /** The hash that absorbed this accumulator's bytes: the one it holds, else rebuilt from its trail (and held from then on). */
  get hash(): Sha256Hash {
    return (this.#hash ??= ResumableSha256.fromMidState(stateAt(this.trail)));
  }
  /** The hash held now, without rebuilding one (`undefined` once taken). */
  heldHash(): Sha256Hash | undefined {
    return this.#hash;
  }
  /** A hash holding this accumulator's state for the caller to update: this one's own, unless shared (then a copy). */
  takeHash(): Sha256Hash {
    const h = this.hash;
    if (this.#shared) return h.copy();
    this.#hash = undefined;
    return h;
  }
  /** Marks this accumulator as appended to more than once (a checkpoint): later appends copy its hash. */
  share(): void {
    this.#shared = true;
  }
}

/** The hash of `acc` for the caller to update (taken over when `acc` is one of ours and not shared, else a copy). */
const takeHash = (acc: DigestAccumulator): Sha256Hash => (acc instanceof Accumulator ? acc.takeHash() : acc.hash.copy());

/**
 * Marks `acc` as shared (a digest checkpoint, which forks and rewrites append
 * to again): every later append copies its hash instead of taking it over.
 * Changes no value.
 */
export const shareAccumulator = (acc: DigestAccumulator): void => {
  if (acc instanceof Accumulator) acc.share();
};

const digestMemo = new WeakMap<DigestAccumulator, Digest>();

const OPEN_STATE: Sha256MidState = ((): Sha256MidState => {
  const h = ResumableSha256.create();
  h.update(framing.OPEN);
  return h.midState();
})();

/** A state that has absorbed `"["`, hashing with `port` (default: `node:crypto` when present). Shared: appends copy its hash. */
export const emptyAccumulator = (port: Sha256Port = defaultSha256): DigestAccumulator => {
  const hash = port.create();
  hash.update(framing.OPEN);
  return new Accumulator(0, 1, hash, new AccumulatorTrail(undefined, undefined, OPEN_STATE), true);
};

/** A new accumulator that has also absorbed `m` (and the `,` before it). `acc` is unchanged. */
export const appendMessage = (acc: DigestAccumulator, m: Message | MessageInput): DigestAccumulator => appendMessages(acc, [m]);

/**
 * Folds `appendMessage` over `messages`, taking (or copying) the hash once
 * instead of once per message. `memo` false: the messages' digest texts are not
 * kept for later serializations (`commaMessageBytes`); same digest.
 */
export const appendMessages = (acc: DigestAccumulator, messages: Iterable<Message | MessageInput>, memo = true): DigestAccumulator => {
  let hash: Sha256Hash | undefined;
  let { count, byteLength, trail } = acc;
  for (const m of messages) {
    hash ??= takeHash(acc);
    // After the first message, the `,` and the message in one update (`commaMessageBytes`).
    const withComma = commaMessageBytes(m, memo);
    const bytes = count > 0 ? withComma : withComma.subarray(1);
    hash.update(bytes);
    byteLength += bytes.length;
    count += 1;
    trail = new AccumulatorTrail(trail, bytes, undefined);
  }
  return hash === undefined ? acc : new Accumulator(count, byteLength, hash, trail, false);
};

/** The transcript digest of what `acc` absorbed (memoized per accumulator). */
export const accumulatorDigest = (acc: DigestAccumulator): Digest => {
  let d = digestMemo.get(acc);
  if (d === undefined) {
    const h = acc.hash.copy();
    h.update(framing.CLOSE);
    d = `sha256:${h.digestHex()}`;
    digestMemo.set(acc, d);
  }
  return d;
};

/**
 * The exportable state at `trail`: from the nearest known state, absorbing the
 * bytes after it once. Every trail on the way gets its state too (and lets go
 * of the bytes and the older trail), so an accumulator built on the way — a
 * digest checkpoint inside a multi-message append — exports without hashing
 * those bytes again.
 */
const stateAt = (trail: AccumulatorTrail): Sha256MidState => {
  if (trail.state !== undefined) return trail.state;
  const pending: AccumulatorTrail[] = [];
  let t: AccumulatorTrail | undefined = trail;
  while (t !== undefined && t.state === undefined) {
    pending.push(t);
    t = t.prev;
  }
  if (t === undefined) throw new Error('accumulator trail without a starting state');
  const h = ResumableSha256.fromMidState(t.state!);
  for (let i = pending.length - 1; i >= 0; i--) {
    const p = pending[i]!;
    if (p.bytes !== undefined) h.update(p.bytes);
    p.state = h.midState();
    p.prev = undefined;
  }
  return trail.state!;
};

/** The exportable state of `acc`; one whose hash is our resumable SHA-256 (a cold-loaded transcript's) reads it there instead of hashing the trail. */
const exportableState = (acc: DigestAccumulator): Sha256MidState => {
  const known = acc.trail.state;
  if (known !== undefined) return known;
  const held = acc instanceof Accumulator ? acc.heldHash() : acc.hash;
  if (held instanceof ResumableSha256) {
    const s = held.midState();
    acc.trail.state = s;
    acc.trail.prev = undefined;
    return s;
  }
  return stateAt(acc.trail);
};

/**
 * Computes now, once, the state `exportAccumulator(acc)` needs (hashing in
 * JavaScript the bytes absorbed since the last computed state: `node:crypto`
 * cannot export its own), so a later export is free and the bytes kept for it
 * are let go. The store calls it while its write is in flight, which spreads
 * the cost of a snapshot's export over the appends before it. Changes no
 * digest and nothing observable but time and memory.
 */
export const settleAccumulator = (acc: DigestAccumulator): void => {
  exportableState(acc);
};

/**
 * Adopts `exported` (an accumulator as a snapshot stores it) as the exportable
 * state of `acc` when it is that state: the same `count` and `byteLength`, and
 * finishing it (in JavaScript: the pending bytes, `]` and padding, at most two
 * blocks) gives `acc`'s digest. A different state finishing to the same digest
 * would be a SHA-256 collision, so this is the state `exportAccumulator(acc)`
 * would compute by hashing every byte since the last known state in
 * JavaScript. `true` when adopted (or `acc`'s state was known already), `false`
 * when `exported` is not `acc`'s state (nothing changes). For `verify`, which
 * compares a stored snapshot with the encoding of its replay; changes no digest.
 */
export const adoptExportedState = (acc: DigestAccumulator, exported: unknown): boolean => {
  if (acc.trail.state !== undefined) return true;
  const imported = importAccumulator(exported);
  if (E.isLeft(imported) || imported.right.count !== acc.count || imported.right.byteLength !== acc.byteLength) return false;
  if (accumulatorDigest(imported.right) !== accumulatorDigest(acc)) return false;
  acc.trail.state = imported.right.trail.state;
  acc.trail.prev = undefined;
  return true;
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

const wordsHex = (words: readonly number[]): string => words.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
/** The SHA-256 initial chain value (FIPS 180-4 §5.3.3): the chain until 64 bytes are absorbed. */
const initialChain = wordsHex(SHA256_IV);

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** `{ count, byteLength, chain, tail }` for a snapshot. */
export const exportAccumulator = (acc: DigestAccumulator): ExportedAccumulator => {
  const s = exportableState(acc);
  return { count: acc.count, byteLength: acc.byteLength, chain: wordsHex(s.chain), tail: toHex(s.pending) };
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
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(parseInt(chain.slice(i * 8, i * 8 + 8), 16) >>> 0);
  const state: Sha256MidState = Object.freeze({ chain: Object.freeze(words), pending: new Uint8Array(Buffer.from(tail, 'hex')), length: byteLength });
  return E.right(new Accumulator(count, byteLength, ResumableSha256.fromMidState(state), new AccumulatorTrail(undefined, undefined, state), false));
};
