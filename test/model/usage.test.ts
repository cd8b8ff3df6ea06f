/**
 * Token usage (model.md §4): the codec and its cache invariant, `addUsage` laws,
 * cache-field presence, `totalTokens`, and `checkedAddUsage` overflow.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { addUsage, checkedAddUsage, decodeWith, emptyUsage, isZeroUsage, totalTokens, UsageCodec, type Usage } from '../../src/model/index.ts';
import { arbUsage, arbUsageWith } from '../../spec/model/arbitraries.ts';

const MAX = Number.MAX_SAFE_INTEGER;
// Sums of three of these stay exact (below 2^53), so the laws hold exactly.
const arbSmall = arbUsageWith({ max: 2 ** 50 });

describe('UsageCodec', () => {
  it('accepts the arbitraries and round-trips through JSON', () => {
    fc.assert(
      fc.property(arbUsage, (u) => {
        expect(decodeWith(UsageCodec, JSON.parse(JSON.stringify(u)))).toEqual(E.right(u));
      }),
      { numRuns: 200 },
    );
  });

  it('cache invariant: cacheCreation + cacheRead <= inputTokens', () => {
    const ok = (u: unknown) => E.isRight(decodeWith(UsageCodec, u));
    expect(ok({ inputTokens: 10, outputTokens: 0, cacheCreationTokens: 4, cacheReadTokens: 6 })).toBe(true);
    expect(ok({ inputTokens: 10, outputTokens: 0, cacheCreationTokens: 10 })).toBe(true);
    expect(ok({ inputTokens: 10, outputTokens: 0, cacheReadTokens: 10 })).toBe(true);
    expect(ok({ inputTokens: 0, outputTokens: 5, cacheCreationTokens: 0, cacheReadTokens: 0 })).toBe(true);
    expect(decodeWith(UsageCodec, { inputTokens: 10, outputTokens: 0, cacheCreationTokens: 4, cacheReadTokens: 7 })).toMatchObject({
      left: { path: '$', reason: 'invalid_value', expected: 'Usage' },
    });
    expect(decodeWith(UsageCodec, { inputTokens: 10, outputTokens: 100, cacheReadTokens: 11 })).toMatchObject({ left: { reason: 'invalid_value' } });
    expect(decodeWith(UsageCodec, { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 1 })).toMatchObject({ left: { reason: 'invalid_value' } });
    // Two cache counts near the limit that add past 2^53 still fail.
    expect(
      E.isLeft(decodeWith(UsageCodec, { inputTokens: MAX, outputTokens: 0, cacheCreationTokens: MAX, cacheReadTokens: MAX })),
    ).toBe(true);
  });

  it('cache invariant as a property: exceeding inputTokens by any amount fails', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), fc.nat({ max: 1e9 }), fc.integer({ min: 1, max: 1e9 }), (input, creation, excess) => {
        const c = Math.min(creation, input);
        const u = { inputTokens: input, outputTokens: 0, cacheCreationTokens: c, cacheReadTokens: input - c + excess };
        expect(E.isLeft(decodeWith(UsageCodec, u))).toBe(true);
        expect(E.isRight(decodeWith(UsageCodec, { ...u, cacheReadTokens: input - c }))).toBe(true);
      }),
    );
  });

  it('bad token counts', () => {
    for (const [u, path, reason] of [
      [{ inputTokens: -1, outputTokens: 0 }, '$.inputTokens', 'invalid_number'],
      [{ inputTokens: 1.5, outputTokens: 0 }, '$.inputTokens', 'invalid_number'],
      [{ inputTokens: 0, outputTokens: MAX + 1 }, '$.outputTokens', 'invalid_number'],
      [{ inputTokens: NaN, outputTokens: 0 }, '$.inputTokens', 'invalid_number'],
      [{ inputTokens: 0, outputTokens: Infinity }, '$.outputTokens', 'invalid_number'],
      [{ inputTokens: 1, outputTokens: 0, cacheReadTokens: -1 }, '$.cacheReadTokens', 'invalid_number'],
      [{ inputTokens: '1', outputTokens: 0 }, '$.inputTokens', 'wrong_type'],
      [{ inputTokens: 1, outputTokens: 0, cacheReadTokens: null }, '$.cacheReadTokens', 'wrong_type'],
      [{ inputTokens: 1 }, '$.outputTokens', 'missing_field'],
      [{ inputTokens: 1, outputTokens: 0, totalTokens: 1 }, '$.totalTokens', 'unknown_field'],
    ] as const) {
      expect(decodeWith(UsageCodec, u), JSON.stringify(u)).toMatchObject({ left: { path, reason } });
    }
  });
});

describe('addUsage', () => {
  it('emptyUsage is { inputTokens: 0, outputTokens: 0 }, frozen and valid', () => {
    expect(emptyUsage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(Object.keys(emptyUsage)).toEqual(['inputTokens', 'outputTokens']);
    expect(Object.isFrozen(emptyUsage)).toBe(true);
    expect(decodeWith(UsageCodec, emptyUsage)).toEqual(E.right(emptyUsage));
  });

  it('is a field-wise sum', () => {
    expect(addUsage({ inputTokens: 1, outputTokens: 2 }, { inputTokens: 10, outputTokens: 20 })).toEqual({ inputTokens: 11, outputTokens: 22 });
    expect(
      addUsage({ inputTokens: 10, outputTokens: 2, cacheCreationTokens: 3, cacheReadTokens: 4 }, { inputTokens: 5, outputTokens: 1, cacheCreationTokens: 1, cacheReadTokens: 2 }),
    ).toEqual({ inputTokens: 15, outputTokens: 3, cacheCreationTokens: 4, cacheReadTokens: 6 });
  });

  it('a cache field is present iff present in a or b (absent counts as 0)', () => {
    const plain: Usage = { inputTokens: 5, outputTokens: 1 };
    const created: Usage = { inputTokens: 5, outputTokens: 1, cacheCreationTokens: 2 };
    const read: Usage = { inputTokens: 5, outputTokens: 1, cacheReadTokens: 3 };
    const zeroRead: Usage = { inputTokens: 5, outputTokens: 1, cacheReadTokens: 0 };
    expect(addUsage(plain, plain)).toEqual({ inputTokens: 10, outputTokens: 2 });
    expect('cacheCreationTokens' in addUsage(plain, plain)).toBe(false);
    expect('cacheReadTokens' in addUsage(plain, plain)).toBe(false);
    expect(addUsage(plain, created)).toEqual({ inputTokens: 10, outputTokens: 2, cacheCreationTokens: 2 });
    expect(addUsage(created, plain)).toEqual({ inputTokens: 10, outputTokens: 2, cacheCreationTokens: 2 });
    expect(addUsage(created, read)).toEqual({ inputTokens: 10, outputTokens: 2, cacheCreationTokens: 2, cacheReadTokens: 3 });
    // A present zero stays present.
    expect(addUsage(plain, zeroRead)).toEqual({ inputTokens: 10, outputTokens: 2, cacheReadTokens: 0 });
    expect('cacheReadTokens' in addUsage(zeroRead, plain)).toBe(true);
    // Property.
    fc.assert(
      fc.property(arbSmall, arbSmall, (a, b) => {
        const s = addUsage(a, b);
        expect('cacheCreationTokens' in s).toBe(a.cacheCreationTokens !== undefined || b.cacheCreationTokens !== undefined);
        expect('cacheReadTokens' in s).toBe(a.cacheReadTokens !== undefined || b.cacheReadTokens !== undefined);
        expect(Object.values(s).every((v) => v !== undefined)).toBe(true);
      }),
    );
  });

  it('laws: associative, commutative, emptyUsage is the identity (property)', () => {
    fc.assert(
      fc.property(arbSmall, arbSmall, arbSmall, (a, b, c) => {
        expect(addUsage(addUsage(a, b), c)).toEqual(addUsage(a, addUsage(b, c)));
        expect(addUsage(a, b)).toEqual(addUsage(b, a));
        expect(addUsage(a, emptyUsage)).toEqual(a);
        expect(addUsage(emptyUsage, a)).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the cache invariant and does not mutate its arguments (property)', () => {
    fc.assert(
      fc.property(arbSmall, arbSmall, (a, b) => {
        const [a0, b0] = [{ ...a }, { ...b }];
        const s = addUsage(a, b);
        expect(decodeWith(UsageCodec, s)).toEqual(E.right(s));
        expect(a).toEqual(a0);
        expect(b).toEqual(b0);
        expect(s).not.toBe(a);
      }),
    );
  });

  it('totalTokens is inputTokens + outputTokens; cache fields are inside inputTokens', () => {
    expect(totalTokens({ inputTokens: 100, outputTokens: 20, cacheCreationTokens: 30, cacheReadTokens: 50 })).toBe(120);
    expect(totalTokens(emptyUsage)).toBe(0);
    fc.assert(
      fc.property(arbSmall, arbSmall, (a, b) => {
        expect(totalTokens(a)).toBe(a.inputTokens + a.outputTokens);
        expect(totalTokens(addUsage(a, b))).toBe(totalTokens(a) + totalTokens(b));
      }),
    );
  });

  it('isZeroUsage', () => {
    expect(isZeroUsage(emptyUsage)).toBe(true);
    expect(isZeroUsage({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0 })).toBe(true);
    expect(isZeroUsage({ inputTokens: 0, outputTokens: 1 })).toBe(false);
    expect(isZeroUsage({ inputTokens: 1, outputTokens: 0, cacheReadTokens: 1 })).toBe(false);
  });
});

describe('checkedAddUsage', () => {
  it('equals addUsage while the sum is a valid Usage (property)', () => {
    fc.assert(
      fc.property(arbSmall, arbSmall, (a, b) => {
        expect(checkedAddUsage(a, b)).toEqual(E.right(addUsage(a, b)));
      }),
    );
  });

  it('refuses a sum above Number.MAX_SAFE_INTEGER', () => {
    expect(checkedAddUsage({ inputTokens: MAX, outputTokens: 0 }, { inputTokens: 0, outputTokens: 0 })).toEqual(E.right({ inputTokens: MAX, outputTokens: 0 }));
    expect(checkedAddUsage({ inputTokens: MAX, outputTokens: 0 }, { inputTokens: 1, outputTokens: 0 })).toMatchObject({
      _tag: 'Left',
      left: { _tag: 'DecodeError', path: '$.inputTokens', reason: 'invalid_number' },
    });
    expect(checkedAddUsage({ inputTokens: 0, outputTokens: MAX - 1 }, { inputTokens: 0, outputTokens: 2 })).toMatchObject({
      left: { path: '$.outputTokens', reason: 'invalid_number' },
    });
    expect(
      checkedAddUsage({ inputTokens: MAX, outputTokens: 0, cacheReadTokens: MAX }, { inputTokens: MAX, outputTokens: 0, cacheReadTokens: MAX }),
    ).toMatchObject({ left: { reason: 'invalid_number' } });
  });

  it('any overflowing pair is refused (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX }), fc.integer({ min: 0, max: MAX }), (x, y) => {
        const a: Usage = { inputTokens: MAX - x + 1, outputTokens: y };
        const b: Usage = { inputTokens: x, outputTokens: 0 };
        expect(E.isLeft(checkedAddUsage(a, b))).toBe(true);
      }),
    );
  });
});
