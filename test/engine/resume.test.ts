/**
 * Resume after a crash cleans up like a turn end (machines.md §2.1 "a steer
 * serves one turn", §2.4 discarded active-turn context must not leak into a
 * later run; tool-visibility.md §8): a turn that never ended — the engine
 * closed mid-turn, or the process killed — leaves its active-turn steer and
 * overlay in the store; the next turn start records the whole turn-end cleanup
 * before anything else, so the next boundary renders no dead steer.
 */
import { spawn } from 'node:child_process';
import * as nodePath from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SessionEngine } from '../../src/engine/index.ts';
import type { Session } from '../../src/session/session.ts';
import { cleanupDirs, openEngine, right, tempDir } from './helpers.ts';

const open: SessionEngine[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});
afterAll(cleanupDirs);

const repo = nodePath.resolve(import.meta.dirname, '..', '..');
const load = async (engine: SessionEngine): Promise<Session> => right(await engine.store.load('s'));
const promptText = (s: Session): string => {
  const m = s.messages[0];
  return m !== undefined && m.role === 'system' ? m.text : '';
};

/** Runs the child (`fixtures/turn-child.ts`) until it staged, then SIGKILLs it. */
const crashMidTurn = (dir: string, mode: 'pending' | 'applied'): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', nodePath.join(import.meta.dirname, 'fixtures', 'turn-child.ts'), dir, mode], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('error')) reject(new Error(out));
      if (out.includes('staged\n')) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without being killed: ${out} ${err}`))));
  });

/** After reopening: the leftovers are there until a turn starts; the start records the cleanup first; the boundary renders no dead steer. */
const expectCleanResume = async (engine: SessionEngine, mode: 'pending' | 'applied'): Promise<void> => {
  const before = await load(engine);
  expect(before.toolVisibility.turnOverlay).toBeDefined();
  if (mode === 'pending') expect(before.state.systemContext.activeTurnPendingKeys).toEqual(['dead-steer']);
  else expect(promptText(before)).toContain('steer from the dead turn');

  const turn = right(await engine.startTurn('s'));
  const after = await load(engine);
  const cleanup = right(await engine.store.log('s', { fromSeq: before.seq + 1 })).map((r) => r.command.type);
  expect(cleanup).toEqual(mode === 'pending' ? ['system_context_active_turn_discarded', 'tool_turn_overlay_cleared'] : ['runtime_steer_context_discarded', 'tool_turn_overlay_cleared']);
  expect(after.state.systemContext.activeTurnPendingKeys).toEqual([]);
  expect(after.state.systemContext.pending).toEqual([]);
  expect(after.toolVisibility.turnOverlay).toBeUndefined();

  right(await turn.applySystemContextBoundary());
  const rendered = await load(engine);
  expect(promptText(rendered)).toBe('You are helpful.');
  expect(promptText(rendered)).not.toContain('dead turn');
  right(await turn.release('completed'));
};

describe('a turn start after a turn that never ended', () => {
  it('after an engine close mid-turn: runs the whole turn-end cleanup as records before the new turn', async () => {
    const dir = tempDir();
    const first = await openEngine(dir);
    right(await first.create({ id: 's' }));
    right(await first.append('s', [{ type: 'system_prompt_set', prompt: 'You are helpful.' }]));
    const t = right(await first.startTurn('s'));
    const steer = { content: { type: 'text', text: 'steer from the dead turn' }, source: 'operator', idempotencyKey: 'dead-steer', sourceKind: 'runtime_steer' };
    right(await t.append([{ type: 'system_context_staged', appends: [steer], activeTurn: true }]));
    const core = { kind: 'builtin', sourceId: 'core' };
    const catalog = { tools: ['read_file', 'shell'].map((name) => ({ name, description: name, inputSchema: {}, provenance: core })), controlNames: [], deferredNames: [] };
    right(await t.execute((s) => s.setTurnToolOverlay({ deny: ['shell'], activate: [] }, catalog)));
    right(await first.close());

    const second = await openEngine(dir);
    open.push(second);
    await expectCleanResume(second, 'pending');
  });

  it.each(['pending', 'applied'] as const)('after the process is killed mid-turn (steer %s)', async (mode) => {
    const dir = tempDir();
    await crashMidTurn(dir, mode);
    const engine = await openEngine(dir);
    open.push(engine);
    await expectCleanResume(engine, mode);
  }, 60_000);

  it('a session whose last turn ended cleanly gets no cleanup records at the next start, and a steer staged between turns is kept', async () => {
    const dir = tempDir();
    const engine = await openEngine(dir);
    open.push(engine);
    right(await engine.create({ id: 's' }));
    const t = right(await engine.startTurn('s'));
    right(await t.release('completed'));
    const between = { content: { type: 'text', text: 'steer for the next turn' }, source: 'operator', idempotencyKey: 'next', sourceKind: 'runtime_steer' };
    right(await engine.append('s', [{ type: 'system_context_staged', appends: [between], activeTurn: false }]));
    const seq = (await load(engine)).seq;
    const next = right(await engine.startTurn('s'));
    expect((await load(engine)).seq).toBe(seq);
    expect((await load(engine)).state.systemContext.pending).toHaveLength(1);
    right(await next.release('completed'));
  });
});
