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
  vecFromLazy,
  vecLeafKey,
  vecOpenedBranches,
  vecUnloadedLeaves,
  type LazyRun,
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

describe('lazy leaves (vecFromLazy)', () => {
  /** A run of `segments` segments of `size`, starting at `from`, whose loads are counted per segment. */
  const counted = (segments: number, size: number, from: number): { run: LazyRun<number>; loads: number[] } => {
    const loads = Array.from({ length: segments }, () => 0);
    return {
      loads,
      run: {
        segments,
        size,
        load: (i) => {
          loads[i]!++;
          return range(size, from + i * size);
        },
      },
    };
  };

  it('holds the runs then the tail, and loads a segment only when a read reaches it, once', () => {
    const a = counted(40, 256, 0); // 10,240 elements in chunks of 256, as the store's chunks
    const b = counted(3, 32, 10_240); // 96 more, 32 at a time
    const v = vecFromLazy([a.run, b.run], range(50, 10_336));
    expect(vecSize(v)).toBe(10_386);
    expect(vecLast(v)).toBe(10_385);
    expect(vecUnloadedLeaves(v)).toBe(40 * 8 + 3);
    expect(a.loads.every((n) => n === 0) && b.loads.every((n) => n === 0)).toBe(true);
    expect(vecGet(v, 300)).toBe(300); // chunk 1
    expect(a.loads.slice(0, 3)).toEqual([0, 1, 0]);
    expect(vecGet(v, 511)).toBe(511); // another leaf of chunk 1: no second load
    expect(a.loads[1]).toBe(1);
    expect(vecUnloadedLeaves(v)).toBe(40 * 8 + 3 - 2);
    expect(vecSlice(v, 10_230, 10_250)).toEqual(range(20, 10_230));
    expect(a.loads[39]).toBe(1);
    expect(b.loads).toEqual([1, 0, 0]);
    expect(vecToArray(v)).toEqual(range(10_386));
    expect(a.loads.every((n) => n === 1) && b.loads.every((n) => n === 1)).toBe(true);
    expect(vecUnloadedLeaves(v)).toBe(0);
  });

  it('pushes, take above a lazy leaf, size, last and leaf keys load nothing', () => {
    const a = counted(8, 256, 0);
    const v = vecFromLazy([a.run], [2048, 2049]);
    const pushed = vecPushAll(pushN(v, 100, 2050), range(2000, 2150));
    const taken = vecTake(pushed, 2048 + 64); // cuts in the eager part
    const forked = vecPush(vecTake(v, 1024), -1); // cuts exactly on a leaf boundary below the tail: that leaf is loaded
    expect(vecSize(pushed)).toBe(4150);
    expect(vecLast(pushed)).toBe(4149);
    expect(vecLeafKey(pushed, 255)).toBe(vecLeafKey(v, 255));
    expect(a.loads.slice(0, 3)).toEqual([0, 0, 0]);
    expect(vecToArray(taken)).toEqual(range(2048 + 64));
    expect(vecToArray(forked)).toEqual([...range(1024), -1]);
    expect(vecToArray(pushed)).toEqual(range(4150));
  });

  it('leaf keys open no lazy branch, and a position keeps its key when reads open the branch', () => {
    const a = counted(40, 256, 0); // 10 groups of 32 leaves: 10 lazy branches
    const v = vecFromLazy([a.run], [10_240]);
    const keys = Array.from({ length: 40 }, (_, i) => vecLeafKey(v, 256 * (i + 1) - 1));
    expect(vecOpenedBranches(v)).toBe(0);
    expect(a.loads.every((n) => n === 0)).toBe(true);
    // Every position of one branch (1,024 elements) shares one token; the next branch has another.
    expect(keys[0]).toBe(keys[3]);
    expect(keys[4]).not.toBe(keys[3]);
    expect(vecGet(v, 300)).toBe(300); // opens branch 0 and loads chunk 1
    expect(vecOpenedBranches(v)).toBe(1);
    expect(Array.from({ length: 40 }, (_, i) => vecLeafKey(v, 256 * (i + 1) - 1))).toEqual(keys);
    // Pushes keep every token below; a take cutting inside branch 2 keeps branches 0-1 and replaces branch 2.
    const pushed = vecPushAll(v, range(100, 10_241));
    expect(vecLeafKey(pushed, 10_239)).toBe(keys[39]);
    const cut = vecTake(v, 2_048 + 600);
    expect(vecLeafKey(cut, 2_047)).toBe(keys[7]);
    expect(vecLeafKey(cut, 2_048 + 255)).not.toBe(keys[8]);
    expect(vecToArray(cut)).toEqual(range(2_048 + 600));
  });

  it('an empty tail makes the last leaf of the last segment the tail, loaded now', () => {
    const a = counted(3, 256, 0);
    const v = vecFromLazy([a.run], []);
    expect(a.loads).toEqual([0, 0, 1]);
    expect(vecLast(v)).toBe(767);
    expect(vecToArray(vecPush(v, 768))).toEqual(range(769));
    expect(vecToArray(vecFromLazy([counted(1, 32, 0).run], []))).toEqual(range(32));
    expect(vecToArray(vecFromLazy([], [1, 2]))).toEqual([1, 2]);
    expect(vecSize(vecFromLazy([], []))).toBe(0);
  });

  it('matches an eager vector at every trie boundary', () => {
    for (const segments of [1, 3, 4, 5, 127, 128, 129, 130]) {
      for (const extra of [0, 1, 31, 32, 33, 200]) {
        const n = segments * 256 + extra;
        const v = vecFromLazy([counted(segments, 256, 0).run], range(extra, segments * 256));
        expect(vecSize(v)).toBe(n);
        for (const i of [0, 31, 32, 255, 256, 1023, 1024, 32 * 1024 - 1, 32 * 1024, n - 33, n - 32, n - 1]) if (i >= 0 && i < n) expect(vecGet(v, i)).toBe(i);
        expect(vecToArray(vecPushAll(v, [n, n + 1]))).toEqual(range(n + 2));
        const k = Math.floor(n / 3);
        expect(vecToArray(vecTake(v, k))).toEqual(range(k));
      }
    }
  });

  it('segments that straddle a group of 32 leaves load once, and leaf keys stay the same objects across reads', () => {
    const a = counted(3, 256, 0); // 24 leaves: the second run's first segment spans leaves 24..39
    const b = counted(5, 512, 768); // 16 leaves per segment
    const n = 768 + 5 * 512 + 10;
    const v = vecFromLazy([a.run, b.run], range(10, n - 10));
    expect(vecUnloadedLeaves(v)).toBe(24 + 5 * 16);
    const key = vecLeafKey(v, 1100); // the second group's branch: not opened, nothing loaded
    const low = vecLeafKey(v, 800); // the first group's
    expect(vecUnloadedLeaves(v)).toBe(24 + 5 * 16);
    expect(vecOpenedBranches(v)).toBe(0);
    expect(vecLeafKey(v, 1100)).toBe(key);
    expect(vecGet(v, 1100)).toBe(1100); // leaf 34: second group, segment 0 of the second run
    expect(vecGet(v, 800)).toBe(800); // leaf 25: first group, the same segment
    expect(b.loads).toEqual([1, 0, 0, 0, 0]);
    expect(vecLeafKey(v, 1100)).toBe(key); // reads opened both branches: the keys stay
    expect(vecLeafKey(v, 800)).toBe(low);
    const taken = vecTake(v, 2000); // cuts inside the second group: the first is kept whole
    expect(vecLeafKey(taken, 800)).toBe(low);
    expect(vecToArray(v)).toEqual(range(n));
    expect(a.loads).toEqual([1, 1, 1]);
    expect(b.loads).toEqual([1, 1, 1, 1, 1]);
    expect(vecToArray(taken)).toEqual(range(2000));
  });

  it('a loader that throws makes the read throw the same value, nothing is kept, the next read tries again', () => {
    let fail = true;
    const boom = { _tag: 'CorruptRecord' };
    const v = vecFromLazy(
      [
        {
          segments: 2,
          size: 64,
          load: (i) => {
            if (fail) throw boom;
            return range(64, i * 64);
          },
        },
      ],
      [128],
    );
    expect(() => vecGet(v, 5)).toThrow();
    try {
      vecToArray(v);
    } catch (e) {
      expect(e).toBe(boom);
    }
    expect(vecLast(v)).toBe(128);
    fail = false;
    expect(vecToArray(v)).toEqual(range(129));
  });

  it('a one-leaf run with loadRange: get and a take cutting in a leaf produce only the first elements of the leaf, each once, the same objects as a full read', () => {
    const asked: Array<[number, number, number]> = [];
    let loads = 0;
    const item = (i: number): { readonly i: number } => ({ i });
    const run: LazyRun<{ readonly i: number }> = {
      segments: 4,
      size: 32,
      load: (k) => {
        loads++;
        return range(32, k * 32).map(item);
      },
      loadRange: (k, from, to) => {
        asked.push([k, from, to]);
        return range(to - from, k * 32 + from).map(item);
      },
    };
    const v = vecFromLazy([run], [item(128)]);
    const third = vecGet(v, 67)!; // leaf 2, element 3: produces [64, 68)
    expect(third.i).toBe(67);
    expect(asked).toEqual([[2, 0, 4]]);
    expect(vecGet(v, 67)).toBe(third);
    expect(vecGet(v, 65)!.i).toBe(65); // inside what was produced: nothing asked
    expect(asked).toHaveLength(1);
    const taken = vecTake(v, 70); // the new tail is [64, 70): only [68, 70) is produced
    expect(asked).toEqual([
      [2, 0, 4],
      [2, 4, 6],
    ]);
    expect(vecToArray(taken).map((x) => x.i)).toEqual(range(70));
    expect(vecGet(taken, 67)).toBe(third);
    expect(vecUnloadedLeaves(v)).toBe(2); // leaves 0 and 1 read for `taken`; leaf 2 read only in part, leaf 3 not at all
    const all = vecToArray(v); // leaf 2 produces only the rest, [70, 96), keeping the objects it gave
    expect(all.map((x) => x.i)).toEqual(range(129));
    expect(all[67]).toBe(third);
    expect(asked.slice(2).filter(([k]) => k === 2)).toEqual([[2, 6, 32]]);
    expect(loads).toBe(3); // leaves 0, 1 and 3 were read whole
    const whole = vecFromLazy([run], [item(128)]);
    expect(vecGet(whole, 31)!.i).toBe(31); // the whole leaf through loadRange: nothing left for a full read
    expect(vecToArray(whole)[31]).toBe(vecGet(whole, 31));
  });

  it('refuses malformed runs and loaders that return the wrong number of elements', () => {
    expect(() => vecFromLazy([{ segments: 1, size: 33, load: () => range(33) }], [1])).toThrow(RangeError);
    expect(() => vecFromLazy([{ segments: 1, size: 0, load: () => [] }], [1])).toThrow(RangeError);
    const v = vecFromLazy([{ segments: 1, size: 64, load: () => range(63) }], [64]);
    expect(() => vecGet(v, 0)).toThrow(RangeError);
  });

  it('leaf keys: equal keys mean equal prefixes; a rebuilt part gets new keys', () => {
    const v = vecFrom(range(3000));
    const w = vecPushAll(v, range(100, 3000));
    expect(vecLeafKey(w, 2047)).toBe(vecLeafKey(v, 2047));
    const cut = vecPushAll(vecTake(v, 1000), range(2000, 1000));
    expect(vecLeafKey(cut, 959)).toBe(vecLeafKey(v, 959)); // below the cut: shared
    expect(vecLeafKey(cut, 999)).not.toBe(vecLeafKey(v, 999)); // the cut leaf is copied
    expect(vecLeafKey(cut, 2047)).not.toBe(vecLeafKey(v, 2047));
    expect(vecLeafKey(v, 3000)).toBeUndefined();
    expect(vecLeafKey(v, -1)).toBeUndefined();
  });
});
