/**
 * SHA-256 helpers on the hot paths (log record hashes, transcript digests).
 * Internal: not re-exported by `model/index.ts`.
 *
 * The digests are those of `@noble/hashes` (README §9); these helpers only avoid
 * allocating a hash instance and an output buffer per call: a finalization clones
 * the state into one reused instance (`_cloneInto`, part of the package's `Hash`
 * interface) and writes into one reused output buffer. Everything is synchronous,
 * so the shared instance is never used by two calls at once.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Digest } from './scalars.ts';

type Sha256 = ReturnType<typeof sha256.create>;
const pristine: Sha256 = sha256.create();
const scratchHash: Sha256 = sha256.create();
const scratchOut = new Uint8Array(32);
const encoder = new TextEncoder();

/** `sha256:<hex>` of what `state` absorbed followed by `tail`; `state` is not changed. */
export const finalizeWith = (state: Sha256, tail: Uint8Array): Digest => {
  state._cloneInto(scratchHash);
  scratchHash.update(tail);
  scratchHash.digestInto(scratchOut);
  return `sha256:${bytesToHex(scratchOut)}`;
};

/** `sha256:<hex>` of `bytes`. */
export const sha256OfBytes = (bytes: Uint8Array): Digest => finalizeWith(pristine, bytes);

let scratch = new Uint8Array(1 << 16);
/** `sha256:<hex>` of the UTF-8 bytes of `s` (encoded into a reused buffer: nothing is kept). */
export const sha256OfUtf8 = (s: string): Digest => {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (s.length * 3 > scratch.length) scratch = new Uint8Array(Math.max(s.length * 3, scratch.length * 2));
  const { written } = encoder.encodeInto(s, scratch);
  return finalizeWith(pristine, scratch.subarray(0, written));
};
