/**
 * Fail closed (README §4, machines.md §4): tampered records, snapshots, chunks,
 * headers and indexes are reported by `verify` with the session and seq, and
 * `load` refuses them with `CorruptRecord` / `UnsupportedVersion` instead of
 * defaulting anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Level } from 'level';
import { encodeSeq } from '../../src/store/layout.ts';
import { appendMessages, cleanupDirs, left, openStore, recordKey, right, snapshotKey, tamper, tempDir, withRawDb } from './helpers.ts';
import { exportPiSession } from '../../src/adapters/pi/store.ts';

afterEach(cleanupDirs);

type RawDb = Level<string, string>;

/** A store with session `s`: genesis + `n` message records, snapshots every `every`. Closed. */
const build = async (n: number, every = 1000): Promise<string> => {
  const dir = tempDir();
  const store = await openStore(dir, { snapshotEvery: every });
  right(await store.create({ id: 's' }));
  await appendMessages(store, 's', 0, n);
  right(await store.close());
  return dir;
};

const verifyAll = async (dir: string) => {
  const store = await openStore(dir);
  const reports = right(await store.verify());
  right(await store.close());
  return reports;
};

describe('records', () => {
  it('a flipped byte inside a message makes verify name the session and seq, and load refuse it', async () => {
    const dir = await build(10);
    await tamper(dir, recordKey('s', 6), (v) => v.replace('message 4', 'message 5'));
    const [report] = await verifyAll(dir);
    expect(report).toMatchObject({ sessionId: 's', ok: false });
    expect(report!.problems[0]).toMatchObject({ seq: 6, _tag: 'CorruptRecord' });
    expect(report!.problems[0]!.reason).toContain('hash');
    const store = await openStore(dir);
    expect(left(await store.load('s'))).toMatchObject({ _tag: 'CorruptRecord', sessionId: 's', seq: 6 });
    expect(right(await store.load('s', { atSeq: 5 })).seq).toBe(5);
    right(await store.close());
  });

  it('a flipped structural byte (not JSON any more) is reported at its seq', async () => {
    const dir = await build(5);
    await tamper(dir, recordKey('s', 3), (v) => `[${v.slice(1)}`);
    const [report] = await verifyAll(dir);
    expect(report!.problems).toEqual([expect.objectContaining({ seq: 3, _tag: 'CorruptRecord' })]);
    expect(report!.records).toBe(3);
  });

  it('an unknown record version fails closed with UnsupportedVersion', async () => {
    const dir = await build(5);
    await tamper(dir, recordKey('s', 4), (v) => JSON.stringify({ ...JSON.parse(v), v: 3 }));
    const store = await openStore(dir);
    expect(left(await store.load('s'))).toMatchObject({ _tag: 'UnsupportedVersion', what: 'record', sessionId: 's', seq: 4, found: 3, expected: 2 });
    expect(left(await store.log('s'))._tag).toBe('UnsupportedVersion');
    const [report] = right(await store.verify('s'));
    expect(report!.problems).toEqual([expect.objectContaining({ seq: 4, _tag: 'UnsupportedVersion' })]);
    expect(left(await store.append('s', [], { expectedSeq: 6 }))._tag).toBe('UnsupportedVersion');
    right(await store.close());
  });

  it('a missing record and a record stored under the wrong seq are reported', async () => {
    const dir = await build(6);
    await withRawDb(dir, (db) => db.del(recordKey('s', 4)));
    const [report] = await verifyAll(dir);
    expect(report!.problems[0]).toMatchObject({ seq: 4, _tag: 'CorruptRecord' });
    const store = await openStore(dir);
    expect(left(await store.load('s'))).toMatchObject({ _tag: 'CorruptRecord', seq: 4 });
    right(await store.close());

    const dir2 = await build(6);
    await withRawDb(dir2, async (db) => {
      const five = await db.get(recordKey('s', 5));
      await db.put(recordKey('s', 4), five!);
    });
    const [r2] = await verifyAll(dir2);
    expect(r2!.problems[0]).toMatchObject({ seq: 4, _tag: 'CorruptRecord' });
  });
});

describe('snapshots (machines.md §4: fail closed, never load empty)', () => {
  const snapshotStore = async (): Promise<{ dir: string; seq: number }> => {
    const dir = await build(7, 4); // snapshot at seq 4 and 8
    return { dir, seq: 8 };
  };
  const editSnapshot = (dir: string, seq: number, f: (s: Record<string, any>) => void) =>
    tamper(dir, snapshotKey('s', seq), (v) => {
      const s = JSON.parse(v) as Record<string, any>;
      f(s);
      return JSON.stringify(s);
    });

  it('palimpsest.systemContext as a string is CorruptRecord', async () => {
    const { dir, seq } = await snapshotStore();
    await editSnapshot(dir, seq, (s) => (s.metadata['palimpsest.systemContext'] = 'oops'));
    const store = await openStore(dir);
    const e = left(await store.load('s'));
    expect(e).toMatchObject({ _tag: 'CorruptRecord', sessionId: 's', seq });
    expect((e as { reason: string }).reason).toContain('palimpsest.systemContext');
    const [report] = right(await store.verify('s'));
    expect(report!.problems).toEqual([expect.objectContaining({ seq, _tag: 'CorruptRecord' })]);
    expect(report!.problems[0]!.reason).toContain('palimpsest.systemContext');
    right(await store.close());
  });

  it('a snapshot lacking palimpsest.deferredTurn, or with an unknown palimpsest key, is CorruptRecord', async () => {
    for (const edit of [
      (s: Record<string, any>) => delete s.metadata['palimpsest.deferredTurn'],
      (s: Record<string, any>) => (s.metadata['palimpsest.future'] = {}),
      (s: Record<string, any>) => (s.metadata['palimpsest.deferredTurn'] = { phase: 'bogus', toolResults: [] }),
      (s: Record<string, any>) => (s.metadata['palimpsest.lifecycle'] = null),
    ]) {
      const { dir, seq } = await snapshotStore();
      await editSnapshot(dir, seq, edit);
      const store = await openStore(dir);
      expect(left(await store.load('s'))).toMatchObject({ _tag: 'CorruptRecord', sessionId: 's', seq });
      expect(left(await store.append('s', [], { expectedSeq: 8 }))._tag).toBe('CorruptRecord');
      right(await store.close());
    }
  });

  it('an unknown snapshot version is UnsupportedVersion; an older snapshot still serves older seqs', async () => {
    const { dir, seq } = await snapshotStore();
    await editSnapshot(dir, seq, (s) => (s.v = 9));
    const store = await openStore(dir);
    expect(left(await store.load('s'))).toMatchObject({ _tag: 'UnsupportedVersion', what: 'snapshot', seq, found: 9 });
    expect(right(await store.load('s', { atSeq: 6 })).seq).toBe(6);
    const [report] = right(await store.verify('s'));
    expect(report!.problems).toEqual([expect.objectContaining({ seq, _tag: 'UnsupportedVersion' })]);
    right(await store.close());
  });

  it('a snapshot whose user metadata was changed is caught by verify and by nothing else silently', async () => {
    const { dir, seq } = await snapshotStore();
    await editSnapshot(dir, seq, (s) => (s.metadata.injected = true));
    const [report] = await verifyAll(dir);
    expect(report!.problems).toEqual([expect.objectContaining({ seq, _tag: 'CorruptRecord' })]);
    expect(report!.problems[0]!.reason).toContain('metadata.injected');
  });

  // verify adopts a stored SHA-256 state only when it finishes to the digest replay computed
  // (store/verify.ts, adoptStoredStates): a state edited in any part is reported, not adopted.
  it.each([
    ['the head accumulator chain', 599, 'chain'],
    ['the head accumulator pending bytes', 599, 'tail'],
    ['a checkpoint chain', 512, 'chain'],
    ['a checkpoint pending bytes', 256, 'tail'],
  ] as const)('an edited stored SHA-256 state (%s) is reported by verify at the snapshot seq', async (_what, count, part) => {
    const dir = await build(599, 300); // snapshots at seq 300 and 600 (599 messages: checkpoints 0, 256, 512)
    const seq = 600;
    await tamper(dir, snapshotKey('s', seq), (v) => {
      const re = new RegExp(`"chain":"([0-9a-f]{64})","count":${count},"tail":"([0-9a-f]*)"`);
      const m = re.exec(v);
      if (m === null || (part === 'tail' && m[2]!.length === 0)) throw new Error(`no exported accumulator of count ${count} to edit`);
      const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
      const edited = part === 'chain' ? `"chain":"${flip(m[1]!)}","count":${count},"tail":"${m[2]}"` : `"chain":"${m[1]}","count":${count},"tail":"${flip(m[2]!)}"`;
      return v.replace(m[0], edited);
    });
    const [report] = await verifyAll(dir);
    expect(report!.problems).toEqual([expect.objectContaining({ seq, _tag: 'CorruptRecord' })]);
    expect(report!.problems[0]!.reason).toMatch(new RegExp(`snapshot differs from the replayed state at .*${part === 'chain' ? 'chain' : 'tail'}`));
  });

  it('a tampered or missing chunk is CorruptRecord when its messages are first needed, and in verify', async () => {
    const dir = tempDir();
    const store = await openStore(dir, { snapshotEvery: 300 });
    right(await store.create({ id: 's' }));
    await appendMessages(store, 's', 0, 300, 10);
    right(await store.close());
    const chunkKeys = await withRawDb(dir, async (db) => db.keys({ gte: 'C/', lt: 'C0' }).all());
    expect(chunkKeys.length).toBeGreaterThan(0);
    const messageChunk = await withRawDb(dir, async (db) => {
      for (const k of chunkKeys) if ((await db.get(k))!.includes('message 1')) return k;
      throw new Error('no message chunk');
    });
    await tamper(dir, messageChunk, (v) => v.replace('message 1', 'message 2'));
    const corrupt = { _tag: 'CorruptRecord', sessionId: 's', seq: 301 };
    const s2 = await openStore(dir);
    // The load reads no message chunk (lazy); the first read of the chunk fails closed.
    const loaded = right(await s2.load('s'));
    expect(loaded.messageCount).toBe(300);
    expect(thrown(() => loaded.messages)).toMatchObject(corrupt);
    expect((thrown(() => loaded.messages) as { reason: string }).reason).toContain('does not hash to its id');
    expect(left(await s2.revisionMessages('s', loaded.transcriptRevision()))).toMatchObject(corrupt);
    expect(left(await s2.forkAt('s', 10, { id: 'c' }))).toMatchObject(corrupt);
    expect(left(await s2.load('c'))._tag).toBe('SessionNotFound'); // nothing written
    expect(left(await exportPiSession(s2, 's'))).toMatchObject(corrupt); // a Left, not a throw
    const [report] = right(await s2.verify('s'));
    expect(report!.problems.map((p) => [p.seq, p._tag])).toEqual([[301, 'CorruptRecord']]);
    right(await s2.close());
    await withRawDb(dir, (db) => db.del(messageChunk));
    const s3 = await openStore(dir);
    const again = right(await s3.load('s'));
    expect(thrown(() => again.messages)).toMatchObject({ ...corrupt, reason: expect.stringContaining('is missing') });
    right(await s3.close());
  });

  it('a chunk a load must read (the last one, when the inline tail is empty) is CorruptRecord at load', async () => {
    const dir = tempDir();
    const store = await openStore(dir, { snapshotEvery: 257 });
    right(await store.create({ id: 's' }));
    await appendMessages(store, 's', 0, 256, 256); // snapshot at seq 257: 256 messages = one full chunk, no tail
    right(await store.close());
    const messageChunk = await withRawDb(dir, async (db) => {
      for (const k of await db.keys({ gte: 'C/', lt: 'C0' }).all()) if ((await db.get(k))!.includes('message 255')) return k;
      throw new Error('no message chunk');
    });
    await tamper(dir, messageChunk, (v) => v.replace('message 255', 'message 999'));
    const s2 = await openStore(dir);
    expect(left(await s2.load('s'))).toMatchObject({ _tag: 'CorruptRecord', sessionId: 's', seq: 257 });
    right(await s2.close());
  });

  it('verifying a fork alone whose parent has a corrupt chunk reports it as data', async () => {
    const dir = tempDir();
    const store = await openStore(dir, { snapshotEvery: 300 });
    right(await store.create({ id: 'p' }));
    await appendMessages(store, 'p', 0, 300, 10);
    right(await store.fork('p', { id: 'c' }));
    right(await store.close());
    const messageChunk = await withRawDb(dir, async (db) => {
      for (const k of await db.keys({ gte: 'C/', lt: 'C0' }).all()) if ((await db.get(k))!.includes('message 1')) return k;
      throw new Error('no message chunk');
    });
    await tamper(dir, messageChunk, (v) => v.replace('message 1', 'message 2'));
    const s2 = await openStore(dir);
    const child = right(await s2.load('c')); // the parent's prefix is not read
    expect(thrown(() => child.messages)).toMatchObject({ _tag: 'CorruptRecord', sessionId: 'p', seq: 301 });
    const [report] = right(await s2.verify('c'));
    expect(report!.problems).toEqual([expect.objectContaining({ seq: 1, _tag: 'CorruptRecord' })]);
    expect(report!.problems[0]!.reason).toContain('fork parent p@301');
    right(await s2.close());
  });
});

/** What `f` throws (fails the test when it returns). */
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('headers, indexes and fork links', () => {
  it('a header that disagrees with the log, and a lost revision-index key, are reported', async () => {
    const dir = await build(5);
    await tamper(dir, 'S/s', (v) => JSON.stringify({ ...JSON.parse(v), messages: 99 }));
    const [report] = await verifyAll(dir);
    expect(report!.problems).toEqual([expect.objectContaining({ seq: 0, _tag: 'CorruptRecord' })]);
    expect(report!.problems[0]!.reason).toContain('messages');

    const dir2 = await build(5);
    const vKey = await withRawDb(dir2, async (db) => (await db.keys({ gte: 'V/s/', lt: 'V/s0' }).all()).find((k) => k.endsWith(encodeSeq(3)))!);
    await withRawDb(dir2, (db) => db.del(vKey));
    const [r2] = await verifyAll(dir2);
    expect(r2!.problems).toEqual([expect.objectContaining({ seq: 3, _tag: 'CorruptRecord' })]);
  });

  it.each([
    ['lost', async (db: RawDb, k: string) => db.del(k), [[3, /revision index key V\/s\/sha256:[0-9a-f]{64}\/000000000003 is missing/]]],
    ['naming another command type', async (db: RawDb, k: string) => db.put(k, 'metadata_set'), [[3, /says metadata_set, the record is messages_appended/]]],
    [
      'naming another revision',
      async (db: RawDb, k: string) => {
        await db.del(k);
        await db.put(`V/s/sha256:${'e'.repeat(64)}/${encodeSeq(3)}`, 'messages_appended');
      },
      [
        [3, /V\/s\/sha256:e{64}\/000000000003 matches no head change/],
        [3, /000000000003 is missing/],
      ],
    ],
    ['added for a seq that moved no head', async (db: RawDb, k: string) => db.put(k.replace(encodeSeq(3), encodeSeq(9)), 'messages_appended'), [[9, /000000000009 matches no head change/]]],
  ] as const)('a revision-index key %s is reported at its seq', async (_what, edit, expected) => {
    const dir = await build(5);
    await withRawDb(dir, async (db) => {
      const k = (await db.keys({ gte: 'V/s/', lt: 'V/s0' }).all()).find((key) => key.endsWith(encodeSeq(3)))!;
      await edit(db, k);
    });
    const [report] = await verifyAll(dir);
    expect(report!.problems.map((p) => [p.seq, p.reason])).toEqual(expected.map(([seq, reason]) => [seq, expect.stringMatching(reason)]));
  });

  it('a corrupt parent is reported for the parent and for the fork that needs it', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    right(await store.create({ id: 'p' }));
    await appendMessages(store, 'p', 0, 4);
    right(await store.fork('p', { id: 'c' }));
    right(await store.close());
    await tamper(dir, recordKey('p', 3), (v) => v.replace('message 1', 'message 9'));
    const reports = await verifyAll(dir);
    expect(reports.map((r) => [r.sessionId, r.ok, r.problems[0]?.seq])).toEqual([
      ['p', false, 3],
      ['c', false, 1],
    ]);
  });
});
