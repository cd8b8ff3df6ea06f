/**
 * Snapshot encoding (src/store/snapshot.ts): the stored text is the canonical
 * JSON of the snapshot, whatever its metadata holds, and the metadata memo a
 * session's snapshots thread through (`MetadataMemo`) never changes a byte of
 * it: a snapshot encoded with the memo of the ones before equals one encoded
 * from nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe, type Json } from '../../src/model/json.ts';
import { Session } from '../../src/session/session.ts';
import { emptyMemos, encodeSnapshot, type SnapshotMemos } from '../../src/store/snapshot.ts';
import { labelCommand } from '../../src/store/labels.ts';
import { arbJson } from '../../src/testing/arbitraries/model.ts';
import { userText } from '../../src/model/index.ts';

const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};

/** A metadata change: set (a JSON value), remove, or set a label-shaped value. */
type Change = { readonly op: 'set'; readonly key: string; readonly value: Json } | { readonly op: 'remove'; readonly key: string } | { readonly op: 'label'; readonly key: string; readonly seq: number };

// Keys around the reserved `palimpsest.*` ones in UTF-16 order, a prefix pair, and non-ASCII.
const arbKey = fc.constantFrom('a', 'label:x', 'label:x2', 'p', 'palimpsest-x', 'palimpsest/x', 'palimpsesu', 'q', 'z', 'Z', 'é', '\u{1F600}', 'label:b');
const arbChange: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: arbKey, value: arbJson }),
  fc.record({ op: fc.constant('remove' as const), key: arbKey }),
  fc.record({ op: fc.constant('label' as const), key: arbKey, seq: fc.integer({ min: 1, max: 3 }) }),
);

const applyChange = (s: Session, c: Change): Session => {
  switch (c.op) {
    case 'set':
      return right(s.setMetadata(c.key, c.value));
    case 'remove':
      return right(s.removeMetadata(c.key));
    case 'label': {
      const cmd = labelCommand(c.key, { sessionId: s.id, seq: c.seq, revision: s.transcriptRevision() }, c.seq === 2 ? 'e1' : undefined);
      return right(s.apply(cmd)).session;
    }
  }
};

describe('encodeSnapshot', () => {
  it('writes canonical JSON, forkedFrom and user metadata around the reserved keys included', () => {
    const base = right(Session.create({ id: 's', metadata: { z: 1, a: { y: [2, { b: 1, a: 0 }] }, q: 'x' } }).push(userText('hi')));
    const child = right(base.fork({ id: 'c' }).setMetadata('palimpsesu', true));
    for (const s of [base, child]) {
      const { value } = encodeSnapshot(s.state, emptyMemos);
      expect(value).toBe(canonicalJsonUnsafe(JSON.parse(value)));
      const parsed = JSON.parse(value) as { metadata: Record<string, unknown>; forkedFrom?: unknown; id: string };
      expect(parsed.id).toBe(s.id);
      for (const [k, v] of Object.entries(s.metadata)) expect(parsed.metadata[k]).toEqual(v);
      expect(Object.keys(parsed.metadata).filter((k) => k.startsWith('palimpsest.')).length).toBeGreaterThan(4);
      expect(parsed.forkedFrom !== undefined).toBe(s === child);
    }
  });

  it('with the memo of the snapshots before gives the bytes of one encoded from nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbChange, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), (rounds) => {
        let s = right(Session.create({ id: 's' }).push(userText('hi')));
        let memos: SnapshotMemos = emptyMemos;
        for (const changes of rounds) {
          for (const c of changes) s = applyChange(s, c);
          const threaded = encodeSnapshot(s.state, memos);
          const fresh = encodeSnapshot(s.state, emptyMemos);
          expect(threaded.value).toBe(fresh.value);
          expect(threaded.value).toBe(canonicalJsonUnsafe(JSON.parse(threaded.value)));
          // The memo holds a text for each user member there is, and no other.
          expect([...threaded.memos.metadata!.members.keys()].sort()).toEqual(Object.keys(s.metadata).sort());
          memos = threaded.memos;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a metadata value is frozen through and through once set, so the memo cannot go stale', () => {
    const value = { a: { b: [1, { c: 2 }] } };
    const s = right(Session.create({ id: 's' }).setMetadata('k', value));
    expect(s.metadata['k']).toBe(value);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.a)).toBe(true);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
    expect(() => {
      'use strict';
      (value.a.b[1] as { c: number }).c = 3;
    }).toThrow(TypeError);
  });
});
