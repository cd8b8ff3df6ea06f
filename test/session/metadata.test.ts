/**
 * Metadata drafts (`metadataDraft`, `metadataSealed`): a draft changed in
 * place by random sets and removals holds, at every step, exactly what the
 * plain copy-per-change objects hold (same keys in the same order, same
 * values, same digest), the object it was drafted from never changes, and a
 * sealed draft is frozen and copied again on its next change.
 * `Session.applyAll`, which works on one draft when two or more commands
 * change metadata, makes the same records, state digests, metadata and
 * results as applying the commands one at a time, and keeps nothing of a
 * refused run.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe, type Json } from '../../src/model/json.ts';
import { sha256OfUtf8 } from '../../src/model/hashing.ts';
import { isReservedKey, metadataDraft, metadataFrom, metadataSealed, metadataWith, metadataWithout, type Metadata } from '../../src/session/metadata.ts';
import { metadataDigest } from '../../src/session/metadataDigest.ts';
import { Session } from '../../src/session/session.ts';
import type { SessionCommand } from '../../src/session/commands.ts';
import * as commands from '../../src/session/builders.ts';
import { userText } from '../../src/model/constructors.ts';
import { arbJson, arbJsonKey } from '../../src/testing/arbitraries/model.ts';

const wholeDigest = (m: Metadata): string => sha256OfUtf8(canonicalJsonUnsafe(m));

/** Keys: the model's JSON keys, label-like keys that sort between others, and integer-like keys (listed first by JS). */
const arbKey = fc.oneof(arbJsonKey, fc.nat({ max: 30 }).map((n) => `label:${String(n).padStart(2, '0')}`), fc.constantFrom('pi.model', 'a', 'z', '7', '10', '0', '😀'));

type Edit = { readonly op: 'set'; readonly key: string; readonly value: Json } | { readonly op: 'remove'; readonly key: string; readonly pick: number };
const arbEdit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), key: arbKey, value: arbJson as fc.Arbitrary<Json> }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), key: arbKey, pick: fc.nat() }) },
);

/** The key an edit removes: an existing one picked by `pick` most of the time, else `key` (maybe absent). */
const removedKey = (m: Metadata, e: Extract<Edit, { op: 'remove' }>): string => {
  const keys = Object.keys(m);
  return keys.length > 0 && e.pick % 4 !== 0 ? keys[e.pick % keys.length]! : e.key;
};

/** Members in order, values as canonical JSON: what a reader of the object sees. */
const members = (m: Metadata): Array<[string, string]> => Object.keys(m).map((k) => [k, canonicalJsonUnsafe(m[k])]);

describe('metadata drafts', () => {
  it('hold what copying per change holds, at every step, with the same digests; the source never changes', () => {
    fc.assert(
      fc.property(fc.dictionary(arbKey, arbJson as fc.Arbitrary<Json>, { maxKeys: 8 }), fc.array(fc.tuple(arbEdit, fc.boolean()), { maxLength: 40 }), (start, edits) => {
        const source = metadataFrom(start);
        const sourceDigest = metadataDigest(source);
        const sourceMembers = members(source);
        let copied = source;
        const draft = metadataDraft(source);
        expect(draft).not.toBe(source);
        expect(Object.isFrozen(draft)).toBe(false);
        for (const [edit, look] of edits) {
          const key = edit.op === 'set' ? edit.key : removedKey(copied, edit);
          const next = edit.op === 'set' ? metadataWith(draft, key, edit.value) : metadataWithout(draft, key);
          expect(next).toBe(draft);
          copied = edit.op === 'set' ? metadataWith(copied, key, edit.value) : metadataWithout(copied, key);
          expect(members(draft)).toEqual(members(copied));
          if (look) expect(metadataDigest(draft)).toBe(wholeDigest(copied));
        }
        expect(metadataDigest(draft)).toBe(wholeDigest(copied));
        expect(metadataDigest(draft)).toBe(metadataDigest(copied));
        expect(Object.getPrototypeOf(draft)).toBe(null);
        expect(metadataSealed(draft)).toBe(draft);
        expect(Object.isFrozen(draft)).toBe(true);
        // The source kept its members and digest.
        expect(members(source)).toEqual(sourceMembers);
        expect(metadataDigest(source)).toBe(sourceDigest);
        expect(wholeDigest(source)).toBe(sourceDigest);
      }),
      { numRuns: 300 },
    );
  });

  it('are copied again once sealed, and the sealed object keeps its members and digest', () => {
    const draft = metadataDraft(metadataFrom({ a: 1 }));
    metadataWith(draft, 'b', 2);
    const sealed = metadataSealed(draft);
    const digest = metadataDigest(sealed);
    const after = metadataWith(sealed, 'c', 3);
    expect(after).not.toBe(sealed);
    expect(members(sealed)).toEqual([['a', '1'], ['b', '2']]);
    expect(metadataDigest(sealed)).toBe(digest);
    expect(metadataDigest(after)).toBe(wholeDigest(after));
    expect(Object.isFrozen(after)).toBe(true);
    // Sealing a plain (frozen) metadata object is a no-op.
    expect(metadataSealed(after)).toBe(after);
  });
});

type Cmd = SessionCommand;
/** Keys a session accepts: non-empty, not reserved. */
const arbUserKey = arbKey.filter((k) => k !== '' && !isReservedKey(k));
/** Random runs of metadata changes with other commands between them. */
const arbCommand: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('metadata_set' as const), key: arbUserKey, value: arbJson as fc.Arbitrary<Json> }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('metadata_removed' as const), key: arbUserKey }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('metadata_backfilled' as const), key: arbUserKey, value: arbJson as fc.Arbitrary<Json> }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((text) => commands.messagesAppended([userText(text)]) as Cmd) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ type: 'session_touched' }) },
);

const fixedClock = (): number => 1_700_000_000_000;

describe('Session.applyAll with a metadata draft', () => {
  it('makes the same records, metadata and results as applying the commands one at a time', () => {
    fc.assert(
      fc.property(fc.dictionary(arbUserKey, arbJson as fc.Arbitrary<Json>, { maxKeys: 6 }), fc.array(arbCommand, { maxLength: 30 }), (start, cmds) => {
        const base = Session.create({ id: 's', clock: fixedClock, metadata: start });
        const baseMetadata = members(base.metadata);
        let one: Session = base;
        const results: unknown[] = [];
        for (const c of cmds) {
          const r = one.apply(c);
          if (E.isLeft(r)) throw new Error(r.left.message);
          results.push(r.right.result);
          one = r.right.session;
        }
        const all = base.applyAll(cmds);
        if (E.isLeft(all)) throw new Error(all.left.message);
        const s = all.right.session;
        expect(all.right.result).toEqual(results);
        expect(s.log).toEqual(one.log);
        expect(s.recordsSince(base)).toEqual(one.recordsSince(base));
        expect(members(s.metadata)).toEqual(members(one.metadata));
        expect(Object.isFrozen(s.metadata)).toBe(true);
        expect(metadataDigest(s.metadata)).toBe(wholeDigest(s.metadata));
        if (one === base) expect(s).toBe(base);
        expect(E.isRight(s.verify())).toBe(true);
        // The session it started from is unchanged.
        expect(members(base.metadata)).toEqual(baseMetadata);
        // The result changes by copy from now on.
        const later = s.apply({ type: 'metadata_set', key: 'later', value: 1 });
        if (E.isLeft(later)) throw new Error(later.left.message);
        expect(later.right.session.metadata).not.toBe(s.metadata);
        expect(members(s.metadata)).toEqual(members(one.metadata));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps nothing of a run refused after metadata changes', () => {
    const base = Session.create({ id: 's', clock: fixedClock, metadata: { a: 1 } });
    const r = base.applyAll([
      { type: 'metadata_set', key: 'b', value: 2 },
      { type: 'metadata_removed', key: 'a' },
      { type: 'metadata_set', key: 'palimpsest.x', value: 3 },
    ]);
    expect(E.isLeft(r) && r.left._tag).toBe('ReservedMetadataKey');
    expect(members(base.metadata)).toEqual([['a', '1']]);
    expect(Object.isFrozen(base.metadata)).toBe(true);
    expect(base.seq).toBe(1);
  });
});

describe('replay with a metadata draft (replayRecords)', () => {
  it('folds a log to the metadata of applying its commands one at a time, and never changes its base', () => {
    fc.assert(
      fc.property(fc.dictionary(arbUserKey, arbJson as fc.Arbitrary<Json>, { maxKeys: 6 }), fc.array(arbCommand, { maxLength: 30 }), fc.nat(), (start, cmds, cut) => {
        let one = Session.create({ id: 's', clock: fixedClock, metadata: start });
        for (const c of cmds) {
          const r = one.apply(c);
          if (E.isLeft(r)) throw new Error(r.left.message);
          one = r.right.session;
        }
        const log = one.log;
        const whole = Session.replay(log);
        if (E.isLeft(whole)) throw new Error(whole.left.message);
        expect(members(whole.right.metadata)).toEqual(members(one.metadata));
        expect(Object.isFrozen(whole.right.metadata)).toBe(true);
        expect(metadataDigest(whole.right.metadata)).toBe(wholeDigest(whole.right.metadata));
        // From a state part way (as a load replays the tail after a snapshot): same result, base untouched.
        const k = 1 + (cut % log.length);
        const head = Session.replay(log.slice(0, k));
        if (E.isLeft(head)) throw new Error(head.left.message);
        const baseMembers = members(head.right.metadata);
        const tail = Session.fromState(head.right.state, log.slice(k));
        if (E.isLeft(tail)) throw new Error(tail.left.message);
        expect(members(tail.right.metadata)).toEqual(members(one.metadata));
        expect(Object.isFrozen(tail.right.metadata)).toBe(true);
        expect(members(head.right.metadata)).toEqual(baseMembers);
        expect(Object.isFrozen(head.right.metadata)).toBe(true);
        // The replayed session changes by copy from now on.
        const later = tail.right.apply({ type: 'metadata_set', key: 'later', value: 1 });
        if (E.isLeft(later)) throw new Error(later.left.message);
        expect(later.right.session.metadata).not.toBe(tail.right.metadata);
        expect(members(tail.right.metadata)).toEqual(members(one.metadata));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps nothing of a replay refused after metadata changes, and the base is unchanged', () => {
    let s = Session.create({ id: 's', clock: fixedClock, metadata: { a: 1 } });
    for (const c of [
      { type: 'metadata_set', key: 'b', value: 2 },
      { type: 'metadata_removed', key: 'a' },
      { type: 'metadata_set', key: 'c', value: 3 },
    ] as const) {
      const r = s.apply(c);
      if (E.isLeft(r)) throw new Error(r.left.message);
      s = r.right.session;
    }
    const base = Session.replay(s.log.slice(0, 1));
    if (E.isLeft(base)) throw new Error(base.left.message);
    // The third change's value edited in the stored record: its hash no longer matches.
    const tampered = s.log.slice(1).map((r, i) => (i === 2 ? { ...r, command: { type: 'metadata_set' as const, key: 'c', value: 4 } } : r));
    const r = Session.fromState(base.right.state, tampered);
    expect(E.isLeft(r) && r.left._tag).toBe('BrokenLog');
    expect(members(base.right.metadata)).toEqual([['a', '1']]);
    expect(Object.isFrozen(base.right.metadata)).toBe(true);
  });
});
