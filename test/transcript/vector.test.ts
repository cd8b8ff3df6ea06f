import { describe, expect, it } from 'vitest';
import {
  emptyVec,
  vecFrom,
  vecGet,
  vecIter,
  vecLast,
  vecPush,
  vecPushAll,
  vecSize,
  vecSlice,
  vecTake,
  vecToArray,
  type PVec,
} from '../../src/transcript/index.ts';

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

const pushN = (v: PVec<number>, n: number, from: number): PVec<number> => {
  let out = v;
  for (let i = 0; i < n; i++) out = vecPush(out, from + i);
  return out;
};

// Sizes around every trie boundary up to three levels (32, 32^2 + 32, 32^3 + 32).
const boundaries = [0, 1, 31, 32, 33, 63, 64, 65, 1023, 1024, 1055, 1056, 1057, 2048, 32 * 32 * 32 + 31, 32 * 32 * 32 + 32, 32 * 32 * 32 + 33];

describe('persistent vector', () => {
  it('starts empty', () => {
    const v = emptyVec<number>();
    expect(vecSize(v)).toBe(0);
    expect(vecGet(v, 0)).toBeUndefined();
    expect(vecToArray(v)).toEqual([]);
    expect(vecLast(v)).toBeUndefined();
    expect([...vecIter(v)]).toEqual([]);
  });

  it('holds what was pushed, one by one and in bulk, across trie levels', () => {
    const n = 32 * 32 * 32 + 100;
    const one = pushN(emptyVec(), n, 0);
    const bulk = vecFrom(range(n));
    const mixed = vecPushAll(pushN(vecPushAll(emptyVec<number>(), range(40)), 1000, 40), range(n - 1040, 1040));
    for (const v of [one, bulk, mixed]) {
      expect(vecSize(v)).toBe(n);
      expect(vecToArray(v)).toEqual(range(n));
      for (const i of [...boundaries, n - 1]) expect(vecGet(v, i)).toBe(i);
      expect(vecLast(v)).toBe(n - 1);
    }
  });

  it('get refuses non-indices', () => {
    const v = vecFrom([1, 2, 3]);
    expect(vecGet(v, -1)).toBeUndefined();
    expect(vecGet(v, 3)).toBeUndefined();
    expect(vecGet(v, 1.5)).toBeUndefined();
    expect(vecGet(v, Number.NaN)).toBeUndefined();
  });

  it('slice and iter clamp their bounds', () => {
    const v = vecFrom(range(100));
    expect(vecSlice(v, 10, 20)).toEqual(range(10, 10));
    expect(vecSlice(v, -5, 3)).toEqual([0, 1, 2]);
    expect(vecSlice(v, 95, 500)).toEqual([95, 96, 97, 98, 99]);
    expect(vecSlice(v, 50, 40)).toEqual([]);
    expect([...vecIter(v, 30, 70)]).toEqual(range(40, 30));
    expect([...vecIter(v, 90)]).toEqual(range(10, 90));
  });

  it('take gives every prefix around trie boundaries, and the prefix keeps working', () => {
    const n = 32 * 32 * 32 + 100;
    const v = vecFrom(range(n));
    for (const k of [...boundaries, n - 1, n, n + 5, -3]) {
      const p = vecTake(v, k);
      const kk = Math.max(0, Math.min(k, n));
      expect(vecSize(p)).toBe(kk);
      expect(vecGet(p, kk - 1)).toBe(kk === 0 ? undefined : kk - 1);
      expect(vecGet(p, kk)).toBeUndefined();
      // pushing onto a prefix continues it correctly (the trie stays well formed)
      const q = vecPushAll(pushN(p, 40, kk), range(1100, kk + 40));
      expect(vecSize(q)).toBe(kk + 1140);
      for (const i of [0, kk - 1, kk, kk + 39, kk + 40, kk + 1139, Math.floor(kk / 2)]) {
        if (i >= 0 && i < kk + 1140) expect(vecGet(q, i)).toBe(i);
      }
    }
    expect(vecToArray(vecTake(v, 1057))).toEqual(range(1057));
  });

  it('take shares structure: a prefix of a big vector is cheap and the source is unchanged', () => {
    const v = vecFrom(range(50_000));
    const p = vecTake(v, 40_000);
    expect(p.root).not.toBe(v.root);
    expect(vecToArray(v)).toEqual(range(50_000));
    const same = vecTake(v, 50_000);
    expect(same).toBe(v);
  });

  it('values sharing structure are independent (a fork pushes on both sides)', () => {
    for (const n of boundaries) {
      const base = vecFrom(range(n));
      const a = vecPush(base, -1);
      const b = vecPush(base, -2);
      const a2 = vecPushAll(a, [-10, -11]);
      const b2 = pushN(b, 40, 1000);
      expect(vecSize(base)).toBe(n);
      expect(vecToArray(base)).toEqual(range(n));
      expect(vecGet(a, n)).toBe(-1);
      expect(vecGet(b, n)).toBe(-2);
      expect(vecToArray(a2)).toEqual([...range(n), -1, -10, -11]);
      expect(vecToArray(b2)).toEqual([...range(n), -2, ...range(40, 1000)]);
      expect(vecToArray(a)).toEqual([...range(n), -1]);
      // a prefix pushed on does not show in the source either
      const t = vecPushAll(vecTake(base, Math.floor(n / 2)), [-7, -8, -9]);
      expect(vecToArray(base)).toEqual(range(n));
      expect(vecToArray(t)).toEqual([...range(Math.floor(n / 2)), -7, -8, -9]);
    }
  });

  it('vecFrom copies its input', () => {
    const xs = [1, 2, 3];
    const v = vecFrom(xs);
    xs.push(4);
    xs[0] = 9;
    expect(vecToArray(v)).toEqual([1, 2, 3]);
    expect(vecToArray(v)).not.toBe(xs);
  });

  it('push never copies the whole vector (B2: cost at 100,000 ~ cost at 100)', () => {
    // Count slots copied by Array.prototype.slice during pushes: bounded by the
    // tail (32) plus one path per 32 pushes, whatever the length.
    const measure = (n: number): number => {
      let v = vecFrom(range(n));
      const origSlice = Array.prototype.slice;
      let copied = 0;
      Array.prototype.slice = function (this: unknown[], ...args: [number?, number?]) {
        const r = origSlice.apply(this, args) as unknown[];
        copied += r.length;
        return r;
      };
      try {
        for (let i = 0; i < 320; i++) v = vecPush(v, i);
      } finally {
        Array.prototype.slice = origSlice;
      }
      return copied / 320;
    };
    const small = measure(100);
    const big = measure(100_000);
    expect(big).toBeLessThanOrEqual(2 * small + 8);
    expect(big).toBeLessThan(64);
  });
});
