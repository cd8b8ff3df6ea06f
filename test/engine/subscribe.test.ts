/**
 * Log subscriptions on real LevelDB: catch-up from the store then live records,
 * no gap and no duplicate across the switch (also after a reopen and with
 * concurrent appends), slow consumers, writers around the engine, and every way
 * a subscription ends.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type { SessionEngine } from '../../src/engine/index.ts';
import type { LogRecord } from '../../src/session/record.ts';
import { appendCmd, cleanupDirs, openEngine, range, right, sleep, take, tempDir } from './helpers.ts';

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

const seqs = (rs: readonly LogRecord[]): number[] => rs.map((r) => r.seq);

describe('subscribe', () => {
  it('after a reopen, from seq k while more is appended concurrently: exactly k..end, in order, chained', async () => {
    const dir = tempDir();
    const first = await openEngine(dir, { snapshotEvery: 50 });
    right(await first.create({ id: 's' }));
    for (let i = 0; i < 120; i += 4) right(await first.append('s', range(i, i + 3).map((j) => appendCmd(j))));
    right(await first.close()); // seqs 1..121 (one record per command)

    const engine = await engineIn(dir, { snapshotEvery: 50, subscriptionPageSize: 7 });
    const k = 5;
    const sub = engine.subscribe('s', { fromSeq: k });
    const writers = Promise.all(range(0, 39).map((i) => engine.append('s', [appendCmd(1000 + i)]))); // seqs 122..161
    const got = await take(sub, 161 - k + 1);
    await writers;
    expect(seqs(got)).toEqual(range(k, 161));
    for (let i = 1; i < got.length; i++) expect(got[i]!.prev).toBe(got[i - 1]!.hash);
    // nothing more arrives
    const more = await Promise.race([sub.next(), sleep(50).then(() => 'quiet')]);
    expect(more).toBe('quiet');
    sub.close();
  });

  it('without fromSeq yields only records committed after the call', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    right(await engine.append('s', [appendCmd(0)]));
    const queued = engine.append('s', [appendCmd(1)]); // queued before subscribe: not new
    const sub = engine.subscribe('s');
    const later = engine.append('s', [appendCmd(2)]);
    await Promise.all([queued, later]);
    expect(seqs(await take(sub, 1))).toEqual([4]);
    right(await engine.append('s', [appendCmd(3)]));
    expect(seqs(await take(sub, 1))).toEqual([5]);
    await sub.return?.();
  });

  it('from seq 1 on a new session yields the genesis written by engine.create and everything after', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const sub = engine.subscribe('s', { fromSeq: 1 });
    const got = await take(sub, 1);
    expect(got[0]!.command.type).toBe('session_created');
    right(await engine.append('s', [appendCmd(0)]));
    expect(seqs(await take(sub, 1))).toEqual([2]);
    sub.close();
  });

  it('survives a slow consumer: a tiny buffer overflows, the records are read back from the store', async () => {
    const engine = await engineIn(tempDir(), { subscriptionBuffer: 3, subscriptionPageSize: 4 });
    right(await engine.create({ id: 's' }));
    const sub = engine.subscribe('s');
    for (let i = 0; i < 50; i++) right(await engine.append('s', [appendCmd(i)]));
    const got: LogRecord[] = [];
    for await (const r of sub) {
      got.push(r);
      if (got.length === 10) await sleep(5); // slow down mid-way while more arrives
      if (got.length === 10) for (let i = 50; i < 60; i++) right(await engine.append('s', [appendCmd(i)]));
      if (r.seq === 61) break;
    }
    expect(seqs(got)).toEqual(range(2, 61));
    expect(sub.closed).toBe(true);
  });

  it('fills a gap left by a writer around the engine', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const sub = engine.subscribe('s');
    right(await engine.append('s', [appendCmd(0)])); // 2, live
    right(await engine.store.append('s', [appendCmd(1), appendCmd(2)], { expectedSeq: 2 })); // 3..4, not fed
    right(await engine.append('s', [appendCmd(3)])); // 5, live: the gap is read from the store
    expect(seqs(await take(sub, 4))).toEqual([2, 3, 4, 5]);
    sub.close();
  });

  it('several subscribers see the same records', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const subs = [engine.subscribe('s', { fromSeq: 1 }), engine.subscribe('s'), engine.subscribe('s', { fromSeq: 3 })];
    await Promise.all(range(0, 9).map((i) => engine.append('s', [appendCmd(i)])));
    expect(seqs(await take(subs[0]!, 11))).toEqual(range(1, 11));
    expect(seqs(await take(subs[1]!, 10))).toEqual(range(2, 11));
    expect(seqs(await take(subs[2]!, 9))).toEqual(range(3, 11));
    for (const s of subs) s.close();
  });

  it('ends on return(), on an aborted signal, on close (waking a pending next), and with an error for a missing session or a bad fromSeq', async () => {
    const engine = await openEngine(tempDir());
    right(await engine.create({ id: 's' }));

    const a = engine.subscribe('s');
    expect(await a.return!()).toEqual({ done: true, value: undefined });
    expect((await a.next()).done).toBe(true);

    const ac = new AbortController();
    const b = engine.subscribe('s', { signal: ac.signal });
    const pendingB = b.next();
    ac.abort();
    expect((await pendingB).done).toBe(true);

    const missing = engine.subscribe('ghost');
    expect((await missing.next()).done).toBe(true);
    expect(missing.error?._tag).toBe('SessionNotFound');

    const bad = engine.subscribe('s', { fromSeq: 0 });
    expect((await bad.next()).done).toBe(true);
    expect(bad.error?._tag).toBe('InvalidArgument');

    const c = engine.subscribe('s');
    const pendingC = c.next();
    right(await engine.close());
    expect((await pendingC).done).toBe(true);
    expect(c.error).toBeUndefined();
    const d = engine.subscribe('s');
    expect((await d.next()).done).toBe(true);
    expect(d.error?._tag).toBe('EngineClosed');
  });

  it('yields the cleanup records of a turn end and boundary records like any other', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const sub = engine.subscribe('s');
    const catalog = { tools: [{ name: 'grep', description: 'grep', inputSchema: {} }], controlNames: [], deferredNames: [] };
    right(
      await engine.runTurn('s', async (turn) => {
        right(await turn.applyToolBoundary(() => catalog));
        right(await turn.execute((s) => E.map((x: typeof s) => x)(s.setTurnToolOverlay({ deny: ['grep'], activate: [] }, catalog))));
      }),
    );
    const got = await take(sub, 3);
    expect(got.map((r) => r.command.type)).toEqual(['tool_boundary_applied', 'tool_turn_overlay_set', 'tool_turn_overlay_cleared']);
    sub.close();
  });
});
