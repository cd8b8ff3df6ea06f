/**
 * `withMember` (src/model/objects.ts) gives exactly what `{ ...o, [key]: value }`
 * gives: the same members in the same order, the key last or in its place, and
 * an own `__proto__` member copied as a member (never as the copy's prototype).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { withMember } from '../../src/model/objects.ts';
import { arbJson } from '../../src/testing/arbitraries/model.ts';

const asSpread = (o: object, key: string, value: unknown): object => ({ ...o, [key]: value });

describe('withMember', () => {
  it('equals the spread, member order included, for any JSON object and key', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), arbJson), fc.string(), arbJson, (o, key, value) => {
        const got = withMember(o, key, value);
        const want = asSpread(o, key, value);
        expect(Object.keys(got)).toEqual(Object.keys(want));
        expect(got).toEqual(want);
        expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
        expect(got).not.toBe(o);
      }),
    );
  });

  it('adds a member named __proto__ as an own member, the prototype untouched (a counterexample fast-check found)', () => {
    for (const value of [null, { a: 1 }, 3]) {
      const got = withMember({}, '__proto__', value) as Record<string, unknown>;
      expect(Object.keys(got)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(got, '__proto__')?.value).toEqual(value);
    }
  });

  it('replaces an existing member in its place and leaves the source unchanged', () => {
    const o = Object.freeze({ a: 1, createdAt: 5, z: 2 });
    const got = withMember(o, 'createdAt', 9);
    expect(Object.entries(got)).toEqual([
      ['a', 1],
      ['createdAt', 9],
      ['z', 2],
    ]);
    expect(o.createdAt).toBe(5);
  });

  it('copies an own __proto__ member as a member, as JSON.parse made it', () => {
    const o = JSON.parse('{"role":"user","__proto__":{"polluted":true}}') as object;
    const got = withMember(o, 'createdAt', 1);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(got, '__proto__')).toBe(true);
    expect(Object.keys(got)).toEqual(['role', '__proto__', 'createdAt']);
    expect((got as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
