/**
 * The turn slot on real LevelDB: one turn per session, released on every exit
 * path, cancellation, and the turn-end cleanup (tool turn overlay, transient
 * steer context, active-turn context), including resuming a session left
 * mid-turn.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type { SessionEngine, TurnHandle } from '../../src/engine/index.ts';
import type { Session } from '../../src/session/session.ts';
import { appendCmd, cleanupDirs, left, openEngine, range, right, sleep, tempDir } from './helpers.ts';

const open: SessionEngine[] = [];
const engineIn = async (dir = tempDir()): Promise<SessionEngine> => {
  const e = await openEngine(dir);
  open.push(e);
  return e;
};
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});
afterAll(cleanupDirs);

const core = { kind: 'builtin', sourceId: 'core' };
const catalog = {
  tools: ['read_file', 'grep', 'shell', 'find_tools'].map((name) => ({ name, description: name, inputSchema: {}, provenance: core })),
  controlNames: ['find_tools'],
  deferredNames: [],
};
const setOverlay = (turn: TurnHandle) => turn.execute((s) => s.setTurnToolOverlay({ deny: ['shell'], activate: [] }, catalog));
const steer = (key: string) => ({ content: { type: 'text' as const, text: `steer ${key}` }, source: 'operator', idempotencyKey: key, sourceKind: 'runtime_steer' as const });
const load = async (engine: SessionEngine, id = 's'): Promise<Session> => right(await engine.store.load(id));

describe('the turn slot', () => {
  it('20 concurrent runTurns: exactly one runs, the others get TurnInProgress naming it', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    let running = 0;
    let maxRunning = 0;
    const ran: string[] = [];
    const results = await Promise.all(
      range(1, 20).map(() =>
        engine.runTurn('s', async (turn) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          ran.push(turn.turnId);
          await sleep(20);
          right(await turn.append([appendCmd(ran.length)]));
          running--;
          return turn.turnId;
        }),
      ),
    );
    expect(maxRunning).toBe(1);
    expect(ran).toHaveLength(1);
    const wins = results.filter(E.isRight);
    expect(wins).toHaveLength(1);
    expect(wins[0]!.right).toBe(ran[0]);
    const losses = results.filter(E.isLeft).map((r) => r.left);
    expect(losses).toHaveLength(19);
    for (const l of losses) expect(l).toMatchObject({ _tag: 'TurnInProgress', sessionId: 's', turnId: ran[0] });
    expect(engine.activeTurn('s')).toBeUndefined();
  });

  it('turns on different sessions run in parallel', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 'a' }));
    right(await engine.create({ id: 'b' }));
    const a = right(await engine.startTurn('a'));
    const b = right(await engine.startTurn('b'));
    expect(engine.activeTurn('a')).toBe(a.turnId);
    expect(engine.activeTurn('b')).toBe(b.turnId);
    right(await a.release('completed'));
    right(await b.release('completed'));
  });

  it('is released after success, after a thrown error (re-thrown), and after cancel', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    expect(right(await engine.runTurn('s', () => 42))).toBe(42);
    expect(engine.activeTurn('s')).toBeUndefined();

    await expect(engine.runTurn('s', async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(engine.activeTurn('s')).toBeUndefined();

    const t = right(await engine.startTurn('s'));
    expect(left(await engine.startTurn('s'))).toMatchObject({ _tag: 'TurnInProgress', turnId: t.turnId });
    expect(right(await engine.cancelTurn('s'))).toBe(true);
    expect(t.signal.aborted).toBe(true);
    expect(t.active).toBe(false);
    expect(engine.activeTurn('s')).toBeUndefined();
    right(await engine.startTurn('s', { turnId: 'next' }));
    expect(engine.activeTurn('s')).toBe('next');
  });

  it('cancelTurn is idempotent and a no-op when idle', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    expect(right(await engine.cancelTurn('s'))).toBe(false);
    const t = right(await engine.startTurn('s'));
    const [a, b] = await Promise.all([engine.cancelTurn('s'), engine.cancelTurn('s')]);
    expect([right(a), right(b)].sort()).toEqual([false, true]);
    expect(right(await engine.cancelTurn('s'))).toBe(false);
    // release after cancel returns the cancel's report
    expect(right(await t.release('completed')).outcome).toBe('cancelled');
  });

  it('cancel mid-turn aborts the signal, frees the slot at once, and refuses further writes through the handle', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    let seenAbort = false;
    let lateWrite: unknown;
    const running = engine.runTurn('s', async (turn) => {
      right(await turn.append([appendCmd(0)]));
      await new Promise<void>((resolve) => turn.signal.addEventListener('abort', () => resolve(), { once: true }));
      seenAbort = true;
      lateWrite = await turn.append([appendCmd(1)]);
      return 'done';
    });
    await sleep(30);
    expect(engine.activeTurn('s')).toBeDefined();
    expect(right(await engine.cancelTurn('s'))).toBe(true);
    expect(engine.activeTurn('s')).toBeUndefined();
    expect(right(await running)).toBe('done');
    expect(seenAbort).toBe(true);
    expect(left(lateWrite as E.Either<{ _tag: string }, unknown>)._tag).toBe('TurnNotActive');
    expect((await load(engine)).messageCount).toBe(1);
  });

  it('an outer signal cancels the turn', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const ac = new AbortController();
    const t = right(await engine.startTurn('s', { signal: ac.signal }));
    ac.abort();
    await sleep(10);
    expect(t.signal.aborted).toBe(true);
    expect(engine.activeTurn('s')).toBeUndefined();
  });

  it('a start on a missing session frees the slot and reports SessionNotFound', async () => {
    const engine = await engineIn();
    expect(left(await engine.startTurn('ghost'))._tag).toBe('SessionNotFound');
    expect(engine.activeTurn('ghost')).toBeUndefined();
  });
});

describe('turn-end cleanup', () => {
  it('clears the overlay after an errored turn and after a cancelled turn', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    await expect(
      engine.runTurn('s', async (turn) => {
        right(await setOverlay(turn));
        expect((await load(engine)).toolVisibility.turnOverlay).toBeDefined();
        throw new Error('model call failed');
      }),
    ).rejects.toThrow('model call failed');
    expect((await load(engine)).toolVisibility.turnOverlay).toBeUndefined();

    const t = right(await engine.startTurn('s'));
    right(await setOverlay(t));
    expect((await load(engine)).toolVisibility.turnOverlay).toBeDefined();
    right(await engine.cancelTurn('s'));
    expect((await load(engine)).toolVisibility.turnOverlay).toBeUndefined();
    const log = right(await engine.store.log('s'));
    expect(log.filter((r) => r.command.type === 'tool_turn_overlay_cleared')).toHaveLength(2);
  });

  it('discards steer blocks and unapplied active-turn context in one append when the turn ends', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const t = right(await engine.startTurn('s'));
    right(await t.execute((s) => E.map((a: { session: Session }) => a.session)(s.stageSystemContext([steer('k1'), { content: { type: 'text', text: 'durable' }, idempotencyKey: 'k2' }]))));
    right(await t.applySystemContextBoundary());
    const prompt = (await load(engine)).messages[0];
    expect(prompt).toMatchObject({ role: 'system' });
    expect((prompt as { text: string }).text).toContain('steer k1');
    right(await t.execute((s) => E.map((a: { session: Session }) => a.session)(s.stageSystemContext([{ content: { type: 'text', text: 'only this turn' }, idempotencyKey: 'k3' }], { activeTurn: true }))));
    right(await setOverlay(t));
    const report = right(await t.release('completed'));
    expect(report).toMatchObject({ outcome: 'completed', overlayCleared: true, activeTurnContextDiscarded: 1, steer: { promptBlocksRemoved: 1, entriesRemoved: 1 }, skippedArchived: false });
    expect(report.records.map((r) => r.command.type)).toEqual(['system_context_active_turn_discarded', 'runtime_steer_context_discarded', 'tool_turn_overlay_cleared']);
    const s = await load(engine);
    expect((s.messages[0] as { text: string }).text).not.toContain('steer k1');
    expect((s.messages[0] as { text: string }).text).toContain('durable');
    expect(s.systemContext.pending).toEqual([]);
    expect(s.toolVisibility.turnOverlay).toBeUndefined();
    // a clean turn end writes nothing
    const quiet = right(await engine.runTurn('s', () => 'ok'));
    expect(quiet).toBe('ok');
    expect(right(await engine.store.load('s')).seq).toBe(s.seq);
  });

  it('writes nothing for an archived session and still frees the slot', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const t = right(await engine.startTurn('s'));
    right(await setOverlay(t));
    right(await t.append([{ type: 'session_archived' }]));
    const report = right(await t.release('completed'));
    expect(report.skippedArchived).toBe(true);
    expect(engine.activeTurn('s')).toBeUndefined();
    right(await engine.append('s', [{ type: 'session_revived' }]));
    right(await engine.startTurn('s'));
    expect((await load(engine)).toolVisibility.turnOverlay).toBeUndefined();
  });

  it('resumes a session left mid-turn: the overlay survives a close and is cleared before the next turn starts', async () => {
    const dir = tempDir();
    const first = await openEngine(dir);
    right(await first.create({ id: 's' }));
    const t = right(await first.startTurn('s'));
    right(await setOverlay(t));
    right(await first.close());
    expect(t.signal.aborted).toBe(true);
    expect(left(await t.release('completed'))._tag).toBe('EngineClosed');

    const second = await engineIn(dir);
    expect((await load(second)).toolVisibility.turnOverlay).toBeDefined();
    const before = (await load(second)).seq;
    const next = right(await second.startTurn('s'));
    const after = await load(second);
    expect(after.toolVisibility.turnOverlay).toBeUndefined();
    expect(after.seq).toBe(before + 1);
    expect(right(await second.store.log('s', { fromSeq: after.seq })).map((r) => r.command.type)).toEqual(['tool_turn_overlay_cleared']);
    right(await next.release('completed'));
  });
});
