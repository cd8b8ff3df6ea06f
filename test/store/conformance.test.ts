/**
 * The store conformance suite, run on both backends (LevelDB in a temp
 * directory, PostgreSQL in a fresh schema of the test server): tamper
 * detection on every kind of stored row, cold and lazy loads from snapshots
 * with full chunks, head anchors against a consistent truncation, and labels.
 * `store.test.ts` holds the rest of the suite (append, expectedSeq, forks,
 * snapshots, reads at a seq or revision, blobs, bad input, logStream).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { isLazyReadFailure } from '../../src/store/chunks.ts';
import { headerOf } from '../../src/store/io.ts';
import { deleteLabel, labelsOf, resolveLabel, setLabel } from '../../src/store/labels.ts';
import { storeKeys, type SessionStore, type StoreTarget } from '../../src/store/index.ts';
import { vecUnloadedLeaves } from '../../src/transcript/index.ts';
import { backends, type Backend } from './backends.ts';
import { appendCmd, appendMessages, left, msg, recordKey, right, snapshotKey } from './helpers.ts';

afterAll(async () => {
  for (const b of backends) await b.cleanup();
});

/** `s`: genesis + 600 one-message records in calls of 50 (snapshots every 100: full message chunks), then 5 more; returns the target. */
const build = async (b: Backend): Promise<StoreTarget> => {
  const t = b.fresh();
  const store = await b.open(t, { snapshotEvery: 100 });
  right(await store.create({ id: 's' }));
  await appendMessages(store, 's', 0, 600, 50);
  await appendMessages(store, 's', 600, 5);
  right(await store.close());
  return t;
};

/** What `load` shows, read in full (a lazy chunk failure as its error). */
const readAll = async (store: SessionStore, sid: string): Promise<E.Either<unknown, number>> => {
  const l = await store.load(sid);
  if (E.isLeft(l)) return l;
  try {
    return E.right(l.right.messages.length);
  } catch (e) {
    if (isLazyReadFailure(e)) return E.left(e.error);
    throw e;
  }
};

describe.each(backends)('conformance on $name', (b) => {
  it('a cold load reads the snapshot lazily, equals a full replay, and keeps appending and verifying', async () => {
    const t = await build(b);
    const store = await b.open(t, { snapshotEvery: 100 });
    try {
      const cold = right(await store.load('s'));
      expect(cold.seq).toBe(606);
      // Nothing of the full chunks is decoded until asked for.
      expect(vecUnloadedLeaves(cold.state.transcript.messages)).toBeGreaterThan(0);
      const replayed = right(Session.replay(right(await store.log('s'))));
      expect(cold.head).toBe(replayed.head);
      expect(cold.transcriptRevision()).toBe(replayed.transcriptRevision());
      expect(cold.messages).toEqual(replayed.messages);
      right(await store.append('s', [appendCmd(605)], { expectedSeq: 606 }));
      right(await store.forkAt('s', 10, { id: 'early' }));
      expect(right(await store.load('early')).messages).toEqual(replayed.messages.slice(0, 10));
      expect(right(await store.verify()).map((r) => [r.sessionId, r.ok])).toEqual([
        ['s', true],
        ['early', true],
      ]);
    } finally {
      right(await store.close());
    }
  });

  it.each([
    // A record below the newest snapshot is not read by a load (O(1) reads): verify finds it.
    { name: 'an old record body', key: recordKey('s', 300), edit: (v: string) => v.replace('message 298', 'message 2980'), seq: 300, load: false },
    { name: 'the last record', key: recordKey('s', 606), edit: (v: string) => v.replace('message 604', 'message 6040'), seq: 606, load: true },
    { name: 'the header seq', key: storeKeys.header('s'), edit: (v: string) => v.replace('"lastSeq":606', '"lastSeq":605'), seq: 0, load: true },
    { name: 'a snapshot field', key: snapshotKey('s', 601), edit: (v: string) => v.replace('"updatedAt":', '"updatedAt":1'), seq: 601, load: true },
  ])('$name edited: reported by verify (and a load fails closed: $load)', async ({ key, edit, seq, load }) => {
    const t = await build(b);
    await b.tamper(t, key, edit);
    const store = await b.open(t, { snapshotEvery: 100 });
    try {
      if (load) {
        expect(left(await readAll(store, 's'))).toMatchObject({ _tag: 'CorruptRecord', sessionId: 's' });
        expect(left(await store.append('s', [appendCmd(999)], { expectedSeq: 606 }))._tag).toBe('CorruptRecord');
      }
      const reports = right(await store.verify('s'));
      expect(reports[0]!.ok).toBe(false);
      expect(reports[0]!.problems.map((p) => p.seq)).toContain(seq);
    } finally {
      right(await store.close());
    }
  });

  it('an edited message chunk fails closed when read, naming the snapshot', async () => {
    const t = await build(b);
    const snap = JSON.parse((await b.get(t, snapshotKey('s', 601)))!) as { transcript: { messages: { last: string } } };
    const chunkKey = storeKeys.chunk(snap.transcript.messages.last);
    await b.tamper(t, chunkKey, (v) => v.replace('message 3', 'message 9'));
    const store = await b.open(t, { snapshotEvery: 100 });
    try {
      expect(left(await readAll(store, 's'))).toMatchObject({ _tag: 'CorruptRecord', sessionId: 's', seq: 601 });
      expect(right(await store.verify('s'))[0]!.ok).toBe(false);
    } finally {
      right(await store.close());
    }
  });

  it('a consistent truncation passes verify but not the anchor, which names the seq', async () => {
    const t = b.fresh();
    let store = await b.open(t);
    right(await store.create({ id: 'a' }));
    await appendMessages(store, 'a', 0, 9);
    const at7 = right(await store.load('a', { atSeq: 7 }));
    const anchor = right(await store.anchor());
    expect(anchor.heads.map((h) => [h.sessionId, h.seq])).toEqual([['a', 10]]);
    right(await store.close());
    for (let seq = 8; seq <= 10; seq++) await b.remove(t, recordKey('a', seq));
    for (const k of (await b.dump(t)).keys()) if (k.startsWith('V/a/') && Number(k.slice(k.lastIndexOf('/') + 1)) > 7) await b.remove(t, k);
    await b.tamper(t, storeKeys.header('a'), () => JSON.stringify(headerOf(at7.state, undefined)));
    store = await b.open(t);
    try {
      expect(right(await store.verify()).map((r) => [r.sessionId, r.ok, r.records])).toEqual([['a', true, 7]]);
      expect(right(await store.verifyAnchors([anchor]))).toMatchObject([{ sessionId: 'a', seq: 10, kind: 'missing_record' }]);
    } finally {
      right(await store.close());
    }
  });

  it('labels set, resolve, list and delete as recorded commands, and survive a reopen', async () => {
    const t = b.fresh();
    let store = await b.open(t);
    right(await store.create({ id: 's' }));
    await appendMessages(store, 's', 0, 6);
    const at3 = right(await store.load('s', { atSeq: 3 }));
    expect(right(await setLabel(store, 's', 'checkpoint', { seq: 3 })).target).toEqual({ sessionId: 's', seq: 3, revision: at3.transcriptRevision() });
    right(await setLabel(store, 's', 'head'));
    right(await store.close());
    store = await b.open(t);
    try {
      expect(right(await resolveLabel(store, 's', 'checkpoint')).seq).toBe(3);
      expect(labelsOf(right(await store.load('s')).metadata).map((l) => [l.name, l.seq])).toEqual([
        ['checkpoint', 3],
        ['head', 8],
      ]);
      right(await deleteLabel(store, 's', 'head'));
      expect(left(await resolveLabel(store, 's', 'head'))._tag).toBe('LabelNotFound');
      expect(right(await store.verify('s'))[0]!.ok).toBe(true);
      expect(msg(0).role).toBe('user');
    } finally {
      right(await store.close());
    }
  });
});
