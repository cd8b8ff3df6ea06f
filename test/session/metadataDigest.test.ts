/**
 * The incremental metadata digest (`metadataDigest`) is the SHA-256 of the
 * metadata's canonical JSON serialized whole, on every object of random runs
 * of sets and removals (digests taken at some steps only, objects changed
 * twice, keys in ascending runs as an import's labels are set), and the state
 * digests of a session setting many labels stay those of the whole document.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe } from '../../src/model/json.ts';
import { sha256OfUtf8 } from '../../src/model/hashing.ts';
import { metadataFrom, metadataWith, metadataWithout, type Metadata } from '../../src/session/metadata.ts';
import { metadataDigest } from '../../src/session/metadataDigest.ts';
import { Session } from '../../src/session/session.ts';
import { stateDigest, stateDigestOfDocument } from '../../src/session/stateDigest.ts';
import { arbJson, arbJsonKey } from '../../src/testing/arbitraries/model.ts';

const wholeDigest = (m: Metadata): string => sha256OfUtf8(canonicalJsonUnsafe(m));

type Edit = { readonly op: 'set'; readonly key: string; readonly value: unknown } | { readonly op: 'remove'; readonly pick: number } | { readonly op: 'branch' };

/** Keys: the model's JSON keys, plus label-like keys that sort between others. */
const arbKey = fc.oneof(arbJsonKey, fc.nat({ max: 40 }).map((n) => `label:${String(n).padStart(2, '0')}`), fc.constantFrom('pi.model', 'a', 'z', 'é', '😀'));
const arbEdit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key: arbKey, value: arbJson }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'branch' as const }) },
);

describe('metadataDigest', () => {
  it('equals the digest of the canonical JSON serialized whole after random sets and removals', () => {
    fc.assert(
      fc.property(fc.dictionary(arbKey, arbJson, { maxKeys: 8 }), fc.array(fc.tuple(arbEdit, fc.boolean()), { maxLength: 40 }), (start, edits) => {
        let m = metadataFrom(start);
        // An object changed twice: the second change starts without the text the first one took.
        let spare: Metadata | undefined;
        expect(metadataDigest(m)).toBe(wholeDigest(m));
        for (const [edit, look] of edits) {
          const before = m;
          switch (edit.op) {
            case 'set':
              m = metadataWith(m, edit.key, edit.value as never);
              break;
            case 'remove': {
              const keys = Object.keys(m);
              if (keys.length > 0) m = metadataWithout(m, keys[edit.pick % keys.length]!);
              break;
            }
            case 'branch':
              spare = metadataWith(before, 'branch', 1);
              break;
          }
          if (look) expect(metadataDigest(m)).toBe(wholeDigest(m));
          if (spare !== undefined) expect(metadataDigest(spare)).toBe(wholeDigest(spare));
          // The object it came from keeps its digest.
          expect(metadataDigest(before)).toBe(wholeDigest(before));
        }
        expect(metadataDigest(m)).toBe(wholeDigest(m));
      }),
      { numRuns: 200 },
    );
  });

  it('equals it when keys are set in ascending order between other keys, and when one is set again', () => {
    let m = metadataFrom({ 'pi.model': 'm', 'pi.import': { file: 'x' }, a: [1, 2] });
    for (let i = 0; i < 300; i++) {
      m = metadataWith(m, `label:${String(i).padStart(4, '0')}`, { seq: i + 1, revision: `r${i}` });
      expect(metadataDigest(m)).toBe(wholeDigest(m));
    }
    m = metadataWith(m, 'label:0100', 'changed');
    expect(metadataDigest(m)).toBe(wholeDigest(m));
    m = metadataWith(m, 'label:0299', 'changed');
    expect(metadataDigest(m)).toBe(wholeDigest(m));
    m = metadataWithout(m, 'label:0005');
    expect(metadataDigest(m)).toBe(wholeDigest(m));
    // Different metadata, different digests (nothing stale is reused).
    expect(metadataDigest(metadataWith(m, 'label:0299', 'again'))).not.toBe(metadataDigest(m));
  });

  it('keeps the state digests of a session setting many labels equal to those of the whole document', () => {
    let t = 1_000;
    let s = Session.create({ id: 'labels', clock: () => (t += 1), metadata: { 'pi.model': 'm', title: 't' } });
    for (let i = 0; i < 120; i++) {
      const r = s.apply({ type: 'metadata_set', key: `label:turn-${String(i).padStart(3, '0')}`, value: { sessionId: 'labels', seq: i + 1, revision: 'sha256:x' } });
      if (E.isLeft(r)) throw new Error(r.left.message);
      s = r.right.session;
      expect(stateDigest(s.state)).toBe(stateDigestOfDocument(s.state));
    }
  });
});
