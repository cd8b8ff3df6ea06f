/**
 * A SHA-256 (FIPS 180-4) whose intermediate state can be read and set: the
 * chain value (eight 32-bit words), the pending bytes of the unfinished block
 * and the total length. Snapshots store a transcript accumulator in that form
 * (`accumulator.ts`), and neither `node:crypto` nor `@noble/hashes` exposes it
 * through a public API, so this is ours: the compression function of FIPS 180-4
 * §6.2.2 with the constants of §4.2.2 and §5.3.3. Internal to `model/`.
 *
 * Checked against `node:crypto` in `spec/model/hashing.spec.ts`.
 */
import type { Sha256Hash } from './hashing.ts';

/** The state of a SHA-256 between blocks: `pending.length === length % 64`. */
export interface Sha256MidState {
  /** Chain value after the last full block (8 words, big-endian meaning). */
  readonly chain: readonly number[];
  /** Absorbed bytes of the unfinished block (fewer than 64). */
  readonly pending: Uint8Array;
  /** Bytes absorbed in total. */
  readonly length: number;
}

// prettier-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** The initial chain value (FIPS 180-4 §5.3.3). */
export const SHA256_IV: readonly number[] = Object.freeze([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const W = new Int32Array(64);

/**
 * Compresses the 64-byte block at `block[off..off+64)` into `h` (8 words,
 * changed in place). Words are kept as signed 32-bit values (`Int32Array`,
 * `| 0`), so V8 runs every addition and rotation in 32-bit integer arithmetic.
 */
const compress = (h: Int32Array, block: Uint8Array, off: number): void => {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (((W[i - 16]! + s0) | 0) + ((W[i - 7]! + s1) | 0)) | 0;
  }
  let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (((hh + S1) | 0) + ((ch + ((K[i]! + W[i]!) | 0)) | 0)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0; h[1] = (h[1]! + b) | 0; h[2] = (h[2]! + c) | 0; h[3] = (h[3]! + d) | 0; // prettier-ignore
  h[4] = (h[4]! + e) | 0; h[5] = (h[5]! + f) | 0; h[6] = (h[6]! + g) | 0; h[7] = (h[7]! + hh) | 0; // prettier-ignore
};

const hexOf = (words: Int32Array): string => {
  let s = '';
  for (let i = 0; i < 8; i++) s += (words[i]! >>> 0).toString(16).padStart(8, '0');
  return s;
};

/** A mutable SHA-256 whose state can be exported (`midState`) and resumed (`fromMidState`). */
export class ResumableSha256 implements Sha256Hash {
  /** The chain value, as signed 32-bit words (`compress`). */
  private readonly h: Int32Array;
  private readonly buf: Uint8Array;
  private pos: number;
  private length: number;

  private constructor(h: Int32Array, buf: Uint8Array, pos: number, length: number) {
    this.h = h;
    this.buf = buf;
    this.pos = pos;
    this.length = length;
  }

  /** A hash that absorbed nothing. */
  static create(): ResumableSha256 {
    return new ResumableSha256(Int32Array.from(SHA256_IV), new Uint8Array(64), 0, 0);
  }

  /** A hash in state `s` (the caller checked `s.pending.length === s.length % 64`). */
  static fromMidState(s: Sha256MidState): ResumableSha256 {
    const buf = new Uint8Array(64);
    buf.set(s.pending);
    return new ResumableSha256(Int32Array.from(s.chain), buf, s.pending.length, s.length);
  }

  update(bytes: Uint8Array): void {
    let i = 0;
    const n = bytes.length;
    this.length += n;
    if (this.pos > 0) {
      const take = Math.min(64 - this.pos, n);
      this.buf.set(bytes.subarray(0, take), this.pos);
      this.pos += take;
      i = take;
      if (this.pos < 64) return;
      compress(this.h, this.buf, 0);
      this.pos = 0;
    }
    for (; i + 64 <= n; i += 64) compress(this.h, bytes, i);
    if (i < n) {
      this.buf.set(bytes.subarray(i), 0);
      this.pos = n - i;
    }
  }

  copy(): ResumableSha256 {
    return new ResumableSha256(this.h.slice(), this.buf.slice(), this.pos, this.length);
  }

  /** The state now (copies: later updates do not change it). */
  midState(): Sha256MidState {
    const h = this.h;
    // An array literal: `Array.from(this.h)` took several times longer (a state is taken per append, `settleAccumulator`).
    const chain = Object.freeze([h[0]! >>> 0, h[1]! >>> 0, h[2]! >>> 0, h[3]! >>> 0, h[4]! >>> 0, h[5]! >>> 0, h[6]! >>> 0, h[7]! >>> 0]);
    return Object.freeze({ chain, pending: this.buf.slice(0, this.pos), length: this.length });
  }

  digestHex(): string {
    const bits = this.length * 8;
    const pad = new Uint8Array(((this.pos + 8) >> 6) * 64 + 64 - this.pos);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(pad.length - 4, bits >>> 0);
    const total = this.length;
    this.update(pad);
    this.length = total;
    return hexOf(this.h);
  }
}
