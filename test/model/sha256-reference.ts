/**
 * A small, independent SHA-256 (FIPS 180-4) used by the accumulator tests to
 * check the state words @noble/hashes exposes: `midstate(bytes)` is the chain
 * value after compressing every full 64-byte block of `bytes`. Constants are
 * derived from the primes (FIPS 180-4 §4.2.2, §5.3.3); `sha256Reference` is
 * checked against node:crypto, which validates them.
 */

const primes = (n: number): number[] => {
  const out: number[] = [];
  for (let c = 2; out.length < n; c++) if (out.every((p) => c % p !== 0)) out.push(c);
  return out;
};
const frac32 = (x: number): number => Math.floor((x - Math.floor(x)) * 2 ** 32) >>> 0;

/** First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = primes(64).map((p) => frac32(Math.cbrt(p)));
/** Initial hash value: fractional parts of the square roots of the first 8 primes. */
export const IV: readonly number[] = primes(8).map((p) => frac32(Math.sqrt(p)));

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** One SHA-256 compression of a 64-byte block into `state` (returns a new state). */
export const compress = (state: readonly number[], block: Uint8Array): number[] => {
  const w = new Array<number>(64);
  for (let i = 0; i < 16; i++) w[i] = ((block[4 * i]! << 24) | (block[4 * i + 1]! << 16) | (block[4 * i + 2]! << 8) | block[4 * i + 3]!) >>> 0;
  for (let i = 16; i < 64; i++) {
    const s0 = rotr(w[i - 15]!, 7) ^ rotr(w[i - 15]!, 18) ^ (w[i - 15]! >>> 3);
    const s1 = rotr(w[i - 2]!, 17) ^ rotr(w[i - 2]!, 19) ^ (w[i - 2]! >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) >>> 0;
  }
  let [a, b, c, d, e, f, g, h] = state as [number, number, number, number, number, number, number, number];
  for (let i = 0; i < 64; i++) {
    const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i]! + w[i]!) >>> 0;
    const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) >>> 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) >>> 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) >>> 0;
  }
  return [a, b, c, d, e, f, g, h].map((x, i) => (x + state[i]!) >>> 0);
};

/** The chain value after every full block of `bytes`, and the pending tail. */
export const midstate = (bytes: Uint8Array): { chain: number[]; tail: Uint8Array } => {
  let s = [...IV];
  const full = bytes.length - (bytes.length % 64);
  for (let off = 0; off < full; off += 64) s = compress(s, bytes.subarray(off, off + 64));
  return { chain: s, tail: bytes.subarray(full) };
};

/** Eight words as 64 lowercase hex digits, big-endian. */
export const wordsHex = (words: readonly number[]): string => words.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');

/** Full SHA-256 of `bytes` as hex (padding per FIPS 180-4 §5.1.1). */
export const sha256Reference = (bytes: Uint8Array): string => {
  const { chain, tail } = midstate(bytes);
  const padLen = tail.length < 56 ? 64 : 128;
  const last = new Uint8Array(padLen);
  last.set(tail);
  last[tail.length] = 0x80;
  const bits = BigInt(bytes.length) * 8n;
  new DataView(last.buffer).setBigUint64(padLen - 8, bits, false);
  let s = chain;
  for (let off = 0; off < padLen; off += 64) s = compress(s, last.subarray(off, off + 64));
  return wordsHex(s);
};
