/**
 * Snapshot encoding (src/store/snapshot.ts): the stored text is the canonical
 * JSON of the snapshot, whatever its metadata holds, and the memos a
 * session's snapshots thread through (`UserMetadataMemo` in format v3,
 * `MetadataMemo` in v2) never change a byte of it: a snapshot encoded with the
 * memo of the ones before equals one encoded from nothing. In v3 the user
 * metadata is a chunked list: a snapshot of a session with thousands of labels
 * stays small, decodes back to the same metadata, reuses the chunks below the
 * first change, and fails closed on a list out of order, a reserved key or a
 * missing chunk.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe, type Json } from '../../src/model/json.ts';
import { Session } from '../../src/session/session.ts';
import { SNAPSHOT_VERSION, decodeSnapshot, emptyMemos, encodeSnapshot, type SnapshotMemos, type SnapshotVersion } from '../../src/store/snapshot.ts';
import type { StoredChunk } from '../../src/store/chunks.ts';
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
      for (const version of [2, 3] as const) {
        const { value } = encodeSnapshot(s.state, emptyMemos, version);
        expect(value).toBe(canonicalJsonUnsafe(JSON.parse(value)));
        const parsed = JSON.parse(value) as { metadata: Record<string, unknown>; user?: { tail: [string, unknown][] }; forkedFrom?: unknown; id: string; v: number };
        expect(parsed.id).toBe(s.id);
        expect(parsed.v).toBe(version);
        // v2: user members flattened into `metadata`; v3: only reserved keys there, the user members in `user`, sorted by key.
        const user = version === 2 ? Object.entries(parsed.metadata).filter(([k]) => !k.startsWith('palimpsest.')) : parsed.user!.tail;
        expect(user).toEqual(Object.entries(s.metadata).sort(([a], [b]) => (a < b ? -1 : 1)));
        expect(parsed.user === undefined).toBe(version === 2);
        expect(Object.keys(parsed.metadata).filter((k) => k.startsWith('palimpsest.')).length).toBeGreaterThan(4);
        expect(parsed.forkedFrom !== undefined).toBe(s === child);
      }
    }
  });

  it.each([2, 3] as const)('v%i: with the memo of the snapshots before gives the bytes of one encoded from nothing', (version) => {
    fc.assert(
      fc.property(fc.array(fc.array(arbChange, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), (rounds) => {
        let s = right(Session.create({ id: 's' }).push(userText('hi')));
        let memos: SnapshotMemos = emptyMemos;
        for (const changes of rounds) {
          for (const c of changes) s = applyChange(s, c);
          const threaded = encodeSnapshot(s.state, memos, version);
          const fresh = encodeSnapshot(s.state, emptyMemos, version);
          expect(threaded.value).toBe(fresh.value);
          expect(threaded.value).toBe(canonicalJsonUnsafe(JSON.parse(threaded.value)));
          // The memo holds each user member there is, and no other.
          const memoKeys = version === 2 ? [...threaded.memos.metadata!.members.keys()].sort() : threaded.memos.user!.keys;
          expect(memoKeys).toEqual(Object.keys(s.metadata).sort());
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

/** `n` labels `label:l00000`… set in name order, on a session of one message. */
const labelled = (n: number): Session => {
  let s = right(Session.create({ id: 's', metadata: { 'pi.cwd': '/w' } }).push(userText('hi')));
  const cmds = Array.from({ length: n }, (_, i) => labelCommand(`l${String(i).padStart(5, '0')}`, { sessionId: 's', seq: 2, revision: s.transcriptRevision() }, `e${i}`));
  s = right(s.applyAll(cmds)).session;
  return s;
};

/** A chunk reader over the chunks written so far (what the store's `C/` keys would hold). */
const reader = (chunks: Map<string, string>) => (id: string) => chunks.get(id);
const keep = (into: Map<string, string>, chunks: readonly StoredChunk[]): Map<string, string> => {
  for (const c of chunks) into.set(c.id, c.value);
  return into;
};

const decoded = async (value: string, seq: number, chunks: Map<string, string>) => decodeSnapshot(value, 's', seq, reader(chunks));

describe('the user metadata list (snapshot format v3)', () => {
  it('is the format written; a snapshot of 3,000 labels holds fewer than 256 members inline, decodes to the same metadata and memo', async () => {
    expect(SNAPSHOT_VERSION).toBe(3);
    const s = labelled(3000);
    const enc = encodeSnapshot(s.state, emptyMemos);
    const parsed = JSON.parse(enc.value) as { user: { count: number; tail: unknown[]; last?: string; index?: string } };
    expect(parsed.user.count).toBe(3001);
    expect(parsed.user.tail).toHaveLength(3001 % 256);
    expect(parsed.user.index).toMatch(/^sha256:/);
    // The inline part no longer grows with the labels: a v2 snapshot of the same state holds them all.
    expect(enc.value.length * 10).toBeLessThan(encodeSnapshot(s.state, emptyMemos, 2).value.length);
    const d = right(await decoded(enc.value, s.seq, keep(new Map(), enc.chunks)));
    expect(d.state.metadata).toEqual(s.metadata);
    expect(Object.keys(d.state.metadata)).toHaveLength(3001);
    // The decoded memo gives the next snapshot the same bytes as a fresh encoding, reusing the chunks below the first change.
    const more = right(right(Session.fromState(d.state)).applyAll([labelCommand('l03000', { sessionId: 's', seq: 2, revision: s.transcriptRevision() }, 'e3000')])).session;
    const threaded = encodeSnapshot(more.state, d.memos);
    expect(threaded.value).toBe(encodeSnapshot(more.state, emptyMemos).value);
    const fresh = new Set(encodeSnapshot(more.state, emptyMemos).chunks.map((c) => c.id));
    expect(threaded.chunks.length).toBeLessThan(fresh.size);
    expect(threaded.chunks.every((c) => fresh.has(c.id))).toBe(true);
  });

  it('a snapshot after labels set in name order builds only the chunks from the first new member on', () => {
    const a = labelled(1000);
    const first = encodeSnapshot(a.state, emptyMemos);
    const b = right(a.applyAll(Array.from({ length: 10 }, (_, i) => labelCommand(`l${String(1000 + i).padStart(5, '0')}`, { sessionId: 's', seq: 2, revision: a.transcriptRevision() })))).session;
    const second = encodeSnapshot(b.state, first.memos);
    const userChunks = (enc: { chunks: readonly StoredChunk[] }) => enc.chunks.filter((c) => c.value.includes('"label:'));
    // 1,011 members: 3 full chunks, all built the first time; the second snapshot changes none of them (the new members are in the tail).
    expect(userChunks(first)).toHaveLength(3);
    expect(userChunks(second)).toHaveLength(0);
    // A change in the first chunk rebuilds every chunk above it (each names the one before).
    const c = right(b.setMetadata('a-first', 1));
    expect(userChunks(encodeSnapshot(c.state, second.memos))).toHaveLength(3);
  });

  it('a v2 snapshot (user metadata inline) still decodes to the same state', async () => {
    const s = labelled(600);
    const enc = encodeSnapshot(s.state, emptyMemos, 2 as SnapshotVersion);
    const d = right(await decoded(enc.value, s.seq, keep(new Map(), enc.chunks)));
    expect(d.state.metadata).toEqual(s.metadata);
  });

  it('fails closed: a missing chunk, members out of order or duplicated, a reserved key, a user key in metadata, a list in v2 or none in v3', async () => {
    const s = labelled(600);
    const enc = encodeSnapshot(s.state, emptyMemos);
    const chunks = keep(new Map(), enc.chunks);
    const edit = (f: (o: Record<string, any>) => void): string => {
      const o = JSON.parse(enc.value) as Record<string, any>;
      f(o);
      return canonicalJsonUnsafe(o);
    };
    const cases: [string, string, Map<string, string>, RegExp][] = [
      ['missing chunk', enc.value, new Map([...chunks].filter(([, v]) => !v.includes('"label:l00000"'))), /chunk .* is missing/],
      ['out of order', edit((o) => o.user.tail.reverse()), chunks, /not after member/],
      ['duplicate', edit((o) => (o.user.tail[1] = o.user.tail[0])), chunks, /not after member/],
      ['reserved key', edit((o) => o.user.tail.push(['palimpsest.x', 1]) && (o.user.count += 1)), chunks, /reserved key/],
      ['user key in metadata', edit((o) => (o.metadata['zz'] = 1)), chunks, /keeps in its user list/],
      ['a list in v2', edit((o) => (o.v = 2)), chunks, /a v2 snapshot has a user metadata list/],
      ['no list in v3', edit((o) => delete o.user), chunks, /a v3 snapshot has no user metadata list/],
    ];
    for (const [name, value, store, reason] of cases) {
      const d = await decoded(value, s.seq, store);
      expect(E.isLeft(d), name).toBe(true);
      if (E.isLeft(d)) {
        expect(d.left, name).toMatchObject({ _tag: 'CorruptRecord', sessionId: 's', seq: s.seq });
        expect(d.left.message, name).toMatch(reason);
      }
    }
  });
});
