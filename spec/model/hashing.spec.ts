/**
 * Property specs of the SHA-256 port (`src/model/hashing.ts`): `node:crypto`,
 * `@noble/hashes` and the exportable SHA-256 (`sha256State.ts`) give the same
 * digests for the same bytes, whatever the split into updates and wherever a
 * state is copied; transcript digests and accumulator snapshots are the same on
 * both ports.
 */
import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { nobleSha256, nobleSha256With, nodeSha256, utf8Slices, type Sha256Hash, type Sha256Port } from '../../src/model/hashing.ts';
import { ResumableSha256 } from '../../src/model/sha256State.ts';
import { accumulatorDigest, appendMessages, emptyAccumulator, exportAccumulator, importAccumulator, transcriptDigest } from '../../src/model/index.ts';
import { arbMessages } from './arbitraries.ts';

const nodePort = nodeSha256(crypto);
const resumablePort: Sha256Port = {
  name: 'resumable',
  create: () => ResumableSha256.create(),
  ofBytes: (b) => {
    const h = ResumableSha256.create();
    h.update(b);
    return `sha256:${h.digestHex()}`;
  },
  ofUtf8: (s) => resumablePort.ofBytes(new TextEncoder().encode(s)),
};
/** Both ports hashing any string longer than 3 code units in slices (`utf8Slices`), as they do strings over 1 Mi units. */
const slicingPorts: readonly Sha256Port[] = [
  { ...nodeSha256(crypto, 3), name: 'node:crypto sliced' },
  { ...nobleSha256With(3), name: '@noble/hashes sliced' },
];
const ports: readonly Sha256Port[] = [nodePort, nobleSha256, resumablePort, ...slicingPorts];

/** Bytes split into consecutive parts, and a part index after which the state is copied. */
const arbSplitBytes = fc
  .tuple(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat({ max: 400 }), { maxLength: 6 }), fc.nat({ max: 6 }))
  .map(([bytes, cuts, copyAt]) => {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const parts: Uint8Array[] = [];
    let from = 0;
    for (const p of points) {
      parts.push(bytes.subarray(from, p));
      from = p;
    }
    parts.push(bytes.subarray(from));
    return { bytes, parts, copyAt: copyAt % parts.length };
  });

const reference = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');

describe('the SHA-256 ports agree', () => {
  it('one-shot digests of bytes and of UTF-8 strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), (bytes, s) => {
        for (const p of ports) {
          expect(p.ofBytes(bytes), p.name).toBe(`sha256:${reference(bytes)}`);
          expect(p.ofUtf8(s), p.name).toBe(`sha256:${crypto.createHash('sha256').update(s, 'utf8').digest('hex')}`);
        }
      }),
    );
  });

  it('a string hashed in slices: no slice ends between the halves of a surrogate pair, so pairs and lone surrogates digest as TextEncoder encodes them', () => {
    const units = fc.constantFrom('a', 'é', '\u20ac', '\ud83d', '\ude00', '\ud83d\ude00');
    fc.assert(
      fc.property(fc.array(units, { maxLength: 40 }).map((us) => us.join('')), fc.integer({ min: 2, max: 9 }), (s, max) => {
        const slices = [...utf8Slices(s, max)];
        expect(slices.join('')).toBe(s);
        for (const part of slices) {
          expect(part.length).toBeGreaterThan(0);
          expect(part.length).toBeLessThanOrEqual(max);
        }
        for (let i = 1; i < slices.length; i++) {
          const end = slices[i - 1]!.charCodeAt(slices[i - 1]!.length - 1);
          const start = slices[i]!.charCodeAt(0);
          expect(end >= 0xd800 && end <= 0xdbff && start >= 0xdc00 && start <= 0xdfff, `pair cut between slices ${i - 1} and ${i}`).toBe(false);
        }
        const want = `sha256:${reference(new TextEncoder().encode(s))}`;
        expect(nodeSha256(crypto, max).ofUtf8(s)).toBe(want);
        expect(nobleSha256With(max).ofUtf8(s)).toBe(want);
      }),
    );
  });

  it('incremental updates with a copy taken in the middle', () => {
    fc.assert(
      fc.property(arbSplitBytes, ({ bytes, parts, copyAt }) => {
        for (const p of ports) {
          const h = p.create();
          let copy: Sha256Hash | undefined;
          parts.forEach((part, i) => {
            h.update(part);
            if (i === copyAt) copy = h.copy();
          });
          expect(h.digestHex(), p.name).toBe(reference(bytes));
          // The copy continues on its own from where it was taken.
          for (const part of parts.slice(copyAt + 1)) copy!.update(part);
          expect(copy!.digestHex(), `${p.name} copy`).toBe(reference(bytes));
        }
      }),
    );
  });

  it('transcript digests and accumulator snapshots are the same on node:crypto and @noble/hashes', () => {
    fc.assert(
      fc.property(arbMessages(), (ms) => {
        const a = appendMessages(emptyAccumulator(nodePort), ms);
        const b = appendMessages(emptyAccumulator(nobleSha256), ms);
        expect(accumulatorDigest(a)).toBe(accumulatorDigest(b));
        expect(accumulatorDigest(a)).toBe(transcriptDigest(ms, nobleSha256));
        expect(transcriptDigest(ms, nodePort)).toBe(transcriptDigest(ms, nobleSha256));
        const exported = exportAccumulator(a);
        expect(exportAccumulator(b)).toEqual(exported);
        const back = importAccumulator(exported);
        if (E.isLeft(back)) throw new Error(back.left.message);
        expect(accumulatorDigest(back.right)).toBe(accumulatorDigest(a));
      }),
      { numRuns: 60 },
    );
  });
});
