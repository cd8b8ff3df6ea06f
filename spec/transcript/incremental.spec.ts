/**
 * The transcript's incremental digests (model.md §7.4) equal full recomputation:
 * appends in any chunking, prefixes, takes and span replacements, around the
 * checkpoint interval.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { transcriptDigest, type Message } from '../../src/model/index.ts';
import {
  CHECKPOINT_INTERVAL,
  appendToTranscript,
  emptyTranscript,
  prefixRevision,
  replaceSpan,
  spanDigest,
  takeTranscript,
  transcriptFromMessages,
  transcriptMessages,
  transcriptRevision,
  vecSize,
  type Transcript,
} from '../../src/transcript/index.ts';
import { arbMessage, cheapMessage } from '../arbitraries/messages.ts';

const K = CHECKPOINT_INTERVAL;

/** A long transcript: mostly cheap messages (so lengths cross several checkpoints), with random ones mixed in. */
const arbLongMessages: fc.Arbitrary<Message[]> = fc
  .record({
    length: fc.oneof(fc.integer({ min: 0, max: 3 * K + 5 }), fc.constantFrom(K - 1, K, K + 1, 2 * K, 2 * K + 1)),
    salt: fc.nat(),
    randoms: fc.array(fc.tuple(fc.nat(), arbMessage), { maxLength: 4 }),
  })
  .map(({ length, salt, randoms }) => {
    const ms = Array.from({ length }, (_, i) => cheapMessage(i, salt));
    for (const [at, m] of randoms) if (length > 0) ms[at % length] = m;
    return ms;
  });

/** An index in `[0, n]`, biased to multiples of K and their neighbours. */
const arbIndex = (n: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 0, max: n }),
    fc.tuple(fc.nat({ max: Math.floor(n / K) }), fc.integer({ min: -1, max: 1 })).map(([c, d]) => Math.max(0, Math.min(n, c * K + d))),
  );

const chunked = (ms: readonly Message[], sizes: readonly number[]): Transcript => {
  let t = emptyTranscript();
  let at = 0;
  for (const size of sizes) {
    if (at >= ms.length) break;
    t = appendToTranscript(t, ms.slice(at, at + size));
    at += size;
  }
  return appendToTranscript(t, ms.slice(at));
};

describe('incremental digests', () => {
  it('appending in any chunks equals the full digest, with a checkpoint every K messages', () => {
    fc.assert(
      fc.property(arbLongMessages, fc.array(fc.integer({ min: 1, max: K + 3 }), { maxLength: 6 }), (ms, sizes) => {
        const t = chunked(ms, sizes);
        expect(transcriptRevision(t)).toBe(transcriptDigest(ms));
        expect(vecSize(t.checkpoints)).toBe(Math.floor(ms.length / K) + 1);
        expect(transcriptMessages(t)).toEqual(ms);
      }),
      { numRuns: 40 },
    );
  });

  it('prefixRevision, takeTranscript and spanDigest equal recomputation', () => {
    fc.assert(
      fc.property(
        arbLongMessages.chain((ms) => fc.tuple(fc.constant(ms), arbIndex(ms.length), arbIndex(ms.length))),
        ([ms, n, m]) => {
          const t = transcriptFromMessages(ms);
          expect(prefixRevision(t, n)).toBe(transcriptDigest(ms.slice(0, n)));
          const p = takeTranscript(t, n);
          expect(transcriptRevision(p)).toBe(transcriptDigest(ms.slice(0, n)));
          expect(vecSize(p.checkpoints)).toBe(Math.floor(n / K) + 1);
          const [s, e] = n <= m ? [n, m] : [m, n];
          expect(spanDigest(t, s, e)).toBe(transcriptDigest(ms.slice(s, e)));
          // the prefix keeps growing correctly
          const more = [cheapMessage(1, -1), cheapMessage(2, -1)];
          expect(transcriptRevision(appendToTranscript(p, more))).toBe(transcriptDigest([...ms.slice(0, n), ...more]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('replaceSpan equals recomputation and leaves the source intact', () => {
    fc.assert(
      fc.property(
        arbLongMessages.chain((ms) =>
          fc.tuple(
            fc.constant(ms),
            arbIndex(ms.length),
            arbIndex(ms.length),
            fc.oneof(
              fc.array(arbMessage, { maxLength: 3 }),
              fc.integer({ min: 0, max: K + 2 }).map((n) => Array.from({ length: n }, (_, i) => cheapMessage(i, 7))),
            ),
          ),
        ),
        ([ms, a, b, repl]) => {
          const [s, e] = a <= b ? [a, b] : [b, a];
          const t = transcriptFromMessages(ms);
          const before = transcriptRevision(t);
          const u = replaceSpan(t, s, e, repl);
          const want = [...ms.slice(0, s), ...repl, ...ms.slice(e)];
          expect(transcriptRevision(u)).toBe(transcriptDigest(want));
          expect(vecSize(u.checkpoints)).toBe(Math.floor(want.length / K) + 1);
          const probe = Math.min(want.length, s + repl.length + 1);
          expect(prefixRevision(u, probe)).toBe(transcriptDigest(want.slice(0, probe)));
          expect(transcriptRevision(t)).toBe(before);
          expect(transcriptMessages(t)).toEqual(ms);
        },
      ),
      { numRuns: 60 },
    );
  });
});
