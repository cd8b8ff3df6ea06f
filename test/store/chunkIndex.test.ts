/**
 * The chunk-id index of persisted lists (`src/store/chunkIndex.ts`, snapshot
 * format v2): the tree itself (built incrementally, read back, failing closed),
 * and, on both backends, lazy reads and `forkAt` through it compared with the
 * session replayed in memory, stores written before it (v1 snapshots), a
 * corrupt index node on read and in `verify`, and the user metadata list of
 * snapshot format v3 (chunked and indexed like the others).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe } from '../../src/model/json.ts';
import { sha256OfUtf8 } from '../../src/model/hashing.ts';
import { transcriptDigest, type Message } from '../../src/model/index.ts';
import { Session } from '../../src/session/session.ts';
import { INDEX_FANOUT, buildIndex, indexDepth, indexReader, makeIndexNode, type IndexMemo } from '../../src/store/chunkIndex.ts';
import { LazyReadFailure } from '../../src/transcript/lazy.ts';
import { copySessions, type SessionStore, type StoreTarget } from '../../src/store/index.ts';
import { backends, type Backend } from './backends.ts';
import { left, msg, right, snapshotKey } from './helpers.ts';
import { labelCommand } from '../../src/store/labels.ts';

afterAll(async () => {
  for (const b of backends) await b.cleanup();
});

const fakeIds = (n: number, salt = 'a'): string[] => Array.from({ length: n }, (_, i) => sha256OfUtf8(`${salt}${i}`));
const fail = (reason: string): LazyReadFailure => new LazyReadFailure({ _tag: 'CorruptRecord', sessionId: 't', seq: 1, reason, message: reason });
/** Nodes in an index of `full` chunks. */
const nodesIn = (full: number): number => {
  let total = 0;
  for (let level = 0; level < indexDepth(full); level++) total += Math.ceil(full / INDEX_FANOUT ** (level + 1));
  return total;
};
const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof LazyReadFailure) return e.error._tag === 'CorruptRecord' ? e.error.reason : e.error._tag;
    throw e;
  }
  return 'no failure';
};

describe('the index tree', () => {
  it('reads every chunk id back, for sizes around each level boundary', () => {
    for (const full of [1, 2, 31, 32, 33, 1023, 1024, 1025, 1100, 32 * 1024 + 1]) {
      const ids = fakeIds(full);
      const built = buildIndex(full, 0, (i) => ids[i]!, undefined);
      expect(built.nodes).toHaveLength(nodesIn(full));
      const stored = new Map(built.nodes.map((n) => [n.id, n.value]));
      const reader = indexReader(full, built.root, (id) => stored.get(id), fail);
      for (let i = 0; i < full; i++) expect(reader.chunkId(i)).toBe(ids[i]);
    }
  });

  it('growing a chunk at a time from the memo writes only the right spine and gives the root of a fresh build, also from a memo read back', () => {
    const ids = fakeIds(1100);
    const stored = new Map<string, string>();
    let memo: IndexMemo | undefined;
    for (let full = 1; full <= 1100; full++) {
      const built = buildIndex(full, full - 1, (i) => ids[i]!, memo);
      for (const n of built.nodes) stored.set(n.id, n.value);
      expect(built.nodes.length).toBeLessThanOrEqual(indexDepth(full));
      expect(built.root).toBe(buildIndex(full, 0, (i) => ids[i]!, undefined).root);
      // Every 97 steps, continue from the memo of the stored index (as after a cold load).
      memo = full % 97 === 0 ? indexReader(full, built.root, (id) => stored.get(id), fail).memo : built.memo;
    }
    // At most `depth` nodes a build (2 or 3 here): linear; a flat copy of the ids per build would be quadratic (605,550 ids here).
    expect(stored.size).toBeLessThanOrEqual(1024 * 2 + 76 * 3);
  });

  it('a rewrite from chunk r rebuilds from r and gives the root of a fresh build; a shrink too', () => {
    const ids = fakeIds(1100);
    const first = buildIndex(1100, 0, (i) => ids[i]!, undefined);
    const stored = new Map(first.nodes.map((n) => [n.id, n.value]));
    for (const [r, full] of [
      [1099, 1100],
      [700, 1100],
      [700, 1200],
      [40, 500],
      [0, 10],
    ] as const) {
      const changed = [...ids.slice(0, r), ...fakeIds(full - r, `b${r}`)];
      const fresh = buildIndex(full, 0, (i) => changed[i]!, undefined);
      expect(buildIndex(full, r, (i) => changed[i]!, first.memo).root).toBe(fresh.root);
      const lazy = indexReader(1100, first.root, (id) => stored.get(id), fail).memo;
      expect(buildIndex(full, r, (i) => changed[i]!, lazy).root).toBe(fresh.root);
    }
  });

  it('a node missing, altered, of another level or size fails through `fail`', () => {
    const ids = fakeIds(100);
    const built = buildIndex(100, 0, (i) => ids[i]!, undefined);
    const stored = new Map(built.nodes.map((n) => [n.id, n.value]));
    const read = (m: Map<string, string>) => indexReader(100, built.root, (id) => m.get(id), fail);
    expect(failure(() => read(new Map()).chunkId(0))).toContain('is missing');
    const altered = new Map(stored);
    altered.set(built.root, stored.get(built.root)!.replace('"level":1', '"level":2'));
    expect(failure(() => read(altered).chunkId(0))).toContain('does not hash to its id');
    // A well-formed node of the wrong level or size, named by its own hash.
    const leaf0 = JSON.parse(stored.get(built.root)!).ids[0] as string;
    for (const [bad, reason] of [
      [makeIndexNode(1, ids.slice(0, 32)), 'not an index node of level 0'],
      [makeIndexNode(0, ids.slice(0, 31)), 'holds 31 ids, 32 expected'],
    ] as const) {
      const root = makeIndexNode(1, [bad.id, ...(JSON.parse(stored.get(built.root)!).ids as string[]).slice(1)]);
      const m = new Map([...stored, [bad.id, bad.value], [root.id, root.value]]);
      expect(failure(() => indexReader(100, root.id, (id) => m.get(id), fail).chunkId(5))).toContain(reason);
    }
    expect(leaf0).toMatch(/^sha256:/);
  });
});

/** Messages in the long session: 36 full chunks (a two-level index), then a tail. */
const N = 9300;

/** `s`: genesis, 93 records of 100 messages (snapshots every 10 records), then 7 one-message records. */
const build = async (b: Backend): Promise<StoreTarget> => {
  const t = b.fresh();
  const store = await b.open(t, { snapshotEvery: 10 });
  right(await store.create({ id: 's' }));
  let seq = 1;
  for (let i = 0; i < N - 7; i += 100) {
    const messages = Array.from({ length: Math.min(100, N - 7 - i) }, (_, j) => msg(i + j));
    seq = right(await store.append('s', [{ type: 'messages_appended', messages }], { expectedSeq: seq })).session.seq;
  }
  for (let i = N - 7; i < N; i++) seq = right(await store.append('s', [{ type: 'messages_appended', messages: [msg(i)] }], { expectedSeq: seq })).session.seq;
  right(await store.close());
  return t;
};

/** The session replayed in memory from its whole log. */
const replayed = async (store: SessionStore, sid: string): Promise<Session> => right(Session.replay(right(await store.log(sid))));

/** Positions around chunk and leaf boundaries, the first and last chunk and the tail. */
const POSITIONS = [0, 1, 31, 32, 255, 256, 257, 511, 4000, 8191, 8192, 8193, 9215, 9216, 9217, N - 1];
const FORK_POINTS = [0, 1, 255, 256, 257, 4650, 8192, 9215, 9216, N - 1, N];

/** The snapshot the store loads `sid` from (its header's `snapshot`). */
const headSnapshot = async (b: Backend, t: StoreTarget, sid: string): Promise<{ seq: number; value: Record<string, any> }> => {
  const seq = JSON.parse((await b.get(t, `S/${sid}`))!).snapshot as number;
  return { seq, value: JSON.parse((await b.get(t, snapshotKey(sid, seq)))!) };
};

/** Rewrites every snapshot of `sid` as the code before the index wrote it: v1, no `index` in any list reference. */
const asV1 = async (b: Backend, t: StoreTarget): Promise<number> => {
  const keys = [...(await b.dump(t)).keys()].filter((k) => k.startsWith('N/'));
  for (const k of keys) {
    await b.tamper(t, k, (old) => {
      const s = JSON.parse(old);
      const history = s.metadata['palimpsest.transcriptHistory'];
      for (const ref of [s.transcript.messages, s.transcript.checkpoints, history.revisions, history.commits]) delete ref.index;
      // v1 holds the user metadata inline (these sessions have fewer than 256 members: all in the list's tail).
      for (const [k, v] of s.user.tail) s.metadata[k] = v;
      delete s.user;
      return canonicalJsonUnsafe({ ...s, v: 1 });
    });
  }
  return keys.length;
};

describe.each(backends)('the chunk-id index on $name', (b) => {
  it('snapshots are v3 and name an index root for every list with a full chunk', async () => {
    const t = await build(b);
    const { value } = await headSnapshot(b, t, 's');
    expect(value.v).toBe(3);
    expect(value.transcript.messages.index).toMatch(/^sha256:/);
    expect(value.transcript.checkpoints.index).toBeUndefined(); // 37 checkpoints: no full chunk
    const root = JSON.parse((await b.get(t, `C/${value.transcript.messages.index}`))!);
    expect(root).toMatchObject({ v: 1, level: 1 });
    expect(root.ids).toHaveLength(2); // 36 chunks: leaves of 32 and 4
  });

  it('lazy reads through the index equal the session replayed in memory, at chunk boundaries, the first and last chunk and the tail', async () => {
    const t = await build(b);
    const store = await b.open(t);
    try {
      const mem = await replayed(store, 's');
      for (const i of POSITIONS) {
        const cold = right(await store.load('s'));
        expect(cold.readMessage(i)).toEqual(E.right(mem.messages[i]));
        expect(cold.readMessages(Math.max(0, i - 2), i + 2)).toEqual(E.right(mem.messages.slice(Math.max(0, i - 2), i + 2)));
      }
      expect(right(await store.load('s')).readMessages()).toEqual(E.right(mem.messages));
    } finally {
      right(await store.close());
    }
  });

  it('forkAt through the index at k = 0, chunk boundaries, the middle and k = n equals the fork in memory; a fork of a fork too', async () => {
    const t = await build(b);
    let store = await b.open(t);
    const mem = await replayed(store, 's');
    for (const k of FORK_POINTS) {
      right(await store.close());
      store = await b.open(t); // each fork from a cold load
      const child = right(await store.forkAt('s', k, { id: `f${k}` }));
      const expected = mem.forkAt(k, { id: `f${k}` });
      expect(child.transcriptRevision()).toBe(expected.transcriptRevision());
      expect(child.transcriptRevision()).toBe(transcriptDigest(mem.messages.slice(0, k)));
    }
    right(await store.close());
    store = await b.open(t);
    for (const k of FORK_POINTS) expect(right(await store.load(`f${k}`)).readMessages()).toEqual(E.right(mem.messages.slice(0, k)));
    // A fork of a fork, from a cold load of the child, and a fork of that at a chunk boundary.
    const ff = right(await store.forkAt('f8192', 300, { id: 'ff' }));
    expect(ff.transcriptRevision()).toBe(transcriptDigest(mem.messages.slice(0, 300)));
    right(await store.append('ff', [{ type: 'messages_appended', messages: Array.from({ length: 500 }, (_, j) => msg(300 + j, `ff ${j}`)) }], { expectedSeq: 1 }));
    right(await store.close());
    store = await b.open(t, { snapshotEvery: 1 });
    right(await store.append('ff', [{ type: 'messages_appended', messages: [msg(800, 'ff 500')] }], { expectedSeq: 2 })); // a snapshot of the fork of a fork
    right(await store.close());
    store = await b.open(t);
    const fff = right(await store.forkAt('ff', 512, { id: 'fff' }));
    const ffMessages = [...mem.messages.slice(0, 300), ...Array.from({ length: 500 }, (_, j) => msg(300 + j, `ff ${j}`)), msg(800, 'ff 500')];
    expect(right(await store.load('ff')).readMessages()).toEqual(E.right(ffMessages));
    expect(fff.transcriptRevision()).toBe(transcriptDigest(ffMessages.slice(0, 512)));
    const reports = right(await store.verify());
    expect(reports.filter((r) => !r.ok)).toEqual([]);
    expect(reports).toHaveLength(1 + FORK_POINTS.length + 2);
    right(await store.close());
  });

  it('a store written before the index (v1 snapshots, no index root) loads, reads, forks, appends and verifies; its next snapshot is v3', async () => {
    const t = await build(b);
    expect(await asV1(b, t)).toBeGreaterThan(5);
    let store = await b.open(t, { snapshotEvery: 10 });
    try {
      expect(right(await store.verify('s'))[0]).toMatchObject({ ok: true });
      const mem = await replayed(store, 's');
      for (const i of POSITIONS) expect(right(await store.load('s')).readMessage(i)).toEqual(E.right(mem.messages[i]));
      for (const k of [0, 256, 4650, N]) expect(right(await store.forkAt('s', k, { id: `old${k}` })).transcriptRevision()).toBe(transcriptDigest(mem.messages.slice(0, k)));
      // Appending past the next snapshot point writes a v3 snapshot (the index is built once from the chain).
      const more: Message[] = Array.from({ length: 10 }, (_, j) => msg(N + j));
      const seq = right(await store.load('s')).seq;
      right(await store.append('s', more.map((m) => ({ type: 'messages_appended', messages: [m] })), { expectedSeq: seq }));
      right(await store.close());
      const { value } = await headSnapshot(b, t, 's');
      expect(value.v).toBe(3);
      store = await b.open(t);
      const cold = right(await store.load('s'));
      expect(cold.readMessage(300)).toEqual(E.right(mem.messages[300]));
      expect(right(await store.forkAt('s', 4650, { id: 'new4650' })).transcriptRevision()).toBe(transcriptDigest(mem.messages.slice(0, 4650)));
      const reports = right(await store.verify());
      expect(reports.filter((r) => !r.ok)).toEqual([]);
    } finally {
      right(await store.close());
    }
  });

  it('an altered index node fails closed on read (CorruptRecord naming the session and snapshot seq), on forkAt and in verify', async () => {
    const t = await build(b);
    const { seq, value } = await headSnapshot(b, t, 's');
    const root = value.transcript.messages.index as string;
    const leaf0 = JSON.parse((await b.get(t, `C/${root}`))!).ids[0] as string; // chunks 0..31
    await b.tamper(t, `C/${leaf0}`, (old) => old.replace('"level":0', '"level": 0'));
    const store = await b.open(t);
    try {
      const corrupt = { _tag: 'CorruptRecord', sessionId: 's', seq };
      const cold = right(await store.load('s'));
      // Chunk 33 (message 8500) is found through the intact last leaf (which every read through the index checks); chunk 0 through the altered one.
      expect(cold.readMessage(8500)).toEqual(E.right(msg(8500)));
      expect(cold.readMessage(10)).toEqual(E.left(expect.objectContaining(corrupt)));
      expect(right(await store.load('s')).readMessages()).toEqual(E.left(expect.objectContaining(corrupt)));
      const fork = await store.forkAt('s', 4500, { id: 'c' });
      expect(fork).toEqual(E.left(expect.objectContaining(corrupt)));
      expect(E.isLeft(fork) && fork.left._tag === 'CorruptRecord' ? fork.left.reason : '').toContain(`index node ${leaf0}`);
      const [report] = right(await store.verify('s'));
      expect(report!.ok).toBe(false);
      expect(report!.problems.map((p) => p.reason).join('\n')).toContain(leaf0);
    } finally {
      right(await store.close());
    }
  });

  it('a fork below an edited snapshot tail reads nothing edited; the parent is not cached, so a load and a fork into the tail still fail closed', async () => {
    const t = await build(b);
    const { seq, value } = await headSnapshot(b, t, 's');
    const tail = value.transcript.messages.tail as Array<{ content: Array<{ text: string }> }>;
    const edited = tail[tail.length - 1]!.content[0]!.text;
    await b.tamper(t, snapshotKey('s', seq), (old) => old.replace(`"${edited}"`, '"forged"'));
    const store = await b.open(t);
    try {
      const mem = await replayed(store, 's');
      const child = right(await store.forkAt('s', 9000, { id: 'below' }));
      expect(child.transcriptRevision()).toBe(transcriptDigest(mem.messages.slice(0, 9000)));
      const corrupt = { _tag: 'CorruptRecord', sessionId: 's', seq };
      expect(await store.load('s')).toEqual(E.left(expect.objectContaining(corrupt)));
      expect(await store.forkAt('s', 9290, { id: 'into' })).toEqual(E.left(expect.objectContaining(corrupt)));
      expect(await store.append('s', [{ type: 'messages_appended', messages: [msg(N)] }], { expectedSeq: 101 })).toEqual(E.left(expect.objectContaining(corrupt)));
    } finally {
      right(await store.close());
    }
  });

  it('copySessions brings every index node along: the copy reads, forks and verifies through the index', async () => {
    const t = await build(b);
    const dst = b.fresh();
    right(await copySessions(t, dst));
    const { value } = await headSnapshot(b, dst, 's');
    const root = JSON.parse((await b.get(dst, `C/${value.transcript.messages.index}`))!);
    for (const leaf of root.ids as string[]) expect(await b.get(dst, `C/${leaf}`)).toBeDefined();
    const store = await b.open(dst);
    try {
      const mem = await replayed(store, 's');
      expect(right(await store.load('s')).readMessage(8300)).toEqual(E.right(mem.messages[8300]));
      expect(right(await store.forkAt('s', 4650, { id: 'f' })).transcriptRevision()).toBe(transcriptDigest(mem.messages.slice(0, 4650)));
      expect(right(await store.verify()).filter((r) => !r.ok)).toEqual([]);
    } finally {
      right(await store.close());
    }
  });

  it('user metadata past 256 members (labels) is a chunked list in the snapshot: a cold load, a fork, a copy and verify read it; a missing chunk fails closed', async () => {
    const t = b.fresh();
    let store = await b.open(t, { snapshotEvery: 100 });
    right(await store.create({ id: 'u', metadata: { 'pi.cwd': '/w' } }));
    let seq = right(await store.append('u', [{ type: 'messages_appended', messages: [msg(0)] }], { expectedSeq: 1 })).session.seq;
    const revision = right(await store.load('u')).transcriptRevision();
    for (let i = 0; i < 700; i += 100) {
      const cmds = Array.from({ length: 100 }, (_, j) => labelCommand(`l${String(i + j).padStart(4, '0')}`, { sessionId: 'u', seq: 2, revision }));
      seq = right(await store.append('u', cmds, { expectedSeq: seq })).session.seq;
    }
    const expected = right(await store.load('u')).metadata;
    right(await store.close());
    const { seq: snapSeq, value } = await headSnapshot(b, t, 'u');
    expect(snapSeq).toBe(seq);
    expect(value.user).toMatchObject({ count: 701, index: expect.stringMatching(/^sha256:/) });
    expect(value.user.tail).toHaveLength(701 - 512);
    expect(Object.keys(value.metadata).every((k) => k.startsWith('palimpsest.'))).toBe(true);
    const dst = b.fresh();
    right(await copySessions(t, dst));
    store = await b.open(t);
    try {
      expect(right(await store.load('u')).metadata).toEqual(expected);
      expect(right(await store.forkAt('u', 1, { id: 'uf' })).metadata).toEqual(expected);
      expect(right(await store.verify()).filter((r) => !r.ok)).toEqual([]);
    } finally {
      right(await store.close());
    }
    const copied = await b.open(dst);
    try {
      expect(right(await copied.load('u')).metadata).toEqual(expected);
      expect(right(await copied.verify()).filter((r) => !r.ok)).toEqual([]);
    } finally {
      right(await copied.close());
    }
    // The first chunk of the list gone: the load and verify fail closed naming the snapshot.
    const first = JSON.parse((await b.get(t, `C/${value.user.last}`))!).prev as string;
    const firstOfAll = JSON.parse((await b.get(t, `C/${first}`))!).prev === undefined ? first : undefined;
    expect(firstOfAll).toBeDefined();
    await b.remove(t, `C/${firstOfAll}`);
    store = await b.open(t);
    try {
      expect(left(await store.load('u'))).toMatchObject({ _tag: 'CorruptRecord', sessionId: 'u', seq: snapSeq });
      expect(right(await store.verify('u'))[0]!.ok).toBe(false);
    } finally {
      right(await store.close());
    }
  });

  it('an index whose last id is not the list reference`s last chunk fails closed', async () => {
    const t = await build(b);
    const { seq, value } = await headSnapshot(b, t, 's');
    // A well-formed index of the same shape over other ids, named by the snapshot (which verify compares byte for byte).
    const ids = fakeIds(36, 'other');
    const other = buildIndex(36, 0, (i) => ids[i]!, undefined);
    const snap = snapshotKey('s', seq);
    await b.tamper(t, snap, (old) => old.replace(value.transcript.messages.index, other.root));
    for (const n of other.nodes) await b.put(t, `C/${n.id}`, n.value);
    const store = await b.open(t);
    try {
      const cold = right(await store.load('s'));
      const r = cold.readMessage(300);
      expect(r).toEqual(E.left(expect.objectContaining({ _tag: 'CorruptRecord', sessionId: 's', seq })));
      expect(E.isLeft(r) && r.left._tag === 'CorruptRecord' ? r.left.reason : '').toContain('as the last chunk');
      expect(right(await store.verify('s'))[0]!.ok).toBe(false);
    } finally {
      right(await store.close());
    }
  });
});
