/**
 * Property specs of the incremental transcript digest (model.md §7.4, §10
 * "Incremental equals full"):
 *
 * - folding `appendMessage` and finalizing equals `transcriptDigest`;
 * - finalizing leaves later appends unaffected;
 * - two appends to one accumulator are independent, in any order (hash handover);
 * - export, import, continue matches, around multiples of 64 bytes;
 * - checkpoint rewrites and forks match recomputation.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  accumulatorDigest,
  appendMessage,
  appendMessages,
  canonicalMessageBytes,
  emptyAccumulator,
  exportAccumulator,
  importAccumulator,
  systemMessage,
  transcriptDigest,
  type DigestAccumulator,
  type Message,
  type MessageInput,
} from '../../src/model/index.ts';
import { arbMessage, arbMessageInput, arbMessages } from './arbitraries.ts';

const fold = (ms: readonly MessageInput[], from: DigestAccumulator = emptyAccumulator()): DigestAccumulator => ms.reduce(appendMessage, from);

/** UTF-8 length of T(ms) without its closing "]". */
const openLength = (ms: readonly MessageInput[]): number =>
  1 + ms.reduce((n, m, i) => n + (i > 0 ? 1 : 0) + canonicalMessageBytes(m).length, 0);

/** JSON round trip of a snapshot, then import (as the store does). */
const reload = (acc: DigestAccumulator): DigestAccumulator => {
  const r = importAccumulator(JSON.parse(JSON.stringify(exportAccumulator(acc))));
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

const runs = { numRuns: 80 };

describe('incremental equals full', () => {
  it('folding appendMessage and finalizing equals transcriptDigest; count and byteLength track T', () => {
    fc.assert(
      fc.property(arbMessages(10), (ms) => {
        const acc = fold(ms);
        expect(accumulatorDigest(acc)).toBe(transcriptDigest(ms));
        expect(acc.count).toBe(ms.length);
        expect(acc.byteLength).toBe(openLength(ms));
      }),
      runs,
    );
  });

  it('holds for message inputs without createdAt too', () => {
    fc.assert(
      fc.property(fc.array(arbMessageInput, { maxLength: 6 }), (ms) => {
        expect(accumulatorDigest(fold(ms))).toBe(transcriptDigest(ms));
      }),
      runs,
    );
  });

  it('appendMessages over any split equals folding appendMessage', () => {
    fc.assert(
      fc.property(arbMessages(10), fc.nat(), (ms, cut) => {
        const k = ms.length === 0 ? 0 : cut % (ms.length + 1);
        const bulk = appendMessages(appendMessages(emptyAccumulator(), ms.slice(0, k)), ms.slice(k));
        expect(exportAccumulator(bulk)).toEqual(exportAccumulator(fold(ms)));
        expect(accumulatorDigest(bulk)).toBe(transcriptDigest(ms));
      }),
      runs,
    );
  });

  it('finalizing leaves later appends unaffected', () => {
    fc.assert(
      fc.property(arbMessages(10), (ms) => {
        let acc = emptyAccumulator();
        const seen: string[] = [accumulatorDigest(acc)];
        for (const m of ms) {
          acc = appendMessage(acc, m);
          seen.push(accumulatorDigest(acc)); // finalize after every append
          seen.push(accumulatorDigest(acc)); // and again (memoized)
        }
        expect(accumulatorDigest(acc)).toBe(transcriptDigest(ms));
        expect(exportAccumulator(acc)).toEqual(exportAccumulator(fold(ms)));
        for (let i = 0; i <= ms.length; i++) expect(seen[2 * i]).toBe(transcriptDigest(ms.slice(0, i)));
      }),
      runs,
    );
  });

  it('two appends to one accumulator are independent', () => {
    fc.assert(
      fc.property(arbMessages(6), arbMessage, arbMessage, fc.boolean(), (prefix, x, y, finalizeFirst) => {
        const acc = fold(prefix);
        const before = exportAccumulator(acc);
        const ax = appendMessage(acc, x);
        if (finalizeFirst) accumulatorDigest(ax);
        const ay = appendMessage(acc, y);
        expect(accumulatorDigest(ay)).toBe(transcriptDigest([...prefix, y]));
        expect(accumulatorDigest(ax)).toBe(transcriptDigest([...prefix, x]));
        expect(accumulatorDigest(acc)).toBe(transcriptDigest(prefix));
        expect(exportAccumulator(acc)).toEqual(before);
        // Each branch continues on its own.
        expect(accumulatorDigest(appendMessage(ax, y))).toBe(transcriptDigest([...prefix, x, y]));
        expect(accumulatorDigest(appendMessage(ay, x))).toBe(transcriptDigest([...prefix, y, x]));
        expect(accumulatorDigest(appendMessages(acc, [x, y]))).toBe(transcriptDigest([...prefix, x, y]));
      }),
      runs,
    );
  });
});

describe('hash handover (the first append takes over the hash; later ones rebuild it)', () => {
  it('any order of appends to any earlier accumulator equals recomputation', () => {
    // Each step appends to a random accumulator made so far: its first append takes over its
    // hash, every later one (a branch) rebuilds it from the trail. Each result must still be
    // the digest and the export of its own messages, computed from scratch.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), arbMessages(3), fc.boolean()), { minLength: 1, maxLength: 12 }), (steps) => {
        const made: Array<{ acc: DigestAccumulator; ms: readonly Message[] }> = [{ acc: emptyAccumulator(), ms: [] }];
        for (const [pick, ms, finalize] of steps) {
          const from = made[pick % made.length]!;
          const acc = appendMessages(from.acc, ms);
          if (finalize) accumulatorDigest(acc);
          made.push({ acc, ms: [...from.ms, ...ms] });
        }
        for (const { acc, ms } of made) {
          expect(accumulatorDigest(acc)).toBe(transcriptDigest(ms));
          expect(exportAccumulator(acc)).toEqual(exportAccumulator(fold(ms)));
        }
      }),
      runs,
    );
  });
});

describe('export, import, continue', () => {
  /** A system message that brings the open byte length after `prefix` to `target` mod 64. */
  const padTo = (prefix: readonly MessageInput[], target: number, extraBlocks: number): Message => {
    const b = openLength(prefix);
    const overhead = (prefix.length > 0 ? 1 : 0) + canonicalMessageBytes(systemMessage('')).length;
    const len = (((target - b - overhead) % 64) + 64) % 64 + 64 * extraBlocks;
    return systemMessage('x'.repeat(len), { createdAt: 0 }) as Message;
  };

  it('matches around multiples of 64 bytes (63, 0, 1 mod 64)', () => {
    fc.assert(
      fc.property(arbMessages(5), fc.constantFrom(63, 0, 1, 62, 2), fc.nat({ max: 2 }), arbMessages(4), (prefix, target, extra, suffix) => {
        const ms = [...prefix, padTo(prefix, target, extra)];
        const acc = fold(ms);
        expect(acc.byteLength % 64).toBe(target);
        const snap = exportAccumulator(acc);
        expect(snap.tail.length / 2).toBe(target);
        const back = reload(acc);
        expect(exportAccumulator(back)).toEqual(snap);
        expect(accumulatorDigest(back)).toBe(transcriptDigest(ms));
        expect(accumulatorDigest(fold(suffix, back))).toBe(transcriptDigest([...ms, ...suffix]));
      }),
      runs,
    );
  });

  it('matches at every byte offset of the first three blocks', () => {
    const first = systemMessage('a', { createdAt: 1 }) as Message;
    for (let target = 0; target < 64 * 3; target++) {
      const pad = padTo([first], target % 64, Math.floor(target / 64));
      const ms = [first, pad];
      const acc = fold(ms);
      const next = systemMessage('next');
      expect(accumulatorDigest(appendMessage(reload(acc), next))).toBe(transcriptDigest([...ms, next]));
    }
  });

  it('matches when exporting and importing after every append', () => {
    fc.assert(
      fc.property(arbMessages(10), (ms) => {
        let acc = emptyAccumulator();
        for (const m of ms) acc = appendMessage(reload(acc), m);
        expect(accumulatorDigest(reload(acc))).toBe(transcriptDigest(ms));
        expect(exportAccumulator(acc)).toEqual(exportAccumulator(fold(ms)));
      }),
      runs,
    );
  });
});

describe('checkpoints (K messages apart) and rewrites', () => {
  const K = 4;
  /** checkpoints[j] has absorbed the first j*K messages. */
  const checkpoints = (ms: readonly Message[]): DigestAccumulator[] => {
    const cps = [emptyAccumulator()];
    let acc = cps[0]!;
    ms.forEach((m, i) => {
      acc = appendMessage(acc, m);
      if ((i + 1) % K === 0) cps.push(acc);
    });
    return cps;
  };

  const arbRewrite = arbMessages(14).chain((ms) =>
    fc.tuple(fc.constant(ms), fc.nat({ max: ms.length }), fc.nat({ max: ms.length }), arbMessages(3), fc.boolean()),
  );

  it('a rewrite resumed from the checkpoint at or below start matches recomputation', () => {
    fc.assert(
      fc.property(arbRewrite, ([ms, i, j, replacement, viaSnapshot]) => {
        const [start, end] = i <= j ? [i, j] : [j, i];
        const cps = checkpoints(ms);
        const c = Math.floor(start / K);
        const cp = viaSnapshot ? reload(cps[c]!) : cps[c]!;
        expect(cp.count).toBe(c * K);
        // Fewer than K messages of slack, then R, then the suffix.
        expect(start - c * K).toBeLessThan(K);
        const resumed = appendMessages(appendMessages(appendMessages(cp, ms.slice(c * K, start)), replacement), ms.slice(end));
        const rewritten = [...ms.slice(0, start), ...replacement, ...ms.slice(end)];
        expect(accumulatorDigest(resumed)).toBe(transcriptDigest(rewritten));
        expect(resumed.count).toBe(rewritten.length);
        // The removed span and R hash as transcripts of their own.
        expect(accumulatorDigest(fold(ms.slice(start, end)))).toBe(transcriptDigest(ms.slice(start, end)));
        expect(accumulatorDigest(fold(replacement))).toBe(transcriptDigest(replacement));
        // The original checkpoint is untouched.
        expect(accumulatorDigest(cps[c]!)).toBe(transcriptDigest(ms.slice(0, c * K)));
      }),
      runs,
    );
  });

  it('forkAt(k) from one checkpoint and fewer than K messages matches recomputation', () => {
    fc.assert(
      fc.property(arbMessages(14), fc.nat(), (ms, r) => {
        const k = r % (ms.length + 1);
        const cps = checkpoints(ms);
        const c = Math.floor(k / K);
        const forked = appendMessages(cps[c]!, ms.slice(c * K, k));
        expect(accumulatorDigest(forked)).toBe(transcriptDigest(ms.slice(0, k)));
        // The fork continues independently of the source.
        const extra = systemMessage('fork only');
        expect(accumulatorDigest(appendMessage(forked, extra))).toBe(transcriptDigest([...ms.slice(0, k), extra]));
        expect(accumulatorDigest(fold(ms))).toBe(transcriptDigest(ms));
      }),
      runs,
    );
  });
});
