/**
 * Cold loads read no message chunk (snapshot.ts, "Lazy lists"): the messages,
 * checkpoints and revisions of a loaded session are read from their chunks when
 * something first needs them. These tests check that a cold-loaded session with
 * full chunks appends, snapshots, rewrites, forks, exports and verifies exactly
 * like the eager session replayed from its log, without reading its prefix where
 * it does not need to, and that reading after close fails clearly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { exportPiSession } from '../../src/adapters/pi/store.ts';
import { transcriptDigest } from '../../src/model/index.ts';
import { vecToArray, vecUnloadedLeaves } from '../../src/transcript/index.ts';
import type { SessionStore } from '../../src/store/index.ts';
import { checkSessionInvariants } from '../../src/testing/index.ts';
import { appendCmd, cleanupDirs, dumpDb, msg, openStore, right, snapshotKey, tempDir, withRawDb } from './helpers.ts';

afterEach(cleanupDirs);

/** Appends messages `from..from+n-1` in calls of `perCall` records; returns the last seq. */
const fill = async (store: SessionStore, sid: string, from: number, n: number, perCall = 100): Promise<number> => {
  let seq = right(await store.load(sid)).seq;
  for (let i = from; i < from + n; i += perCall) {
    const cmds = Array.from({ length: Math.min(perCall, from + n - i) }, (_, j) => appendCmd(i + j));
    seq = right(await store.append(sid, cmds, { expectedSeq: seq })).session.seq;
  }
  return seq;
};

/** A closed store holding session `s`: genesis + 1,300 message records; snapshot at seq 1,001 (3 full message chunks), 300 records after it. */
const build = async (): Promise<string> => {
  const dir = tempDir('lazy');
  const store = await openStore(dir);
  right(await store.create({ id: 's' }));
  await fill(store, 's', 0, 1300);
  right(await store.close());
  return dir;
};

/** The session replayed eagerly from its whole log. */
const replayed = async (store: SessionStore, sid: string): Promise<Session> => right(Session.replay(right(await store.log(sid))));

const chunkKeys = async (dir: string): Promise<string[]> => [...(await dumpDb(dir)).keys()].filter((k) => k.startsWith('C/'));

describe('lazy cold loads', () => {
  it('a cold load reads no message chunk; the messages read later deep-equal a full replay', async () => {
    const dir = await build();
    const store = await openStore(dir);
    const loaded = right(await store.load('s'));
    const t = loaded.state.transcript;
    expect(loaded.messageCount).toBe(1300);
    expect(vecUnloadedLeaves(t.messages)).toBe(3 * 8);
    expect(vecUnloadedLeaves(loaded.state.revisions)).toBe(3 * 8);
    const eager = await replayed(store, 's');
    expect(loaded.transcriptRevision()).toBe(eager.transcriptRevision());
    expect(loaded.messages).toEqual(eager.messages);
    expect(vecUnloadedLeaves(t.messages)).toBe(0);
    expect(Object.isFrozen(loaded.messages[3]) && Object.isFrozen((loaded.messages[3] as { content: unknown }).content)).toBe(true);
    expect(vecToArray(loaded.state.revisions)).toEqual(vecToArray(eager.state.revisions));
    expect(vecToArray(t.checkpoints).map((c) => c.count)).toEqual(vecToArray(eager.state.transcript.checkpoints).map((c) => c.count));
    right(await store.close());
  });

  it('appends after a cold load never read the prefix, and the next snapshot reuses its chunks', async () => {
    const dir = await build();
    const before = await chunkKeys(dir);
    const store = await openStore(dir);
    // 800 more records in one call: crosses seq 2,000, so a snapshot is written (2,100 messages, 2,101 revisions).
    const r = right(await store.append('s', Array.from({ length: 800 }, (_, j) => appendCmd(1300 + j)), { expectedSeq: 1301 }));
    expect(r.session.seq).toBe(2101);
    expect(vecUnloadedLeaves(r.session.state.transcript.messages)).toBe(3 * 8);
    expect(vecUnloadedLeaves(r.session.state.revisions)).toBe(3 * 8);
    const eager = await replayed(store, 's');
    expect(r.session.transcriptRevision()).toBe(eager.transcriptRevision());
    right(await store.close());
    const after = await chunkKeys(dir);
    // messages chunks 3..7, revisions chunks 3..7, and each list's new index root (one node: 8 chunks < 32)
    expect(after.filter((k) => !before.includes(k))).toHaveLength(5 + 5 + 2);
    const again = await openStore(dir);
    const reloaded = right(await again.load('s'));
    expect(vecUnloadedLeaves(reloaded.state.transcript.messages)).toBe(8 * 8);
    expect(reloaded.messages).toEqual(eager.messages);
    expect(right(await again.verify('s'))[0]!.ok).toBe(true);
    right(await again.close());
  });

  it('a rewrite inside the lazy prefix, forkAt into it and an export match the eager session', async () => {
    const dir = await build();
    const warm = await openStore(dir);
    const exportedWarm = right(await exportPiSession(warm, 's'));
    right(await warm.close());

    const store = await openStore(dir);
    const eager = await replayed(store, 's');
    expect(right(await exportPiSession(store, 's'))).toBe(exportedWarm);

    // forkAt into the prefix (chunk 1), from the lazily loaded parent: the child shares the parent's lazy leaves.
    const child = right(await store.forkAt('s', 300, { id: 'c' }));
    expect(child.transcriptRevision()).toBe(transcriptDigest(eager.messages.slice(0, 300)));
    expect(vecUnloadedLeaves(child.state.transcript.messages)).toBe(8);

    // A rewrite of [300, 310) (chunk 1) through the store, and the same rewrite on the eager session.
    const replacement = [msg(300, 'summary q'), msg(301, 'summary a')];
    const cmd = { type: 'transcript_rewritten', selection: { type: 'message_range', start: 300, end: 310 }, replacement, reason: { kind: 'compaction' } };
    const rewritten = right(await store.append('s', [cmd], { expectedSeq: 1301 })).session;
    const expected = right(eager.commitTranscriptRewrite({ selection: { type: 'message_range', start: 300, end: 310 }, replacement, reason: { kind: 'compaction' } })).session;
    // The rewrite (and the fork before it) read from the checkpoint below index 300 to the end, never chunk 0.
    expect(vecUnloadedLeaves(rewritten.state.transcript.messages)).toBe(8);
    expect(rewritten.transcriptRevision()).toBe(expected.transcriptRevision());
    expect(rewritten.messages).toEqual(expected.messages);
    expect(right(await store.revisions('s')).commits).toHaveLength(1);
    expect(child.messages).toEqual(eager.messages.slice(0, 300));
    right(await store.close());

    const cold = await openStore(dir);
    expect(right(await cold.load('s')).messages).toEqual(expected.messages);
    expect(right(await cold.load('c')).messages).toEqual(eager.messages.slice(0, 300));
    expect(right(await cold.revisionMessages('s', eager.transcriptRevision()))).toEqual(eager.messages);
    const reports = right(await cold.verify());
    expect(reports.map((x) => [x.sessionId, x.ok])).toEqual([
      ['s', true],
      ['c', true],
    ]);
    right(await cold.close());
  });

  it('a full fork of a cold-loaded session shares its lazy prefix; a child loaded cold reads its parent lazily', async () => {
    const dir = await build();
    const store = await openStore(dir);
    const child = right(await store.fork('s', { id: 'f' }));
    expect(vecUnloadedLeaves(child.state.transcript.messages)).toBe(3 * 8);
    right(await store.append('f', [appendCmd(1300)], { expectedSeq: 1 }));
    right(await store.close());
    const again = await openStore(dir);
    const f = right(await again.load('f'));
    const eager = await replayed(again, 's');
    expect(f.messages).toEqual([...eager.messages, msg(1300)]);
    expect(right(await again.verify('f'))[0]!.ok).toBe(true);
    right(await again.close());
  });

  it('reading a lazily loaded session after its store closed is Left(StoreClosed) from every reader; what was read stays readable', async () => {
    const dir = await build();
    const store = await openStore(dir);
    const unread = right(await store.load('s'));
    const read = right(await store.load('s'));
    const messages = read.messages;
    right(await store.close());
    const closed = { _tag: 'StoreClosed', path: store.path };
    expect(unread.readMessages()).toEqual(E.left(expect.objectContaining(closed)));
    expect(unread.readMessage(3)).toEqual(E.left(expect.objectContaining(closed)));
    // verify() replays the in-memory tail from the snapshot state: it needs no chunk.
    expect(E.isRight(unread.verify())).toBe(true);
    expect(unread.readTranscriptRevisionMessages(read.transcriptRevision())).toEqual(E.left(expect.objectContaining(closed)));
    // The spec-typed getter can only throw it.
    expect(() => unread.messages).toThrow(expect.objectContaining(closed));
    expect(read.messages).toEqual(messages);
    expect(read.readMessages(1000, 1010)).toEqual(E.right(messages.slice(1000, 1010)));
    // The tail (messages after the last full chunk) is in memory: reading it needs no store.
    expect(unread.readMessages(1290)).toEqual(E.right(messages.slice(1290)));
    expect(unread.readMessage(1299)).toEqual(E.right(messages[1299]));
    // Appending in memory needs only the last message and the head accumulator.
    expect(right(unread.push(msg(1300))).messageCount).toBe(1301);
    // A rewrite inside the unread prefix needs a chunk: Left, nothing thrown.
    const edit = unread.commitTranscriptRewrite({ selection: { type: 'message_range', start: 10, end: 20 }, replacement: [msg(10, 'summary')], reason: { kind: 'compaction' } });
    expect(edit).toEqual(E.left(expect.objectContaining(closed)));
  });

  it('a chunk altered on disk after the load is Left(CorruptRecord) naming the snapshot, from readers, methods and checkSessionInvariants', async () => {
    const dir = await build();
    const store = await openStore(dir);
    const loaded = right(await store.load('s'));
    const eager = await replayed(store, 's');
    right(await store.close());
    const snapshotSeq = 1001;
    await withRawDb(dir, async (db) => {
      const snap = JSON.parse((await db.get(snapshotKey('s', snapshotSeq)))!);
      const key = `C/${snap.transcript.messages.last}`;
      await db.put(key, (await db.get(key))!.replace('message 700"', 'message X"'));
    });
    const reopened = await openStore(dir);
    const cold = right(await reopened.load('s'));
    const corrupt = { _tag: 'CorruptRecord', sessionId: 's', seq: snapshotSeq };
    expect(cold.readMessages()).toEqual(E.left(expect.objectContaining(corrupt)));
    expect(cold.readMessages(600, 700)).toEqual(E.left(expect.objectContaining(corrupt)));
    // Chunks are found through the snapshot's chunk-id index, so the intact chunks 0 and 1 stay readable.
    expect(cold.readMessages(0, 10)).toEqual(E.right(eager.messages.slice(0, 10)));
    // The tail after the last full chunk is in the snapshot itself.
    expect(cold.readMessages(768)).toEqual(E.right(eager.messages.slice(768)));
    const edit = cold.commitTranscriptRewrite({ selection: { type: 'message_range', start: 600, end: 610 }, replacement: [msg(600, 'summary')], reason: { kind: 'compaction' } });
    expect(edit).toEqual(E.left(expect.objectContaining(corrupt)));
    expect(right(await reopened.verify('s'))[0]!.ok).toBe(false);
    const report = checkSessionInvariants(cold);
    expect(report.ok ? [] : report.violations.map((v) => v.invariant)).toContain('messages_unreadable');
    // The same paths through the store are Left too; the loaded session from before the edit still reads its own copy.
    expect(E.isLeft(await reopened.forkAt('s', 650, { id: 'c' }))).toBe(true);
    expect(loaded.readMessages()).toEqual(E.left(expect.objectContaining({ _tag: 'StoreClosed' })));
    right(await reopened.close());
  });

  // Messages read from a chunk are not decoded again (the chunk's bytes must hash to its id, so
  // they are the bytes the writer decoded): an edit that would make a message undecodable changes
  // those bytes, and the id check refuses the chunk before anything reads the message.
  it.each([
    ['an unknown role', (v: string) => v.replace('"role":"user"', '"role":"intruder"')],
    ['a text that is a number', (v: string) => v.replace('"text":"message 700"', '"text":700')],
    ['a required member removed', (v: string) => v.replace(',"transcriptRole":"conversational"', '')],
    ['a message that is not an object', (v: string) => v.replace('{"content":[{"text":"message 700"', '7,{"content":[{"text":"message 700"')],
  ])('a chunk edited to hold %s is Left(CorruptRecord): its bytes no longer hash to its id', async (_what, edit) => {
    const dir = await build();
    const snapshotSeq = 1001;
    await withRawDb(dir, async (db) => {
      const snap = JSON.parse((await db.get(snapshotKey('s', snapshotSeq)))!);
      const key = `C/${snap.transcript.messages.last}`;
      const old = (await db.get(key))!;
      const edited = edit(old);
      expect(edited).not.toBe(old);
      await db.put(key, edited);
    });
    const store = await openStore(dir);
    const cold = right(await store.load('s'));
    const read = cold.readMessages(512, 768);
    expect(read).toEqual(E.left(expect.objectContaining({ _tag: 'CorruptRecord', sessionId: 's', seq: snapshotSeq })));
    expect(E.isLeft(read) ? read.left.message : '').toMatch(/does not hash to its id/);
    expect(cold.readMessages(0, 512)).toEqual(E.right((await replayed(store, 's')).messages.slice(0, 512)));
    right(await store.close());
  });
});

describe('lazy rewrite commits', () => {
  /** A closed store holding session `r`: 400 rounds of two messages appended then rewritten into one; snapshot at 1,000 (one full commit chunk). */
  const buildRewrites = async (): Promise<string> => {
    const dir = tempDir('lazy-commits');
    const store = await openStore(dir);
    let seq = right(await store.create({ id: 'r' })).seq;
    let n = 0;
    for (let i = 0; i < 400; i++) {
      seq = right(await store.append('r', [appendCmd(2 * i), appendCmd(2 * i + 1)], { expectedSeq: seq })).session.seq;
      const rewrite = { type: 'transcript_rewritten', selection: { type: 'message_range', start: n, end: n + 2 }, replacement: [msg(2 * i, `summary ${i}`)], reason: { kind: 'compaction' } };
      seq = right(await store.append('r', [rewrite], { expectedSeq: seq })).session.seq;
      n++;
    }
    right(await store.close());
    return dir;
  };

  it('a cold load reads no full chunk of rewrite commits; read later they equal a full replay; a corrupt one is Left when read', async () => {
    const dir = await buildRewrites();
    const store = await openStore(dir);
    const loaded = right(await store.load('r'));
    const eager = await replayed(store, 'r');
    expect(vecToArray(eager.state.commits)).toHaveLength(400);
    // The snapshot at seq 1,000 holds 333 commits: one full chunk (8 leaves of 32), unread, and the 77 after it inline.
    expect(vecUnloadedLeaves(loaded.state.commits)).toBe(8);
    expect(vecToArray(loaded.state.commits)).toEqual(vecToArray(eager.state.commits));
    expect(vecUnloadedLeaves(loaded.state.commits)).toBe(0);
    expect(right(await store.revisions('r')).commits.map((c) => c.commit)).toEqual(vecToArray(eager.state.commits));
    right(await store.close());

    const snapshotSeq = 1000;
    await withRawDb(dir, async (db) => {
      const snap = JSON.parse((await db.get(snapshotKey('r', snapshotSeq)))!);
      const key = `C/${snap.metadata['palimpsest.transcriptHistory'].commits.last}`;
      await db.put(key, (await db.get(key))!.replace('"compaction"', '"compactioX"'));
    });
    const reopened = await openStore(dir);
    // The load reads no commit chunk, so it succeeds; the first read of the altered chunk fails closed.
    const cold = right(await reopened.load('r'));
    expect(cold.messageCount).toBe(400);
    const corrupt = { _tag: 'CorruptRecord', sessionId: 'r', seq: snapshotSeq };
    expect(await reopened.revisions('r')).toEqual(E.left(expect.objectContaining(corrupt)));
    expect(right(await reopened.verify('r'))[0]!.ok).toBe(false);
    right(await reopened.close());
  });
});
