/**
 * The persistent vector behaves like an immutable array: a model-based check over
 * random operation sequences on several live versions at once (forks).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emptyVec, vecFrom, vecGet, vecIter, vecPush, vecPushAll, vecSize, vecSlice, vecTake, vecToArray, type PVec } from '../../src/transcript/index.ts';

type Op =
  | { readonly kind: 'push'; readonly from: number; readonly x: number }
  | { readonly kind: 'pushAll'; readonly from: number; readonly n: number }
  | { readonly kind: 'take'; readonly from: number; readonly n: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), from: fc.nat(), x: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('pushAll' as const), from: fc.nat(), n: fc.oneof(fc.nat({ max: 70 }), fc.nat({ max: 1200 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('take' as const), from: fc.nat(), n: fc.nat({ max: 3000 }) }) },
);

describe('persistent vector model', () => {
  it('every version keeps behaving like its array model', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 25 }), fc.nat({ max: 1100 }), (ops, initial) => {
        const init = Array.from({ length: initial }, (_, i) => i);
        const versions: Array<{ v: PVec<number>; model: number[] }> = [
          { v: emptyVec<number>(), model: [] },
          { v: vecFrom(init), model: init.slice() },
        ];
        let counter = 1_000_000;
        for (const op of ops) {
          const src = versions[op.from % versions.length]!;
          if (op.kind === 'push') versions.push({ v: vecPush(src.v, op.x), model: [...src.model, op.x] });
          else if (op.kind === 'pushAll') {
            const xs = Array.from({ length: op.n }, () => counter++);
            versions.push({ v: vecPushAll(src.v, xs), model: [...src.model, ...xs] });
          } else {
            const n = op.n % (src.model.length + 2);
            versions.push({ v: vecTake(src.v, n), model: src.model.slice(0, n) });
          }
        }
        // every version, old or new, still equals its model
        for (const { v, model } of versions) {
          expect(vecSize(v)).toBe(model.length);
          expect(vecToArray(v)).toEqual(model);
          const probes = [0, model.length - 1, model.length, 31, 32, 33, 1023, 1024, 1025, Math.floor(model.length / 2)];
          for (const i of probes) expect(vecGet(v, i)).toBe(model[i]);
          const a = Math.floor(model.length / 3);
          const b = Math.floor((2 * model.length) / 3) + 1;
          expect(vecSlice(v, a, b)).toEqual(model.slice(a, b));
          expect([...vecIter(v, a, b)]).toEqual(model.slice(a, b));
        }
      }),
      { numRuns: 120 },
    );
  });
});
