/**
 * The engine's serialized writer per session, on real LevelDB: concurrent
 * appends and read-modify-write steps never lose an update, and never surface
 * `SeqConflict` among the engine's own writers.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type { SessionEngine } from '../../src/engine/index.ts';
import { userText } from '../../src/model/index.ts';
import { appendCmd, cleanupDirs, left, openEngine, range, right, tempDir } from './helpers.ts';

const open: SessionEngine[] = [];
const engineIn = async (dir = tempDir(), opts: Parameters<typeof openEngine>[1] = {}): Promise<SessionEngine> => {
  const e = await openEngine(dir, opts);
  open.push(e);
  return e;
};
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});
afterAll(cleanupDirs);

describe('append', () => {
  it('lands every one of 60 concurrent appends from many callers, with contiguous seqs and a verifiable log', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const results = await Promise.all(range(0, 59).map((i) => engine.append('s', i % 3 === 0 ? [appendCmd(i), { type: 'metadata_set', key: `k${i}`, value: i }] : [appendCmd(i)])));
    for (const r of results) expect(E.isRight(r)).toBe(true);
    const log = right(await engine.store.log('s'));
    expect(log.map((r) => r.seq)).toEqual(range(1, 1 + 60 + 20));
    // each call's records are contiguous (one batch each)
    for (const r of results) {
      const seqs = right(r).records.map((x) => x.seq);
      expect(seqs).toEqual(range(seqs[0]!, seqs[0]! + seqs.length - 1));
    }
    const s = right(await engine.store.load('s'));
    expect(s.messageCount).toBe(60);
    expect(Object.keys(s.metadata)).toHaveLength(20);
    const reports = right(await engine.store.verify('s'));
    expect(reports.every((x) => x.ok)).toBe(true);
  });

  it('appends on different sessions run independently and all land', async () => {
    const engine = await engineIn();
    for (const id of ['a', 'b', 'c']) right(await engine.create({ id }));
    await Promise.all(range(0, 29).map((i) => engine.append(['a', 'b', 'c'][i % 3]!, [appendCmd(i)])));
    for (const id of ['a', 'b', 'c']) expect(right(await engine.store.load(id)).seq).toBe(11);
  });

  it('returns a refused command as its typed error and writes nothing', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const e = left(await engine.append('s', [appendCmd(0), { type: 'metadata_set', key: 'palimpsest.x', value: 1 }]));
    expect(e._tag).toBe('ReservedMetadataKey');
    expect(right(await engine.store.load('s')).seq).toBe(1);
    expect(left(await engine.append('nope', [appendCmd(0)]))._tag).toBe('SessionNotFound');
    expect(left(await engine.append('s', 'x' as never))._tag).toBe('InvalidArgument');
  });

  it('retries on fresh state when a writer goes around the engine', async () => {
    const engine = await engineIn(tempDir(), { conflictRetries: 10_000 });
    right(await engine.create({ id: 's' }));
    // 20 engine appends race 20 direct store appends that use the current seq
    const direct = async (i: number): Promise<void> => {
      for (;;) {
        const s = right(await engine.store.load('s'));
        const r = await engine.store.append('s', [appendCmd(i, `direct ${i}`)], { expectedSeq: s.seq });
        if (E.isRight(r)) return;
        expect(r.left._tag).toBe('SeqConflict');
      }
    };
    const out = await Promise.all([...range(0, 19).map((i) => engine.append('s', [appendCmd(i)])), ...range(0, 19).map(direct)]);
    for (const r of out.slice(0, 20)) expect(E.isRight(r as E.Either<unknown, unknown>)).toBe(true);
    expect(right(await engine.store.load('s')).seq).toBe(41);
  });
});

describe('execute (read-modify-write)', () => {
  it('loses no update: 40 concurrent increments of a metadata counter give 40', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's', metadata: { n: 0 } }));
    const rs = await Promise.all(range(1, 40).map(() => engine.execute('s', (s) => [{ type: 'metadata_set', key: 'n', value: (s.metadata['n'] as number) + 1 }])));
    for (const r of rs) expect(E.isRight(r)).toBe(true);
    expect(right(await engine.store.load('s')).metadata['n']).toBe(40);
  });

  it('accepts a Session derived through its methods, an Either, and passes a Left through untouched', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const a = right(await engine.execute('s', (s) => right(s.push(userText('hello')))));
    expect(a.records.map((r) => r.command.type)).toEqual(['messages_appended']);
    const b = right(await engine.execute('s', (s) => E.map((x: { session: typeof s }) => x.session)(s.startTurn())));
    expect(b.records.map((r) => r.command.type)).toEqual(['turn_started']);
    const c = right(await engine.execute('s', (s) => s.setMetadata('k', 'v')));
    expect(c.records).toHaveLength(1);
    const mine = { _tag: 'MyRefusal', message: 'no' } as const;
    expect(left(await engine.execute('s', () => E.left(mine)))).toBe(mine);
    // an inert step appends nothing
    const d = right(await engine.execute('s', (s) => s.setMetadata('k', 'v')));
    expect(d.records).toHaveLength(0);
    // a session that does not derive from the one given is refused
    const other = right(await engine.create({ id: 'o' }));
    expect(left(await engine.execute('s', () => right(other.push(userText('x')))))._tag).toBe('InvalidArgument');
    expect(right(await engine.store.load('s')).seq).toBe(4);
  });
});

describe('close', () => {
  it('waits for queued writes, then refuses new work with EngineClosed', async () => {
    const engine = await openEngine(tempDir());
    right(await engine.create({ id: 's' }));
    const pending = range(0, 24).map((i) => engine.append('s', [appendCmd(i)]));
    const closed = engine.close();
    expect(left(await engine.append('s', [appendCmd(99)]))._tag).toBe('EngineClosed');
    expect(left(await engine.startTurn('s'))._tag).toBe('EngineClosed');
    for (const r of await Promise.all(pending)) expect(E.isRight(r)).toBe(true);
    expect(E.isRight(await closed)).toBe(true);
    expect(E.isRight(await engine.close())).toBe(true);
    const again = await openEngine(engine.path);
    open.push(again);
    expect(right(await again.store.load('s')).seq).toBe(26);
  });

  it('a second engine on the same directory gets StoreLocked', async () => {
    const dir = tempDir();
    await engineIn(dir);
    const { SessionEngine } = await import('../../src/engine/index.ts');
    expect(left(await SessionEngine.open(dir))._tag).toBe('StoreLocked');
  });
});
