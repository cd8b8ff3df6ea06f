/**
 * The persistent vector behaves like an immutable array: a model-based check over
 * random operation sequences on several live versions at once (forks).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emptyVec, vecFrom, vecFromLazy, vecGet, vecIter, vecLast, vecPush, vecPushAll, vecSize, vecSlice, vecTake, vecToArray, type PVec } from '../../src/transcript/index.ts';

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

  it('a lazily built vector behaves like its model under the same operations, loading each segment at most once', () => {
    const arbRun = fc.record({ segments: fc.nat({ max: 6 }), leaves: fc.integer({ min: 1, max: 9 }) });
    fc.assert(
      fc.property(fc.array(arbRun, { maxLength: 3 }), fc.nat({ max: 300 }), fc.array(arbOp, { maxLength: 15 }), (runs, tailLength, ops) => {
        let next = 0;
        const loads = new Map<string, number>();
        const built = runs.map((r, ri) => {
          const size = r.leaves * 32;
          const base = next;
          next += r.segments * size;
          return {
            segments: r.segments,
            size,
            load: (i: number) => {
              const k = `${ri}/${i}`;
              loads.set(k, (loads.get(k) ?? 0) + 1);
              return Array.from({ length: size }, (_, j) => base + i * size + j);
            },
          };
        });
        const tail = Array.from({ length: tailLength }, (_, j) => next + j);
        const model0 = Array.from({ length: next + tailLength }, (_, i) => i);
        const lazy = vecFromLazy(built, tail);
        expect(vecSize(lazy)).toBe(model0.length);
        expect(vecLast(lazy)).toBe(model0[model0.length - 1]);
        const versions: Array<{ v: PVec<number>; model: number[] }> = [{ v: lazy, model: model0 }];
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
        for (const { v, model } of versions) {
          expect(vecSize(v)).toBe(model.length);
          const a = Math.floor(model.length / 3);
          expect(vecSlice(v, a, a + 40)).toEqual(model.slice(a, a + 40));
          expect(vecGet(v, model.length - 1)).toBe(model[model.length - 1]);
          expect(vecToArray(v)).toEqual(model);
        }
        for (const n of loads.values()) expect(n).toBe(1);
      }),
      { numRuns: 150 },
    );
  });
});
