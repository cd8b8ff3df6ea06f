/**
 * `copySessions` between two LevelDB stores (src/store/copy.ts): a fork copied
 * later, after its parent grew on both sides, brings no conflict as long as the
 * destination's parent holds the same records up to the fork point; anything
 * else is `SessionExists` with nothing written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as nodePath from 'node:path';
import { copySessions, type SessionStore } from '../../src/store/index.ts';
import { appendCmd, cleanupDirs, dumpDb, left, openStore, right, tempDir } from './helpers.ts';

afterEach(cleanupDirs);

const appendOne = async (store: SessionStore, sid: string, i: number, text: string): Promise<number> =>
  right(await store.append(sid, [appendCmd(i, text)], { expectedSeq: right(await store.load(sid)).seq })).session.seq;

const withStore = async <A>(dir: string, f: (s: SessionStore) => Promise<A>): Promise<A> => {
  const s = await openStore(dir);
  try {
    return await f(s);
  } finally {
    right(await s.close());
  }
};

/**
 * `a` and `b` after: `p` (3 records) created in `a` and copied to `b`; then `b`
 * appends "b only" to `p`, `a` forks `d` from `p` at seq 3 and appends "a only"
 * to `p` (seq 4 differs on the two sides), and forks `e` from `p` at seq 4.
 */
const diverged = async (): Promise<{ a: string; b: string }> => {
  const root = tempDir('copy');
  const a = nodePath.join(root, 'a');
  const b = nodePath.join(root, 'b');
  await withStore(a, async (s) => {
    right(await s.create({ id: 'p' }));
    await appendOne(s, 'p', 0, 'hello');
    await appendOne(s, 'p', 1, 'hi');
  });
  right(await copySessions(a, b));
  await withStore(b, (s) => appendOne(s, 'p', 2, 'b only'));
  await withStore(a, async (s) => {
    right(await s.fork('p', { id: 'd' }));
    await appendOne(s, 'd', 2, 'in the fork');
    await appendOne(s, 'p', 2, 'a only');
    right(await s.fork('p', { id: 'e' }));
  });
  return { a, b };
};

describe('copySessions', () => {
  it('copies a later fork whose parent grew differently at the destination: the parent is shared up to the fork point and left alone', async () => {
    const { a, b } = await diverged();
    const parentBefore = await withStore(b, async (s) => right(await s.log('p')));
    const report = right(await copySessions(a, b, ['d']));
    const [forkPoint, dHead] = await withStore(a, async (s) => [right(await s.log('p', { fromSeq: 3, toSeq: 3 }))[0]!, right(await s.load('d'))] as const);
    expect(report.sessions).toEqual([
      { sessionId: 'p', status: 'shared', seq: 3, hash: forkPoint.hash },
      { sessionId: 'd', status: 'copied', seq: dHead.seq, hash: dHead.head },
    ]);
    await withStore(b, async (s) => {
      // The destination's parent is unchanged, the fork reads the same as in the source, and everything verifies.
      expect(right(await s.log('p'))).toEqual(parentBefore);
      const d = right(await s.load('d'));
      expect(right(d.readMessages()).map((m) => (m.role === 'user' || m.role === 'assistant' ? m.content : []))).toEqual(
        await withStore(a, async (src) => right(right(await src.load('d')).readMessages()).map((m) => (m.role === 'user' || m.role === 'assistant' ? m.content : []))),
      );
      expect(right(await s.verify()).map((r) => [r.sessionId, r.ok])).toEqual([
        ['p', true],
        ['d', true],
      ]);
    });
    // Running it again finds the fork already there.
    expect(right(await copySessions(a, b, ['d'])).sessions.map((h) => h.status)).toEqual(['shared', 'already']);
  });

  it('a fork whose fork point differs at the destination, or a parent asked for by name, is SessionExists with nothing written', async () => {
    const { a, b } = await diverged();
    const before = await dumpDb(b);
    // e branches off p at seq 4, which is "a only" in a and "b only" in b.
    expect(left(await copySessions(a, b, ['e']))).toMatchObject({ _tag: 'SessionExists', sessionId: 'p' });
    // p itself was asked for: its other head at the destination is a conflict even though d would fit.
    expect(left(await copySessions(a, b, ['p', 'd']))).toMatchObject({ _tag: 'SessionExists', sessionId: 'p' });
    // Copying everything asks for p too.
    expect(left(await copySessions(a, b))).toMatchObject({ _tag: 'SessionExists', sessionId: 'p' });
    expect(await dumpDb(b)).toEqual(before);
  });
});
