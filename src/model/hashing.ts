/**
 * The SHA-256 port: the one place digests are computed (log record hashes,
 * transcript digests, chunk and blob ids). Internal: not re-exported by
 * `model/index.ts`.
 *
 * Two implementations give the same bytes and digests (FIPS 180-4 SHA-256):
 * - `nodeSha256` — `node:crypto` (`createHash('sha256')`, `hash.copy()` for
 *   incremental states): native, SHA-NI where the CPU has it;
 * - `nobleSha256` — `@noble/hashes` (`sha256.create()`, `clone()`): pure
 *   JavaScript, for runtimes without `node:crypto`.
 * `defaultSha256` is the node one when `node:crypto` is reachable through
 * `process.getBuiltinModule` (Node ≥ 20.16), else the noble one. Only public
 * APIs of both are used. `spec/model/hashing.spec.ts` checks they agree.
 */
import { sha256 as nobleSha } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Digest } from './scalars.ts';

/** An incremental SHA-256: absorb bytes, copy the state, finalize. */
export interface Sha256Hash {
  /** Absorbs `bytes` (this hash changes). */
  update(bytes: Uint8Array): void;
  /** An independent hash holding the same state. */
  copy(): Sha256Hash;
  /** Finalizes: lowercase hex of the digest. The hash is unusable afterwards. */
  digestHex(): string;
}

/** A SHA-256 implementation. */
export interface Sha256Port {
  /** `'node:crypto'` or `'@noble/hashes'`. */
  readonly name: string;
  /** A hash that absorbed nothing. */
  create(): Sha256Hash;
  /** `sha256:<hex>` of `bytes`. */
  ofBytes(bytes: Uint8Array): Digest;
  /** `sha256:<hex>` of the UTF-8 bytes of `s` (a lone surrogate encodes as U+FFFD, as `TextEncoder` does). */
  ofUtf8(s: string): Digest;
}

/** The part of `node:crypto` the port uses. */
interface NodeCrypto {
  createHash(algorithm: 'sha256'): NodeHash;
  /** One-shot digest without a `Hash` object (Node ≥ 20.12); strings are hashed as UTF-8. */
  hash?: (algorithm: 'sha256', data: string | Uint8Array, outputEncoding: 'hex') => string;
}
interface NodeHash {
  update(data: Uint8Array | string, encoding?: 'utf8'): NodeHash;
  copy(): NodeHash;
  digest(encoding: 'hex'): string;
}

/**
 * Strings longer than this many UTF-16 code units are hashed in slices of at
 * most this many: encoding a 16 MB line whole first (a one-shot digest does)
 * would hold a second copy of it.
 */
export const UTF8_SLICE_UNITS = 1 << 20;

/**
 * `s` cut into consecutive slices of at most `max` UTF-16 code units (`max` ≥
 * 2), never between the two halves of a surrogate pair, so the UTF-8 of the
 * slices one after another is the UTF-8 of `s` (a lone surrogate still
 * encodes as U+FFFD). A slice of a flat string shares its characters.
 */
export function* utf8Slices(s: string, max: number): Generator<string> {
  const step = Math.max(2, Math.floor(max));
  for (let from = 0; from < s.length; ) {
    let to = Math.min(s.length, from + step);
    if (to < s.length) {
      const last = s.charCodeAt(to - 1);
      if (last >= 0xd800 && last <= 0xdbff) to--;
    }
    yield s.slice(from, to);
    from = to;
  }
}

/** Wraps a `node:crypto` hash. */
class NodeSha256Hash implements Sha256Hash {
  constructor(private readonly h: NodeHash) {}
  update(bytes: Uint8Array): void {
    this.h.update(bytes);
  }
  copy(): Sha256Hash {
    return new NodeSha256Hash(this.h.copy());
  }
  digestHex(): string {
    return this.h.digest('hex');
  }
}

/** `sha256:<hex>` of the UTF-8 of `s`, absorbed into a fresh `node:crypto` hash a slice of at most `sliceUnits` code units at a time. */
const nodeOfUtf8Sliced = (crypto: NodeCrypto, s: string, sliceUnits: number): Digest => {
  const h = crypto.createHash('sha256');
  for (const part of utf8Slices(s, sliceUnits)) h.update(part, 'utf8');
  return `sha256:${h.digest('hex')}`;
};

/**
 * The port over a `node:crypto` module (one-shot digests through `crypto.hash`
 * when present: no `Hash` object to build). Strings longer than `sliceUnits`
 * (default `UTF8_SLICE_UNITS`) are hashed in slices (`utf8Slices`).
 */
export const nodeSha256 = (crypto: NodeCrypto, sliceUnits: number = UTF8_SLICE_UNITS): Sha256Port => {
  const oneShot = crypto.hash;
  const small: (s: string) => Digest =
    oneShot !== undefined ? (s) => `sha256:${oneShot('sha256', s, 'hex')}` : (s) => `sha256:${crypto.createHash('sha256').update(s, 'utf8').digest('hex')}`;
  return {
    name: 'node:crypto',
    create: () => new NodeSha256Hash(crypto.createHash('sha256')),
    ofBytes:
      oneShot !== undefined ? (bytes) => `sha256:${oneShot('sha256', bytes, 'hex')}` : (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`,
    ofUtf8: (s) => (s.length <= sliceUnits ? small(s) : nodeOfUtf8Sliced(crypto, s, sliceUnits)),
  };
};

type NobleHash = ReturnType<typeof nobleSha.create>;

/** Wraps a `@noble/hashes` hash. */
class NobleSha256Hash implements Sha256Hash {
  constructor(private readonly h: NobleHash) {}
  update(bytes: Uint8Array): void {
    this.h.update(bytes);
  }
  copy(): Sha256Hash {
    return new NobleSha256Hash(this.h.clone());
  }
  digestHex(): string {
    return bytesToHex(this.h.digest());
  }
}

const encoder = new TextEncoder();

/** `sha256:<hex>` of the UTF-8 of `s`, each slice of at most `sliceUnits` code units encoded and absorbed in turn. */
const nobleOfUtf8Sliced = (s: string, sliceUnits: number): Digest => {
  const h = nobleSha.create();
  for (const part of utf8Slices(s, sliceUnits)) h.update(encoder.encode(part));
  return `sha256:${bytesToHex(h.digest())}`;
};

/** The pure-JavaScript port (`@noble/hashes`); strings longer than `sliceUnits` (default `UTF8_SLICE_UNITS`) are encoded and hashed in slices. */
export const nobleSha256With = (sliceUnits: number = UTF8_SLICE_UNITS): Sha256Port => ({
  name: '@noble/hashes',
  create: () => new NobleSha256Hash(nobleSha.create()),
  ofBytes: (bytes) => `sha256:${bytesToHex(nobleSha(bytes))}`,
  ofUtf8: (s) => (s.length <= sliceUnits ? `sha256:${bytesToHex(nobleSha(encoder.encode(s)))}` : nobleOfUtf8Sliced(s, sliceUnits)),
});

/** The pure-JavaScript port (`@noble/hashes`) with the default slicing. */
export const nobleSha256: Sha256Port = nobleSha256With();

/** `node:crypto` when the runtime has it, else `undefined`. */
const findNodeCrypto = (): NodeCrypto | undefined => {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const m = p?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  return m !== undefined && typeof m.createHash === 'function' ? m : undefined;
};

/** The port this runtime uses: `node:crypto` when present, else `@noble/hashes`. */
export const defaultSha256: Sha256Port = ((): Sha256Port => {
  const c = findNodeCrypto();
  return c !== undefined ? nodeSha256(c) : nobleSha256;
})();

/** `sha256:<hex>` of `bytes` (default port). */
export const sha256OfBytes = (bytes: Uint8Array): Digest => defaultSha256.ofBytes(bytes);

/** `sha256:<hex>` of the UTF-8 bytes of `s` (default port). */
export const sha256OfUtf8 = (s: string): Digest => defaultSha256.ofUtf8(s);
