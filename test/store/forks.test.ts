/**
 * Forks of a long session from a cold store (`store/forks.ts`): the parent is
 * loaded from the snapshot at the fork point with its inline tail unchecked
 * when the child reads only messages below it, and every edit of what the
 * child is built from — the snapshot's state, the record at the fork point,
 * the header, an inline message the child reads — fails closed, writing no
 * child. An edit the child never reads (an inline message above the fork
 * index) leaves the fork correct, a cold load of the child (which loads the
 * parent with the same bound, `forkReadsBelow`) agrees with the fork, and every
 * other read of the parent fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { transcriptDigest } from '../../src/model/index.ts';
import { cleanupDirs, copyToTempDir, left, msg, openStore, recordKey, right, snapshotKey, tamper, tempDir, withRawDb } from './helpers.ts';

/** `p`: 600 messages in six appends of 100, a snapshot after each (the last at the head, seq 7): two full chunks and 88 inline messages. */
let pristine: string;

beforeAll(async () => {
  pristine = tempDir('forks-pristine');
  const store = await openStore(pristine, { snapshotEvery: 1 });
  let seq = right(await store.create({ id: 'p', metadata: { title: 'parent' } })).seq;
  for (let k = 0; k < 6; k++) {
    seq = right(await store.append('p', [{ type: 'messages_appended', messages: Array.from({ length: 100 }, (_, j) => msg(k * 100 + j)) }], { expectedSeq: seq })).session.seq;
  }
  expect(seq).toBe(7);
  right(await store.close());
});
afterAll(cleanupDirs);

/** A copy of the pristine store. */
const copy = (): string => copyToTempDir(pristine, 'forks-edit');

const all = Array.from({ length: 600 }, (_, i) => msg(i));
const corruptAtHead = { _tag: 'CorruptRecord', sessionId: 'p', seq: 7 };

/** Opens `dir` cold, forks `p` at `index` into `c`; returns the result and whether `c` exists afterwards. */
const forkCold = async (dir: string, index: number): Promise<{ fork: Awaited<ReturnType<Awaited<ReturnType<typeof openStore>>['forkAt']>>; childExists: boolean }> => {
  const store = await openStore(dir);
  const fork = await store.forkAt('p', index, { id: 'c' });
  const childExists = E.isRight(await store.load('c'));
  right(await store.close());
  return { fork, childExists };
};

describe('forkAt from a cold store', () => {
  it('the child holds the first messages under their revision, and both sessions verify', async () => {
    const dir = copy();
    for (const [id, index] of [
      ['c300', 300], // inside the second chunk
      ['c512', 512], // at the last checkpoint
      ['c530', 530], // inside the inline messages read lazily
      ['c590', 590], // inside the vector's tail
    ] as const) {
      const store = await openStore(dir);
      const child = right(await store.forkAt('p', index, { id }));
      expect(child.messageCount).toBe(index);
      expect(child.transcriptRevision()).toBe(transcriptDigest(all.slice(0, index)));
      right(await store.close());
      const again = await openStore(dir);
      expect(right(await again.load(id)).readMessages()).toEqual(E.right(all.slice(0, index)));
      right(await again.close());
    }
    const store = await openStore(dir);
    expect(right(await store.verify()).every((r) => r.ok)).toBe(true);
    right(await store.close());
  });

  it('a snapshot state edited at the fork point fails closed and writes no child', async () => {
    const dir = copy();
    await tamper(dir, snapshotKey('p', 7), (v) => v.replace('["title","parent"]', '["title","forged"]'));
    const { fork, childExists } = await forkCold(dir, 300);
    expect(left(fork)).toMatchObject({ ...corruptAtHead, reason: expect.stringContaining('state digest') });
    expect(childExists).toBe(false);
  });

  it('the record at the fork point edited (its content no longer hashes to its hash) fails closed', async () => {
    const dir = copy();
    await tamper(dir, recordKey('p', 7), (v) => v.replace(/"at":(\d+)/, (_, at: string) => `"at":${Number(at) + 1}`));
    const { fork, childExists } = await forkCold(dir, 300);
    expect(left(fork)).toMatchObject({ ...corruptAtHead, reason: expect.stringContaining('hashes to') });
    expect(childExists).toBe(false);
    const store = await openStore(dir);
    expect(left(await store.load('p'))).toMatchObject(corruptAtHead);
    right(await store.close());
  });

  it('a header moved back to the record before the fork point fails closed', async () => {
    const dir = copy();
    const r6 = JSON.parse((await withRawDb(dir, (db) => db.get(recordKey('p', 6))))!) as { hash: string; revision: string };
    await tamper(dir, 'S/p', (v) => JSON.stringify({ ...JSON.parse(v), lastSeq: 6, lastHash: r6.hash, revision: r6.revision }));
    const { fork, childExists } = await forkCold(dir, 300);
    expect(left(fork)).toMatchObject({ _tag: 'CorruptRecord', sessionId: 'p', seq: 6, reason: expect.stringContaining('the log holds record 7') });
    expect(childExists).toBe(false);
  });

  it('an inline message that does not decode: a fork that reads it fails closed, one below it does not hold it', async () => {
    const dir = copy();
    await tamper(dir, snapshotKey('p', 7), (v) => {
      const snap = JSON.parse(v);
      snap.transcript.messages.tail[0].role = 'bogus'; // message 512, in the lazily decoded part of the inline tail
      return JSON.stringify(snap);
    });
    const store = await openStore(dir);
    expect(left(await store.load('p'))).toMatchObject({ ...corruptAtHead, reason: expect.stringContaining('messages: inline 0..31') });
    expect(left(await store.forkAt('p', 530, { id: 'reads-it' }))).toMatchObject(corruptAtHead);
    expect(left(await store.load('reads-it'))._tag).toBe('SessionNotFound');
    const below = right(await store.forkAt('p', 300, { id: 'below' }));
    expect(below.transcriptRevision()).toBe(transcriptDigest(all.slice(0, 300)));
    right(await store.close());
    // A cold load of the child loads its parent as the fork did (below the inline tail): it loads.
    const again = await openStore(dir);
    expect(right(await again.load('below')).readMessages()).toEqual(E.right(all.slice(0, 300)));
    expect(left(await again.load('p'))).toMatchObject(corruptAtHead);
    right(await again.close());
  });

  it('an inline message edited above the fork point: the fork and a cold load of its child agree, every read of the parent fails closed', async () => {
    const dir = copy();
    await tamper(dir, snapshotKey('p', 7), (v) => {
      expect(v.split('"message 560"').length).toBe(2);
      return v.replace('"message 560"', '"forged 560"'); // still decodes; no longer hashes to the head accumulator
    });
    const store = await openStore(dir);
    const at = right(await store.forkAt('p', 300, { id: 'at' }));
    const replacing = right(await store.forkReplacing('p', 299, { type: 'message', message: msg(299, 'edited') as never }, { id: 'replacing' }));
    expect(left(await store.forkAt('p', 570, { id: 'reads-it' }))).toMatchObject({ ...corruptAtHead, reason: expect.stringContaining('do not hash to') });
    expect(left(await store.fork('p', { id: 'full' }))).toMatchObject(corruptAtHead);
    right(await store.close());
    const again = await openStore(dir);
    const coldAt = right(await again.load('at'));
    expect(coldAt.readMessages()).toEqual(E.right(all.slice(0, 300)));
    expect(coldAt.head).toBe(at.head);
    const coldReplacing = right(await again.load('replacing'));
    expect(coldReplacing.readMessages()).toEqual(E.right([...all.slice(0, 299), msg(299, 'edited')]));
    expect(coldReplacing.head).toBe(replacing.head);
    for (const id of ['reads-it', 'full']) expect(left(await again.load(id))._tag).toBe('SessionNotFound');
    expect(left(await again.load('p'))).toMatchObject({ ...corruptAtHead, reason: expect.stringContaining('do not hash to') });
    const reports = right(await again.verify());
    // verify replays the log: the parent's snapshot disagrees with it, the children (built from the log's state) do not.
    expect(reports.map((r) => [r.sessionId, r.ok])).toEqual([
      ['p', false],
      ['at', true],
      ['replacing', true],
    ]);
    right(await again.close());
  });
});
