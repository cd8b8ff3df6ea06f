/**
 * SessionStore on both backends, real LevelDB and a real PostgreSQL server
 * (README §4, §5): persistence, optimistic concurrency, forks, snapshots, reads
 * at a seq or revision, blobs and typed errors for bad input (the conformance
 * suite, `describe.each(backends)`); LevelDB's locking, crashes and directory
 * checks.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { Level } from 'level';
import canonicalize from 'canonicalize';
import { compactionSummary, transcriptDigest, userText } from '../../src/model/index.ts';
import { Session } from '../../src/session/session.ts';
import { SessionStore } from '../../src/store/index.ts';
import { vecToArray } from '../../src/transcript/index.ts';
import { backends } from './backends.ts';
import { runChildLines } from '../support/childLines.ts';
import { appendCmd, appendMessages, cleanupDirs, dumpDb, left, msg, openStore, right, tempDir, withRawDb } from './helpers.ts';

afterEach(cleanupDirs);
afterAll(async () => {
  for (const b of backends) await b.cleanup();
});

const repo = nodePath.resolve(import.meta.dirname, '../..');

describe.each(backends)('store on $name', (b) => {
  describe('persistence', () => {
    it('reopening after close keeps sessions, logs, forks, revisions and blobs', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 5 });
      const a = right(await store.create({ id: 'a', metadata: { project: 'x' } }));
      expect(a.seq).toBe(1);
      const last = await appendMessages(store, 'a', 0, 12);
      const rewritten = right(
        await store.append('a', [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: 6 }, replacement: [{ ...compactionSummary('summary'), createdAt: 1 }], reason: { kind: 'compaction' } }], {
          expectedSeq: last,
        }),
      );
      const child = right(await store.forkAt('a', 3, { id: 'b' }));
      const blob = right(await store.putBlob('image/png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])));
      const before = rewritten.session;
      const logBefore = right(await store.log('a'));
      right(await store.close());

      const again = await b.open(dir, { snapshotEvery: 5 });
      const a2 = right(await again.load('a'));
      expect(a2.seq).toBe(before.seq);
      expect(a2.head).toBe(before.head);
      expect(a2.messages).toEqual(before.messages);
      expect(a2.metadata).toEqual({ project: 'x' });
      expect(a2.transcriptRevision()).toBe(before.transcriptRevision());
      expect(a2.transcriptHistory()).toEqual(before.transcriptHistory());
      expect(right(await again.log('a'))).toEqual(logBefore);
      const b2 = right(await again.load('b'));
      expect(b2.messages).toEqual(child.messages);
      expect(right(await again.children('a'))).toEqual([{ sessionId: 'b', seq: 14, hash: logBefore[13]!.hash, mode: 'at' }]);
      expect(right(await again.getBlob(blob)).bytes).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      const list = right(await again.list());
      expect(list.map((s) => [s.sessionId, s.lastSeq, s.messages])).toEqual([
        ['a', 14, 7],
        ['b', 1, 3],
      ]);
      // Appends continue the chain after a reopen.
      const next = right(await again.append('a', [appendCmd(99)], { expectedSeq: 14 }));
      expect(next.records[0]!.prev).toBe(before.head);
      const reports = right(await again.verify());
      expect(reports.every((r) => r.ok)).toBe(true);
      right(await again.close());
    });

    it('a loaded snapshot plus tail equals a full replay, and later appends keep verifying', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 4 });
      right(await store.create({ id: 's' }));
      await appendMessages(store, 's', 0, 600, 3); // crosses 256 and 512: full message chunks
      right(await store.close());
      const keys = [...(await b.dump(dir)).keys()];
      expect(keys.some((k) => k.startsWith('C/'))).toBe(true);
      expect(keys.some((k) => k.startsWith('N/s/'))).toBe(true);

      const again = await b.open(dir, { snapshotEvery: 4 });
      const loaded = right(await again.load('s'));
      const records = right(await again.log('s'));
      const replayed = right(Session.replay(records));
      expect(loaded.seq).toBe(replayed.seq);
      expect(loaded.head).toBe(replayed.head);
      expect(loaded.messages).toEqual(replayed.messages);
      expect(vecToArray(loaded.state.revisions)).toEqual(vecToArray(replayed.state.revisions));
      expect(loaded.transcriptRevision()).toBe(transcriptDigest(replayed.messages));
      expect(right(await again.load('s', { atSeq: 77 })).messages).toEqual(right(Session.replay(records.slice(0, 77))).messages);
      await appendMessages(again, 's', 600, 10);
      expect(right(await again.verify('s'))[0]!.ok).toBe(true);
      right(await again.close());
    });

    it('inert commands record nothing; a refused command writes nothing and returns the session error', async () => {
      const dir = b.fresh();
      const store = await b.open(dir);
      right(await store.create({ id: 's' }));
      const set = right(await store.append('s', [{ type: 'metadata_set', key: 'k', value: 1 }], { expectedSeq: 1 }));
      expect(set.records).toHaveLength(1);
      const inert = right(await store.append('s', [{ type: 'metadata_set', key: 'k', value: 1 }, { type: 'metadata_removed', key: 'absent' }], { expectedSeq: 2 }));
      expect(inert.records).toHaveLength(0);
      expect(inert.session.seq).toBe(2);
      const refused = left(await store.append('s', [appendCmd(0), { type: 'metadata_set', key: 'palimpsest.lifecycle', value: 1 }], { expectedSeq: 2 }));
      expect(refused).toMatchObject({ _tag: 'ReservedMetadataKey', key: 'palimpsest.lifecycle' });
      const invalid = left(await store.append('s', [{ type: 'no_such_command' }], { expectedSeq: 2 }));
      expect(invalid._tag).toBe('InvalidCommand');
      expect(right(await store.log('s'))).toHaveLength(2);
      expect(left(await store.create({ id: 'r', metadata: { 'Palimpsest.x': 1 } }))._tag).toBe('ReservedMetadataKey');
      expect(left(await store.load('r'))._tag).toBe('SessionNotFound');
      right(await store.close());
    });

    it('archive freezes a session; archiving again is inert; a fork of an archived session is active', async () => {
      const dir = b.fresh();
      const store = await b.open(dir);
      right(await store.create({ id: 's' }));
      await appendMessages(store, 's', 0, 2);
      const archived = right(await store.archive('s', 'retention'));
      expect(archived.result).toBe('archived');
      expect(archived.session.lifecycle).toMatchObject({ status: 'archived', reason: 'retention' });
      const again = right(await store.archive('s'));
      expect(again.result).toBe('already_archived');
      expect(left(await store.append('s', [appendCmd(5)], { expectedSeq: 4 }))._tag).toBe('SessionArchived');
      expect(right(await store.log('s'))).toHaveLength(4);
      const child = right(await store.fork('s', { id: 'c' }));
      expect(child.lifecycle).toEqual({ status: 'active' });
      right(await store.append('c', [appendCmd(2)], { expectedSeq: 1 }));
      expect(right(await store.list()).map((x) => [x.sessionId, x.status])).toEqual([
        ['c', 'active'],
        ['s', 'archived'],
      ]);
      right(await store.close());
    });
  });

  describe('optimistic concurrency', () => {
    it('of two appends with the same expectedSeq exactly one wins; the other gets SeqConflict and writes nothing', async () => {
      const dir = b.fresh();
      const store = await b.open(dir);
      right(await store.create({ id: 's' }));
      const [r1, r2] = await Promise.all([store.append('s', [appendCmd(0, 'first')], { expectedSeq: 1 }), store.append('s', [appendCmd(1, 'second')], { expectedSeq: 1 })]);
      const results = [r1, r2];
      expect(results.filter(E.isRight)).toHaveLength(1);
      const conflict = left(results.find(E.isLeft)!);
      expect(conflict).toMatchObject({ _tag: 'SeqConflict', sessionId: 's', expected: 1, actual: 2 });
      expect(right(await store.log('s'))).toHaveLength(2);
      right(await store.close());
    });

    it('N concurrent appenders with retry all land, no update lost', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 3 });
      right(await store.create({ id: 's' }));
      const N = 12;
      let conflicts = 0;
      const worker = async (i: number): Promise<void> => {
        for (;;) {
          const seq = right(await store.load('s')).seq;
          const r = await store.append('s', [appendCmd(i, `worker ${i}`)], { expectedSeq: seq });
          if (E.isRight(r)) return;
          expect(r.left._tag).toBe('SeqConflict');
          conflicts++;
        }
      };
      await Promise.all(Array.from({ length: N }, (_, i) => worker(i)));
      const log = right(await store.log('s'));
      expect(log).toHaveLength(N + 1);
      const texts = right(await store.load('s')).messages.map((m) => (m.role === 'user' || m.role === 'assistant' ? JSON.stringify(m.content) : ''));
      for (let i = 0; i < N; i++) expect(texts.some((t) => t.includes(`worker ${i}"`))).toBe(true);
      expect(conflicts).toBeGreaterThan(0);
      expect(right(await store.verify('s'))[0]!.ok).toBe(true);
      right(await store.close());
    });
  });

  describe('verify', () => {
    it('is clean while appends run concurrently, and reports progress', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 5 });
      right(await store.create({ id: 'a' }));
      right(await store.create({ id: 'b' }));
      await appendMessages(store, 'a', 0, 40);
      right(await store.fork('a', { id: 'c' }));
      const writer = (async () => {
        for (let i = 0; i < 60; i++) {
          const sid = i % 2 === 0 ? 'a' : 'b';
          const seq = right(await store.load(sid)).seq;
          right(await store.append(sid, [appendCmd(100 + i)], { expectedSeq: seq }));
        }
      })();
      const progress: Array<{ sessionsDone: number; records: number }> = [];
      const runs = await Promise.all([store.verify(undefined, { onProgress: (p) => progress.push(p) }), store.verify(), writer]);
      for (const r of [runs[0], runs[1]]) expect(right(r).map((x) => [x.sessionId, x.problems])).toEqual([
        ['a', []],
        ['b', []],
        ['c', []],
      ]);
      expect(progress[progress.length - 1]).toMatchObject({ sessionsDone: 3, sessionsTotal: 3 });
      expect(right(await store.verify('c'))[0]).toMatchObject({ sessionId: 'c', ok: true, records: 1 });
      right(await store.close());
    });
  });

  describe('forks', () => {
    it('a fork writes exactly one record plus header, index and link, whatever the parent length', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 50 });
      right(await store.create({ id: 'short' }));
      await appendMessages(store, 'short', 0, 10);
      right(await store.create({ id: 'long' }));
      await appendMessages(store, 'long', 0, 700, 7);
      right(await store.close());
      const written: Array<Map<string, string>> = [];
      for (const parent of ['short', 'long']) {
        const before = await b.dump(dir);
        const s = await b.open(dir, { snapshotEvery: 50 });
        const child = right(await s.fork(parent, { id: `fork-of-${parent}` }));
        expect(child.log).toHaveLength(1);
        right(await s.close());
        const after = await b.dump(dir);
        const added = new Map([...after].filter(([k, v]) => before.get(k) !== v));
        written.push(added);
        expect([...added.keys()].map((k) => k.split('/')[0]).sort()).toEqual(['K', 'R', 'S', 'V']);
      }
      const size = (m: Map<string, string>) => [...m].reduce((n, [k, v]) => n + k.length + v.length, 0);
      const [sa, sb] = written.map(size) as [number, number];
      expect(Math.abs(sa - sb)).toBeLessThan(40); // ids and seq digits differ, nothing else
    });

    it('later parent appends never show in the child; the child reloads cold from the parent at its fork point', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 6 });
      right(await store.create({ id: 'p', metadata: { m: 1 } }));
      await appendMessages(store, 'p', 0, 9);
      const staged = right(await store.append('p', [{ type: 'tool_results_staged', results: [{ toolUseId: 't1', content: [{ type: 'text', text: 'r' }], isError: false }] }], { expectedSeq: 10 }));
      expect(staged.session.deferredTurn.toolResults).toHaveLength(1);
      const parentAt = right(await store.load('p'));
      const child = right(await store.fork('p', { id: 'c' }));
      expect(child.messages).toEqual(parentAt.messages);
      expect(child.metadata).toEqual({ m: 1 });
      expect(child.deferredTurn).toEqual({ phase: 'inactive', toolResults: [] });
      await appendMessages(store, 'p', 9, 8);
      right(await store.append('c', [appendCmd(100, 'child only')], { expectedSeq: 1 }));
      right(await store.close());

      const again = await b.open(dir, { snapshotEvery: 6 });
      const c = right(await again.load('c'));
      expect(c.messages).toEqual([...parentAt.messages, msg(100, 'child only')]);
      const p = right(await again.load('p'));
      expect(p.messages.length).toBe(parentAt.messages.length + 8);
      expect(p.messages.some((m) => JSON.stringify(m).includes('child only'))).toBe(false);
      const old = right(await again.fork('p', { id: 'old', atSeq: 5 }));
      expect(old.messages).toEqual(right(await again.load('p', { atSeq: 5 })).messages);
      const replaced = right(await again.forkReplacing('p', 1, { type: 'message', message: msg(1, 'edited') }, { id: 'edit' }));
      expect(replaced.messages.map((m) => JSON.stringify(m).includes('edited'))).toEqual([false, true]);
      expect(left(await again.forkReplacing('p', 99, { type: 'message', message: msg(1) }))).toMatchObject({ _tag: 'MessageIndexOutOfBounds' });
      expect(left(await again.fork('p', { id: 'c' }))).toMatchObject({ _tag: 'SessionExists', sessionId: 'c' });
      expect(right(await again.verify()).map((r) => [r.sessionId, r.ok])).toEqual([
        ['p', true],
        ['c', true],
        ['edit', true],
        ['old', true],
      ]);
      right(await again.close());
    });

    it('fork snapshots share the parent chunks (copy-on-write on disk too)', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 100 });
      right(await store.create({ id: 'p' }));
      await appendMessages(store, 'p', 0, 600, 20); // snapshots at 101..601: message chunks 0 and 1
      right(await store.close());
      const chunksOf = async () => [...(await b.dump(dir)).keys()].filter((k) => k.startsWith('C/')).sort();
      const parentChunks = await chunksOf();
      expect(parentChunks.length).toBeGreaterThan(0);

      const s = await b.open(dir, { snapshotEvery: 100 });
      right(await s.fork('p', { id: 'full' }));
      right(await s.forkAt('p', 300, { id: 'half' }));
      for (const id of ['full', 'half']) {
        for (let i = 0; i < 100; i += 20) {
          const seq = right(await s.load(id)).seq;
          right(await s.append(id, Array.from({ length: 20 }, (_, j) => ({ type: 'usage_recorded', usage: { inputTokens: i + j + 1, outputTokens: 1 } })), { expectedSeq: seq }));
        }
      }
      right(await s.close());
      // Neither child wrote a message chunk: both reuse the parent's (the revision and commit lists are short).
      expect(await chunksOf()).toEqual(parentChunks);
      const cold = await b.open(dir);
      expect(right(await cold.load('half')).messages).toEqual(right(await cold.load('p')).messages.slice(0, 300));
      expect(right(await cold.verify()).every((r) => r.ok)).toBe(true);
      right(await cold.close());
    });

    it('lineage walks fork links back to the root; children lists direct forks', async () => {
      const dir = b.fresh();
      const store = await b.open(dir);
      right(await store.create({ id: 'root' }));
      await appendMessages(store, 'root', 0, 4);
      const forkB = right(await store.forkAt('root', 2, { id: 'b' }));
      right(await store.append('b', [appendCmd(2)], { expectedSeq: 1 }));
      const c = right(await store.fork('b', { id: 'c' }));
      const lineage = right(await store.lineage('c'));
      expect(lineage.map((l) => [l.sessionId, l.mode])).toEqual([
        ['c', 'full'],
        ['b', 'at'],
        ['root', 'root'],
      ]);
      expect(lineage[0]!.forkedAt).toEqual({ sessionId: 'b', seq: 2, hash: right(await store.log('b'))[1]!.hash });
      expect(lineage[1]!.forkedAt).toEqual({ sessionId: 'root', seq: 5, hash: right(await store.log('root'))[4]!.hash });
      expect(c.log[0]!.prev).toBe(lineage[0]!.forkedAt!.hash);
      expect(forkB.messages).toHaveLength(2);
      expect(right(await store.children('root')).map((x) => x.sessionId)).toEqual(['b']);
      expect(right(await store.children('c'))).toEqual([]);
      right(await store.close());
    });
  });

  describe('reads at a seq or revision', () => {
    it('load atSeq / atRevision, revisions() and revisionMessages()', async () => {
      const dir = b.fresh();
      const store = await b.open(dir, { snapshotEvery: 3 });
      right(await store.create({ id: 's' }));
      await appendMessages(store, 's', 0, 6); // seq 7
      const beforeRewrite = right(await store.load('s'));
      const rw = right(
        await store.append('s', [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: 4 }, replacement: [{ ...compactionSummary('sum'), createdAt: 9 }], reason: { kind: 'compaction', note: 'tokensBefore 10' } }], {
          expectedSeq: 7,
        }),
      );
      await appendMessages(store, 's', 6, 2); // seq 10
      // A rewrite back to the pre-rewrite transcript reuses that revision.
      const cur = right(await store.load('s'));
      right(
        await store.append('s', [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: cur.messageCount }, replacement: [...beforeRewrite.messages], reason: { kind: 'restore' } }], {
          expectedSeq: 10,
        }),
      );
      const at4 = right(await store.load('s', { atSeq: 4 }));
      expect(at4.seq).toBe(4);
      expect(at4.messages).toHaveLength(3);
      const atRev = right(await store.load('s', { atRevision: beforeRewrite.transcriptRevision() }));
      expect(atRev.seq).toBe(7);
      expect(atRev.messages).toEqual(beforeRewrite.messages);
      expect(right(await store.revisionMessages('s', beforeRewrite.transcriptRevision()))).toEqual(beforeRewrite.messages);
      expect(right(await store.revisionMessages('s', rw.session.transcriptRevision()))).toEqual(rw.session.messages);

      const graph = right(await store.revisions('s'));
      expect(graph.head).toBe(beforeRewrite.transcriptRevision());
      expect(graph.heads.map((h) => h.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(graph.revisions).toHaveLength(10); // seq 11 restores the revision of seq 7
      expect(graph.commits.map((c) => c.seq)).toEqual([8, 11]);
      expect(graph.commits[0]!.commit.reason).toEqual({ kind: 'compaction', note: 'tokensBefore 10' });
      expect(right(await store.verify('s'))[0]!.ok).toBe(true);
      right(await store.close());
    });
  });

  describe('blobs', () => {
    it('stores under the model.md §7.2 id and verifies on read', async () => {
      const dir = b.fresh();
      const store = await b.open(dir);
      const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const id = right(await store.putBlob('image/png', bytes));
      expect(id).toBe('sha256:fb1e3bc6dbb29cf9dff812505b0d6a5ef6ab17e0cd1daa08743b9455f65e1734');
      expect(right(await store.putBlob('image/png', bytes))).toBe(id);
      expect(right(await store.getBlob(id))).toEqual({ mediaType: 'image/png', bytes });
      expect(left(await store.putBlob('Image/PNG; x=1', bytes))._tag).toBe('InvalidArgument');
      const missing = `sha256:${'1'.repeat(64)}`;
      expect(left(await store.getBlob(missing))).toMatchObject({ _tag: 'BlobNotFound', blobId: missing });
      right(await store.close());
      await b.tamperBlob(dir, id, (bad) => {
        bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
        return bad;
      });
      const again = await b.open(dir);
      expect(left(await again.getBlob(id))).toMatchObject({ _tag: 'CorruptBlob', blobId: id });
      right(await again.close());
    });
  });

  describe('bad input gives typed errors and changes nothing', () => {
    it('unknown ids, invalid ids, out-of-range seqs, bad arguments', async () => {
      const dir = b.fresh();
      const store = await b.open(dir);
      right(await store.create({ id: 's' }));
      await appendMessages(store, 's', 0, 3);
      right(await store.close());
      const before = await b.dump(dir);

      const s = await b.open(dir);
      for (const r of [
        await s.load('nope'),
        await s.append('nope', [appendCmd(0)], { expectedSeq: 1 }),
        await s.log('nope'),
        await s.fork('nope'),
        await s.forkAt('nope', 1),
        await s.revisions('nope'),
        await s.lineage('nope'),
        await s.children('nope'),
        await s.archive('nope'),
        await s.revisionMessages('nope', transcriptDigest([])),
      ]) {
        expect(left(r)).toMatchObject({ _tag: 'SessionNotFound', sessionId: 'nope' });
      }
      for (const id of ['', 'a/b', 'tab\there', 'x'.repeat(201)]) {
        expect(left(await s.create({ id }))._tag).toBe('InvalidSessionId');
        expect(left(await s.load(id))._tag).toBe('InvalidSessionId');
      }
      expect(left(await s.create({ id: 's' }))).toMatchObject({ _tag: 'SessionExists', sessionId: 's' });
      expect(left(await s.load('s', { atSeq: 0 }))).toMatchObject({ _tag: 'SeqOutOfRange', seq: 0, lastSeq: 4 });
      expect(left(await s.load('s', { atSeq: 5 }))).toMatchObject({ _tag: 'SeqOutOfRange', seq: 5, lastSeq: 4 });
      expect(left(await s.log('s', { fromSeq: 3, toSeq: 9 }))).toMatchObject({ _tag: 'SeqOutOfRange', seq: 9 });
      expect(left(await s.fork('s', { atSeq: 10 }))._tag).toBe('SeqOutOfRange');
      expect(left(await s.load('s', { atRevision: transcriptDigest([userText('never')]) }))._tag).toBe('RevisionNotFound');
      expect(left(await s.load('s', { atRevision: 'not a digest' }))._tag).toBe('InvalidArgument');
      expect(left(await s.append('s', [appendCmd(9)], { expectedSeq: 7 }))).toMatchObject({ _tag: 'SeqConflict', expected: 7, actual: 4 });
      expect(left(await s.append('s', [appendCmd(9)], { expectedSeq: -1 }))._tag).toBe('InvalidArgument');
      expect(left(await s.forkAt('s', Number.NaN))._tag).toBe('InvalidArgument');
      right(await s.close());
      expect(left(await s.load('s'))._tag).toBe('StoreClosed');
      expect(await b.dump(dir)).toEqual(before);
    });

  });

  describe('logStream', () => {
    it('streams the same records as log, and a range of them', async () => {
      const dir = b.fresh();
      const store = await b.open(dir);
      right(await store.create({ id: 's' }));
      await appendMessages(store, 's', 0, 1200, 10);
      const all = right(await store.log('s'));
      const streamed = [];
      for await (const r of store.logStream('s')) streamed.push(right(r));
      expect(streamed).toEqual(all);
      const part = [];
      for await (const r of store.logStream('s', { fromSeq: 40, toSeq: 60 })) part.push(right(r));
      expect(part).toEqual(all.slice(39, 60));
      const bad = [];
      for await (const r of store.logStream('s', { fromSeq: 5000 })) bad.push(r);
      expect(bad.map((r) => E.isLeft(r) && r.left._tag)).toEqual(['SeqOutOfRange']);
      right(await store.close());
    });
  });
});

const fixture = (script: string): string => nodePath.join(import.meta.dirname, 'fixtures', script);

/** Everything a fixture script prints on stdout (it must print something). */
const runChild = async (script: string, args: readonly string[]): Promise<string> => {
  const lines: string[] = [];
  const exit = await runChildLines(fixture(script), args, { cwd: repo, onLine: (line) => lines.push(line) });
  if (lines.length === 0) throw new Error(`child printed nothing; stderr: ${exit.stderr}`);
  return lines.join('\n');
};

describe('locking and crashes', () => {
  it('a second process gets StoreLocked naming the path, without a stack trace', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    const line = (await runChild('lock-child.ts', [dir])).trim().split('\n')[0]!;
    const printed = JSON.parse(line) as { tag: string; message: string };
    expect(printed.tag).toBe('StoreLocked');
    expect(printed.message).toContain(dir);
    expect(printed.message).not.toMatch(/\n\s+at /);
    right(await store.close());
    // Once released, the directory opens again.
    expect(JSON.parse((await runChild('lock-child.ts', [dir])).trim()).tag).toBe('Opened');
  });

  it('a second open in the same process is StoreLocked too', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    expect(left(await SessionStore.open(dir))).toMatchObject({ _tag: 'StoreLocked', path: dir });
    right(await store.close());
  });

  it('`sync: true` passes sync to every LevelDB batch; the default passes no batch options (abstract-level copies them into every operation)', async () => {
    const seen: unknown[] = [];
    const proto = Object.getPrototypeOf(Level.prototype) as { batch: (...args: unknown[]) => unknown };
    const original = proto.batch;
    proto.batch = function (this: unknown, ...args: unknown[]) {
      if (Array.isArray(args[0])) seen.push(args[1]);
      return original.apply(this, args);
    };
    try {
      for (const sync of [true, false]) {
        const dir = tempDir();
        const store = await openStore(dir, { sync });
        right(await store.create({ id: 's' }));
        await appendMessages(store, 's', 0, 3);
        right(await store.close());
        const again = await openStore(dir, { sync });
        const s = right(await again.load('s'));
        expect(s.messages).toEqual([0, 1, 2].map((i) => msg(i)));
        right(await again.close());
      }
    } finally {
      proto.batch = original;
    }
    // open (format key), create, three appends: five batches per store.
    expect(seen).toEqual([...Array.from({ length: 5 }, () => ({ sync: true })), ...Array.from({ length: 5 }, () => undefined)]);
  });

  it('SIGKILL during an append loop leaves a clean store holding every acknowledged append', async () => {
    const dir = tempDir();
    const acked: number[] = [];
    const errors: string[] = [];
    const exit = await runChildLines(fixture('append-child.ts'), [dir], {
      cwd: repo,
      onLine: (line, child) => {
        if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
        if (line.startsWith('error')) errors.push(line);
        if (acked.length >= 120) child.kill('SIGKILL');
      },
    });
    expect(errors).toEqual([]);
    expect(exit.signal).toBe('SIGKILL');
    expect(acked.length).toBeGreaterThanOrEqual(120);
    const store = await openStore(dir, { snapshotEvery: 7 });
    const reports = right(await store.verify());
    expect(reports).toHaveLength(1);
    expect(reports[0]!.problems).toEqual([]);
    const log = right(await store.log('crash'));
    const maxAcked = Math.max(...acked);
    expect(log.length).toBeGreaterThanOrEqual(maxAcked);
    for (const seq of acked) expect(log[seq - 1]!.seq).toBe(seq);
    const loaded = right(await store.load('crash'));
    expect(loaded.seq).toBe(log.length);
    right(await store.append('crash', [appendCmd(10_000)], { expectedSeq: loaded.seq }));
    right(await store.close());
  }, 60_000);
});

describe('stored record text', () => {
  it('records are stored as their canonical JSON, hash included; records stored in JSON.stringify order (before) still load, log and verify', async () => {
    const dir = tempDir();
    const store = await openStore(dir, { snapshotEvery: 4 });
    right(await store.create({ id: 's', metadata: { project: 'x' } }));
    await appendMessages(store, 's', 0, 6);
    right(await store.fork('s', { id: 'f' }));
    const logBefore = right(await store.log('s'));
    right(await store.close());
    const stored = [...(await dumpDb(dir)).entries()].filter(([k]) => k.startsWith('R/'));
    expect(stored).toHaveLength(logBefore.length + 1);
    for (const [k, v] of stored) expect(v, k).toBe(canonicalize(JSON.parse(v)));
    // Rewrite every record of s the way JSON.stringify ordered them before (version, session, seq first).
    await withRawDb(dir, async (db) => {
      for (const [k, v] of stored) {
        if (!k.startsWith('R/s/')) continue;
        const r = JSON.parse(v) as Record<string, unknown>;
        const old = JSON.stringify({ v: r.v, sessionId: r.sessionId, seq: r.seq, at: r.at, command: r.command, revision: r.revision, state: r.state, prev: r.prev, hash: r.hash });
        expect(old).not.toBe(v);
        await db.put(k, old);
      }
    });
    const again = await openStore(dir, { snapshotEvery: 4 });
    expect(right(await again.log('s'))).toEqual(logBefore);
    expect(right(await again.load('s')).head).toBe(logBefore[logBefore.length - 1]!.hash);
    expect(right(await again.verify()).map((r) => [r.sessionId, r.ok])).toEqual([
      ['s', true],
      ['f', true],
    ]);
    right(await again.append('s', [appendCmd(6)], { expectedSeq: logBefore.length }));
    right(await again.close());
  });
});

describe('opening a LevelDB directory', () => {
  it('a path that is a file, a foreign LevelDB and an unknown store version are refused', async () => {
    const dir = tempDir();
    const file = nodePath.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    expect(left(await SessionStore.open(file))).toMatchObject({ _tag: 'StoreIoError', path: file });
    expect(fs.readFileSync(file, 'utf8')).toBe('x');

    const unrelated = tempDir('unrelated');
    fs.writeFileSync(nodePath.join(unrelated, 'notes.txt'), 'keep me');
    expect(left(await SessionStore.open(unrelated))._tag).toBe('StoreIoError');
    expect(fs.readdirSync(unrelated)).toEqual(['notes.txt']);

    const foreign = tempDir('foreign');
    await withRawDb(foreign, (db) => db.put('hello', 'world'));
    expect(left(await SessionStore.open(foreign))._tag).toBe('StoreIoError');

    const future = tempDir('future');
    right(await (await openStore(future)).close());
    await withRawDb(future, (db) => db.put('F', JSON.stringify({ v: 2 })));
    expect(left(await SessionStore.open(future))).toMatchObject({ _tag: 'UnsupportedVersion', what: 'store', found: 2, expected: 1 });
    // The failed open released the lock: the raw database opens, and once repaired so does the store.
    await withRawDb(future, (db) => db.put('F', JSON.stringify({ v: 1 })));
    right(await (await openStore(future)).close());
    expect(left(await SessionStore.open(tempDir(), { snapshotEvery: 0 }))._tag).toBe('InvalidArgument');
  });
});
