import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import {
  SYSTEM_CONTEXT_LABEL,
  SYSTEM_CONTEXT_SEPARATOR,
  SystemContextCommandCodec,
  appendsMatch,
  initialSystemContext,
  normalizeAppendRequests,
  renderBlock,
  renderText,
  restoreSystemContext,
  stepSystemContext,
  systemContextCommandCodecs,
  type SystemContextAppend,
  type SystemContextAppendRequest,
  type SystemContextCommand,
  type SystemContextCommandType,
  type SystemContextError,
  type SystemContextOutput,
  type SystemContextResults,
  type SystemContextState,
} from '../../src/machines/systemContext.ts';
import type { StepResult } from '../../src/machines/common.ts';

const ctx = (at: number) => ({ sessionId: 's-1', seq: at, at });

/** Decodes like the session (normalizing staging requests first) and steps. */
const run = <T extends SystemContextCommandType>(
  state: SystemContextState,
  u: { readonly type: T } & Record<string, unknown>,
  at: number,
  systemPrompt?: string,
): E.Either<SystemContextError, StepResult<SystemContextState, SystemContextOutput<SystemContextResults[T]>>> => {
  const raw = u['type'] === 'system_context_staged' ? { activeTurn: false, ...u, appends: normalizeAppendRequests(u['appends'] as SystemContextAppendRequest[]) } : u;
  const cmd = decodeWith(SystemContextCommandCodec, raw);
  if (E.isLeft(cmd)) throw new Error(cmd.left.message);
  return stepSystemContext(state, cmd.right as SystemContextCommand, ctx(at), { systemPrompt }) as never;
};
const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};
const left = (r: E.Either<unknown, unknown>): { _tag: string } & Record<string, unknown> => {
  if (E.isRight(r)) throw new Error(`expected Right to be Left: ${JSON.stringify(r.right)}`);
  return r.left as { _tag: string } & Record<string, unknown>;
};
const txt = (text: string) => ({ type: 'text' as const, text });
const stage = (state: SystemContextState, appends: SystemContextAppendRequest[], at: number, activeTurn = false) =>
  run(state, { type: 'system_context_staged', appends, activeTurn }, at);
const staged = (state: SystemContextState, appends: SystemContextAppendRequest[], at: number, activeTurn = false) => right(stage(state, appends, at, activeTurn)).state;
const restorable = (s: SystemContextState) => expect(E.isRight(restoreSystemContext(JSON.parse(JSON.stringify(s))))).toBe(true);

describe('rendering', () => {
  it('renderText: text as is, JSON with keys sorted recursively and two-space indentation', () => {
    expect(renderText(txt('  hello '))).toBe('  hello ');
    expect(renderText({ type: 'json', value: { b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, '10': [], '9': {} } })).toBe(
      '{\n  "10": [],\n  "9": {},\n  "a": {\n    "c": "x",\n    "d": [\n      1,\n      {\n        "y": null,\n        "z": true\n      }\n    ]\n  },\n  "b": 1\n}',
    );
    expect(renderText({ type: 'json', value: 'a\nb' })).toBe('"a\\nb"');
    expect(renderText({ type: 'json', value: [] })).toBe('[]');
  });

  it('renderBlock: label, optional source line, blank line, trimmed text', () => {
    expect(renderBlock({ content: txt('  disk 91% full\n') })).toBe(`${SYSTEM_CONTEXT_LABEL}\n\ndisk 91% full`);
    expect(renderBlock({ content: txt('x'), source: 'monitor/disk' })).toBe('[Session Context]\nsource: monitor/disk\n\nx');
  });

  it('appendsMatch compares content, source and sourceKind', () => {
    const a = { content: { type: 'json' as const, value: { a: 1, b: 2 } }, sourceKind: 'normal' as const };
    expect(appendsMatch(a, { content: { type: 'json', value: { b: 2, a: 1 } }, sourceKind: 'normal' })).toBe(true);
    expect(appendsMatch(a, { ...a, source: 'x' })).toBe(false);
    expect(appendsMatch(a, { ...a, sourceKind: 'runtime_steer' })).toBe(false);
    expect(appendsMatch({ content: txt('1'), sourceKind: 'normal' }, { content: { type: 'json', value: 1 }, sourceKind: 'normal' })).toBe(false);
  });

  it('normalizeAppendRequests makes sourceKind explicit and the command codec requires it', () => {
    expect(normalizeAppendRequests([{ content: txt('a') }, { content: txt('b'), sourceKind: 'runtime_steer' }])).toEqual([
      { content: txt('a'), sourceKind: 'normal' },
      { content: txt('b'), sourceKind: 'runtime_steer' },
    ]);
    const c = systemContextCommandCodecs.system_context_staged;
    expect(E.isLeft(decodeWith(c, { type: 'system_context_staged', appends: [{ content: txt('a') }], activeTurn: false }))).toBe(true);
    expect(E.isLeft(decodeWith(c, { type: 'system_context_staged', appends: [], activeTurn: false, extra: 1 }))).toBe(true);
    expect(E.isLeft(decodeWith(c, { type: 'system_context_staged', appends: [] }))).toBe(true);
    expect(normalizeAppendRequests('nope' as never)).toBe('nope');
  });
});

describe('staging (§7 items 11–13)', () => {
  it('unkeyed and keyed appends stage; a repeated key is duplicate and inert; other content or sourceKind conflicts', () => {
    const a = right(stage(initialSystemContext, [{ content: txt('peer "builder" replied: tests green') }], 10));
    expect(a.result.result).toEqual(['staged']);
    expect(a.state.pending).toEqual([{ content: txt('peer "builder" replied: tests green'), sourceKind: 'normal', acceptedAt: 10 }]);
    expect(a.state.seen).toEqual([]);

    const b = right(stage(a.state, [{ content: txt('deploy window opens 14:00'), source: 'ops', idempotencyKey: 'deploy-window' }], 11));
    expect(b.result.result).toEqual(['staged']);
    expect(b.state.seen).toEqual([{ idempotencyKey: 'deploy-window', content: txt('deploy window opens 14:00'), source: 'ops', sourceKind: 'normal', state: 'pending' }]);

    const dup = right(stage(b.state, [{ content: txt('deploy window opens 14:00'), source: 'ops', idempotencyKey: 'deploy-window' }], 12));
    expect(dup.result.result).toEqual(['duplicate']);
    expect(dup.state).toBe(b.state);
    expect(dup.result.systemPrompt).toBeUndefined();

    const c1 = left(stage(b.state, [{ content: txt('deploy window opens 15:00'), source: 'ops', idempotencyKey: 'deploy-window' }], 13));
    expect(c1).toMatchObject({ _tag: 'SystemContextConflict', index: 0, idempotencyKey: 'deploy-window', existingText: 'deploy window opens 14:00', existingSource: 'ops' });
    const c2 = left(stage(b.state, [{ content: txt('deploy window opens 14:00'), source: 'ops', idempotencyKey: 'deploy-window', sourceKind: 'runtime_steer' }], 13));
    expect(c2._tag).toBe('SystemContextConflict');
    const c3 = left(stage(b.state, [{ content: txt('deploy window opens 14:00'), idempotencyKey: 'deploy-window' }], 13));
    expect(c3._tag).toBe('SystemContextConflict');
    restorable(b.state);
  });

  it('refuses blank text, a multi-line source, text containing the separator, and a keyless active-turn append', () => {
    expect(left(stage(initialSystemContext, [{ content: txt('ok') }, { content: txt(' \n ') }], 1))).toMatchObject({ _tag: 'SystemContextEmpty', index: 1 });
    expect(left(stage(initialSystemContext, [{ content: txt('x'), source: 'monitor\ndisk' }], 1))).toMatchObject({ _tag: 'SystemContextInvalid', index: 0, reason: 'source_line_break' });
    expect(left(stage(initialSystemContext, [{ content: txt('x'), source: '' }], 1))).toMatchObject({ _tag: 'SystemContextInvalid', reason: 'source_empty' });
    expect(left(stage(initialSystemContext, [{ content: txt('x'), idempotencyKey: '' }], 1))).toMatchObject({ _tag: 'SystemContextInvalid', reason: 'idempotency_key_empty' });
    expect(left(stage(initialSystemContext, [{ content: txt('ok') }, { content: txt(`a${SYSTEM_CONTEXT_SEPARATOR}b`) }], 1))).toMatchObject({
      _tag: 'SystemContextInvalid',
      index: 1,
      reason: 'contains_separator',
    });
    // A leading "---" line would fuse with the label's blank line into a separator; a trailing one with the next separator.
    expect(left(stage(initialSystemContext, [{ content: txt('---\n\nnotes') }], 1))).toMatchObject({ reason: 'contains_separator' });
    expect(left(stage(initialSystemContext, [{ content: txt('notes\n\n---') }], 1))).toMatchObject({ reason: 'contains_separator' });
    expect(left(stage(initialSystemContext, [{ content: txt('x'), idempotencyKey: 'k' }, { content: txt('y') }], 1, true))).toMatchObject({
      _tag: 'SystemContextInvalid',
      index: 1,
      reason: 'active_turn_requires_key',
    });
  });

  it('the JSON empty string renders as "" and is not blank', () => {
    expect(right(stage(initialSystemContext, [{ content: { type: 'json', value: '' } }], 1)).result.result).toEqual(['staged']);
  });

  it('a batch whose third request conflicts stages nothing; a key repeated in one batch is duplicate', () => {
    const base = staged(initialSystemContext, [{ content: txt('ci is red'), idempotencyKey: 'ci' }], 1);
    const e = left(
      stage(
        base,
        [
          { content: txt('first'), idempotencyKey: 'a' },
          { content: txt('second') },
          { content: txt('ci is green'), idempotencyKey: 'ci' },
        ],
        2,
      ),
    );
    expect(e).toMatchObject({ _tag: 'SystemContextConflict', index: 2, idempotencyKey: 'ci', existingText: 'ci is red' });
    expect('existingSource' in e).toBe(false);
    const r = right(stage(base, [{ content: txt('x'), idempotencyKey: 'b' }, { content: txt('x'), idempotencyKey: 'b' }], 3));
    expect(r.result.result).toEqual(['staged', 'duplicate']);
    expect(r.state.pending).toHaveLength(2);
    const r2 = left(stage(base, [{ content: txt('x'), idempotencyKey: 'b' }, { content: txt('y'), idempotencyKey: 'b' }], 3));
    expect(r2).toMatchObject({ _tag: 'SystemContextConflict', index: 1, existingText: 'x' });
  });
});

describe('marking applied and discarding (§7 items 14–15)', () => {
  it('promotes normal appends, drops steers and their keys, empties pending and active keys', () => {
    let s = staged(initialSystemContext, [{ content: txt('normal keyed'), idempotencyKey: 'n1' }, { content: txt('normal unkeyed') }], 1, false);
    s = staged(s, [{ content: txt('focus on the failing test'), source: 'operator', idempotencyKey: 'steer-1', sourceKind: 'runtime_steer' }], 2, true);
    s = staged(s, [{ content: { type: 'json', value: { disk: { used: 0.91, mount: '/' }, alerts: [1, 2] } }, idempotencyKey: 'j' }], 3);
    expect(s.activeTurnPendingKeys).toEqual(['steer-1']);
    const r = right(run(s, { type: 'system_context_marked_applied' }, 4));
    expect(r.result.result).toBe(s.pending);
    expect(r.state.pending).toEqual([]);
    expect(r.state.activeTurnPendingKeys).toEqual([]);
    expect(r.state.applied.map((a) => renderText(a.content))).toEqual(['normal keyed', 'normal unkeyed', renderText({ type: 'json', value: { alerts: [1, 2], disk: { mount: '/', used: 0.91 } } })]);
    expect(r.state.seen).toEqual([
      { idempotencyKey: 'j', content: { type: 'json', value: { disk: { used: 0.91, mount: '/' }, alerts: [1, 2] } }, sourceKind: 'normal', state: 'applied' },
      { idempotencyKey: 'n1', content: txt('normal keyed'), sourceKind: 'normal', state: 'applied' },
    ]);
    // The JSON value keeps its type through staging and application.
    expect(r.state.applied[2]?.content).toEqual({ type: 'json', value: { disk: { used: 0.91, mount: '/' }, alerts: [1, 2] } });
    restorable(r.state);
    // Nothing pending: inert.
    expect(right(run(r.state, { type: 'system_context_marked_applied' }, 5)).state).toBe(r.state);
    // A steer key is free again after marking.
    expect(right(stage(r.state, [{ content: txt('another steer'), idempotencyKey: 'steer-1', sourceKind: 'runtime_steer' }], 6)).result.result).toEqual(['staged']);
  });

  it('discarding all active-turn appends removes only those and frees their keys', () => {
    let s = staged(initialSystemContext, [{ content: txt('durable'), idempotencyKey: 'keep' }], 1);
    s = staged(s, [{ content: txt('turn-a'), idempotencyKey: 'a' }, { content: txt('turn-b'), idempotencyKey: 'b' }], 2, true);
    const r = right(run(s, { type: 'system_context_active_turn_discarded' }, 3));
    expect(r.result.result.map((a) => a.idempotencyKey)).toEqual(['a', 'b']);
    expect(r.state.pending.map((a) => a.idempotencyKey)).toEqual(['keep']);
    expect(r.state.seen.map((x) => x.idempotencyKey)).toEqual(['keep']);
    expect(r.state.activeTurnPendingKeys).toEqual([]);
    restorable(r.state);
    expect(right(stage(r.state, [{ content: txt('turn-a, different'), idempotencyKey: 'a' }], 4)).result.result).toEqual(['staged']);
    expect(right(run(r.state, { type: 'system_context_active_turn_discarded' }, 5)).state).toBe(r.state);
  });

  it('discarding one key of two leaves the other pending and active; unknown keys are ignored', () => {
    const s = staged(initialSystemContext, [{ content: txt('turn-a'), idempotencyKey: 'a' }, { content: txt('turn-b'), idempotencyKey: 'b' }], 2, true);
    const r = right(run(s, { type: 'system_context_active_turn_discarded', keys: ['b', 'zzz'] }, 3));
    expect(r.result.result.map((a) => a.idempotencyKey)).toEqual(['b']);
    expect(r.state.pending.map((a) => a.idempotencyKey)).toEqual(['a']);
    expect(r.state.activeTurnPendingKeys).toEqual(['a']);
    expect(r.state.seen.map((x) => x.idempotencyKey)).toEqual(['a']);
    restorable(r.state);
    expect(right(run(r.state, { type: 'system_context_active_turn_discarded', keys: ['zzz'] }, 4)).state).toBe(r.state);
  });

  it('a key already rendered stays remembered when its active-turn append is discarded', () => {
    const s = staged(initialSystemContext, [{ content: txt('turn-a'), idempotencyKey: 'a' }], 1, true);
    const rendered = right(run(s, { type: 'system_context_blocks_appended', appends: s.pending }, 2));
    const r = right(run(rendered.state, { type: 'system_context_active_turn_discarded' }, 3));
    expect(r.state.pending).toEqual([]);
    expect(r.state.seen).toMatchObject([{ idempotencyKey: 'a', state: 'applied' }]);
    restorable(r.state);
  });
});

describe('rendering into the system prompt (§7 items 16–18)', () => {
  const disk: SystemContextAppend = { content: txt('disk /var is 91% full'), source: 'monitor/disk', sourceKind: 'normal', acceptedAt: 5 };
  const peer: SystemContextAppend = { content: txt('peer reviewer approved PR 12'), idempotencyKey: 'pr-12', sourceKind: 'normal', acceptedAt: 6 };

  it('creates the prompt when there is none, then joins with the separator', () => {
    const a = right(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [disk] }, 10, undefined));
    expect(a.result.result).toEqual(['rendered']);
    expect(a.result.systemPrompt).toBe('[Session Context]\nsource: monitor/disk\n\ndisk /var is 91% full');
    expect(a.state.applied).toEqual([disk]);
    const b = right(run(a.state, { type: 'system_context_blocks_appended', appends: [peer] }, 11, a.result.systemPrompt));
    expect(b.result.systemPrompt).toBe('[Session Context]\nsource: monitor/disk\n\ndisk /var is 91% full\n\n---\n\n[Session Context]\n\npeer reviewer approved PR 12');
    expect(b.state.seen).toEqual([{ idempotencyKey: 'pr-12', content: peer.content, sourceKind: 'normal', state: 'applied' }]);
    restorable(b.state);
    // Joined after an existing base prompt.
    const c = right(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [peer] }, 12, 'You are a release assistant.'));
    expect(c.result.systemPrompt).toBe(`You are a release assistant.${SYSTEM_CONTEXT_SEPARATOR}[Session Context]\n\npeer reviewer approved PR 12`);
    // An empty system message counts as no segments.
    expect(right(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [peer] }, 12, '')).result.systemPrompt).toBe(
      '[Session Context]\n\npeer reviewer approved PR 12',
    );
  });

  it('re-applying changes nothing; conflicts never reach the prompt; a block already present is recorded, not rendered twice', () => {
    const a = right(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [disk, peer] }, 10, 'Base.'));
    const prompt = a.result.systemPrompt!;
    const again = right(run(a.state, { type: 'system_context_blocks_appended', appends: [disk, peer] }, 11, prompt));
    expect(again.result.result).toEqual(['already_present', 'already_present']);
    expect(again.state).toBe(a.state);
    expect(again.result.systemPrompt).toBeUndefined();

    const conflicting: SystemContextAppend = { ...peer, content: txt('peer reviewer REJECTED PR 12'), acceptedAt: 12 };
    const c = right(run(a.state, { type: 'system_context_blocks_appended', appends: [conflicting, { ...disk, content: txt('   ') }] }, 12, prompt));
    expect(c.result.result).toEqual(['conflict', 'empty']);
    expect(c.state).toBe(a.state);
    expect(c.result.systemPrompt).toBeUndefined();

    // In a fork the prompt text carries the block but the machine state is empty.
    const fork = right(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [peer, disk] }, 13, prompt));
    expect(fork.result.result).toEqual(['already_present', 'already_present']);
    expect(fork.result.systemPrompt).toBeUndefined();
    expect(fork.state.applied).toEqual([peer, disk]);
    expect(fork.state.seen.map((x) => x.state)).toEqual(['applied']);

    // Within one command: same key twice is duplicate / conflict; the same unkeyed block twice is duplicate.
    const within = right(
      run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [peer, { ...peer, acceptedAt: 99 }, disk, { ...disk, acceptedAt: 100 }] }, 14, undefined),
    );
    expect(within.result.result).toEqual(['rendered', 'duplicate', 'rendered', 'duplicate']);
    expect(within.result.systemPrompt?.split(SYSTEM_CONTEXT_SEPARATOR)).toHaveLength(2);
  });

  it('two keys with the same block render it once', () => {
    const other: SystemContextAppend = { ...peer, idempotencyKey: 'pr-12-copy' };
    const r = right(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [peer, other] }, 1, undefined));
    expect(r.result.result).toEqual(['rendered', 'already_present']);
    expect(r.state.applied).toHaveLength(2);
  });

  it('malformed appends fail the command', () => {
    expect(left(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [disk, { ...disk, source: 'a\rb' }] }, 1, undefined))).toMatchObject({
      _tag: 'SystemContextInvalid',
      index: 1,
      reason: 'source_line_break',
    });
  });

  it('the boundary command renders pending context and marks it applied in one step', () => {
    let s = staged(initialSystemContext, [{ content: txt('ci is green'), idempotencyKey: 'ci', source: 'ci' }], 1);
    s = staged(s, [{ content: txt('answer tersely'), source: 'operator', idempotencyKey: 'st', sourceKind: 'runtime_steer' }], 2, true);
    const r = right(run(s, { type: 'system_context_boundary' }, 3, 'Base.'));
    expect(r.result.result.dispositions).toEqual(['rendered', 'rendered']);
    expect(r.result.result.appends).toBe(s.pending);
    expect(r.result.systemPrompt).toBe(['Base.', '[Session Context]\nsource: ci\n\nci is green', '[Session Context]\nsource: operator\n\nanswer tersely'].join(SYSTEM_CONTEXT_SEPARATOR));
    expect(r.state.pending).toEqual([]);
    expect(r.state.activeTurnPendingKeys).toEqual([]);
    expect(r.state.seen).toEqual([{ idempotencyKey: 'ci', content: txt('ci is green'), source: 'ci', sourceKind: 'normal', state: 'applied' }]);
    // The steer is recorded in `applied` so cleanup can find its block.
    expect(r.state.applied.map((a) => a.sourceKind)).toEqual(['normal', 'runtime_steer']);
    restorable(r.state);
    // Nothing pending: inert.
    const idle = right(run(r.state, { type: 'system_context_boundary' }, 4, r.result.systemPrompt));
    expect(idle.state).toBe(r.state);
    expect(idle.result.systemPrompt).toBeUndefined();
    expect(idle.result.result).toEqual({ dispositions: [], appends: [] });
  });
});

describe('steer cleanup (§7 item 19)', () => {
  it('removes steer blocks, keeps a normal block with the same source, leaves no steer entry; a second run is inert', () => {
    let s = staged(initialSystemContext, [{ content: txt('release branch is frozen'), source: 'operator', idempotencyKey: 'freeze' }], 1);
    s = staged(s, [{ content: txt('skip the flaky test this turn'), source: 'operator', idempotencyKey: 'steer', sourceKind: 'runtime_steer' }], 2, true);
    const b = right(run(s, { type: 'system_context_boundary' }, 3, 'Base.'));
    s = b.state;
    let prompt = b.result.systemPrompt!;
    // A steer staged after the boundary (pending) also counts.
    s = staged(s, [{ content: txt('and be brief'), sourceKind: 'runtime_steer', idempotencyKey: 'steer-2' }], 4, true);
    const r = right(run(s, { type: 'runtime_steer_context_discarded' }, 5, prompt));
    expect(r.result.result).toEqual({ promptBlocksRemoved: 1, entriesRemoved: 2 });
    prompt = r.result.systemPrompt!;
    expect(prompt).toBe(`Base.${SYSTEM_CONTEXT_SEPARATOR}[Session Context]\nsource: operator\n\nrelease branch is frozen`);
    expect([...r.state.pending, ...r.state.applied, ...r.state.seen].some((x) => x.sourceKind === 'runtime_steer')).toBe(false);
    expect(r.state.activeTurnPendingKeys).toEqual([]);
    restorable(r.state);
    const again = right(run(r.state, { type: 'runtime_steer_context_discarded' }, 6, prompt));
    expect(again.state).toBe(r.state);
    expect(again.result).toEqual({ result: { promptBlocksRemoved: 0, entriesRemoved: 0 } });
  });

  it('a prompt of only steer blocks becomes "" (the message stays)', () => {
    const s = staged(initialSystemContext, [{ content: txt('steer'), sourceKind: 'runtime_steer' }], 1);
    const b = right(run(s, { type: 'system_context_boundary' }, 2, undefined));
    const r = right(run(b.state, { type: 'runtime_steer_context_discarded' }, 3, b.result.systemPrompt));
    expect(r.result.systemPrompt).toBe('');
    expect(r.state).toEqual(initialSystemContext);
  });

  it('keeps a block that is also the block of a durable (normal, applied) entry', () => {
    const steer: SystemContextAppend = { content: txt('same words'), source: 'op', sourceKind: 'runtime_steer', acceptedAt: 1 };
    const normal: SystemContextAppend = { content: txt('same words'), source: 'op', sourceKind: 'normal', acceptedAt: 2 };
    const a = right(run(initialSystemContext, { type: 'system_context_blocks_appended', appends: [steer, normal] }, 3, undefined));
    expect(a.result.result).toEqual(['rendered', 'duplicate']);
    const b = right(run(a.state, { type: 'system_context_blocks_appended', appends: [normal] }, 4, a.result.systemPrompt));
    expect(b.result.result).toEqual(['already_present']);
    const r = right(run(b.state, { type: 'runtime_steer_context_discarded' }, 5, a.result.systemPrompt));
    expect(r.result.result).toEqual({ promptBlocksRemoved: 0, entriesRemoved: 1 });
    expect(r.result.systemPrompt).toBeUndefined();
    expect(r.state.applied).toEqual([normal]);
  });

  it('a key applied as a steer cannot be restaged with other content until cleanup', () => {
    let s = staged(initialSystemContext, [{ content: txt('steer v1'), idempotencyKey: 'k', sourceKind: 'runtime_steer' }], 1);
    const b = right(run(s, { type: 'system_context_boundary' }, 2, undefined));
    s = b.state;
    expect(s.seen).toEqual([]);
    expect(left(stage(s, [{ content: txt('normal now'), idempotencyKey: 'k' }], 3))).toMatchObject({ _tag: 'SystemContextConflict', existingText: 'steer v1' });
    const c = right(run(s, { type: 'runtime_steer_context_discarded' }, 4, b.result.systemPrompt));
    expect(right(stage(c.state, [{ content: txt('normal now'), idempotencyKey: 'k' }], 5)).result.result).toEqual(['staged']);
  });
});

describe('restore (§2.7, §7 item 20)', () => {
  const a = (key: string | undefined, text: string, extra: Partial<SystemContextAppend> = {}): SystemContextAppend => ({
    content: txt(text),
    ...(key === undefined ? {} : { idempotencyKey: key }),
    sourceKind: 'normal',
    acceptedAt: 1,
    ...extra,
  });
  const seen = (key: string, text: string, state: 'pending' | 'applied' = 'pending') => ({ idempotencyKey: key, content: txt(text), sourceKind: 'normal', state });
  const ok = (u: unknown) => expect(E.isRight(restoreSystemContext(u))).toBe(true);
  const reject = (u: unknown, pattern?: RegExp) => {
    const e = left(restoreSystemContext(u));
    expect(e).toMatchObject({ _tag: 'MachineStateInvalid', machine: 'systemContext' });
    if (pattern) expect(String(e['reason'])).toMatch(pattern);
  };

  it('accepts the initial state and a consistent one', () => {
    ok({ pending: [], applied: [], seen: [], activeTurnPendingKeys: [] });
    ok({ pending: [a('k', 'x')], applied: [a('j', 'y')], seen: [seen('j', 'y', 'applied'), seen('k', 'x')], activeTurnPendingKeys: ['k'] });
  });

  it('rejects an active key without pending append, a seen entry whose content differs, duplicate keys', () => {
    reject({ pending: [], applied: [], seen: [], activeTurnPendingKeys: ['k'] }, /active key/);
    reject({ pending: [a('k', 'x')], applied: [], seen: [seen('k', 'other')], activeTurnPendingKeys: [] }, /matching seen/);
    reject({ pending: [], applied: [a('k', 'x')], seen: [seen('k', 'other', 'applied')], activeTurnPendingKeys: [] }, /matches no/);
    reject({ pending: [a('k', 'x'), a('k', 'x')], applied: [], seen: [seen('k', 'x')], activeTurnPendingKeys: [] }, /more than once/);
    reject({ pending: [], applied: [a('k', 'x'), a('k', 'x')], seen: [], activeTurnPendingKeys: [] }, /more than once/);
    reject({ pending: [a('k', 'x')], applied: [], seen: [seen('k', 'x'), seen('k', 'x')], activeTurnPendingKeys: [] }, /sorted/);
    reject({ pending: [a('a', 'x'), a('b', 'y')], applied: [], seen: [seen('b', 'y'), seen('a', 'x')], activeTurnPendingKeys: [] }, /sorted/);
    reject({ pending: [a('a', 'x'), a('b', 'y')], applied: [], seen: [seen('a', 'x'), seen('b', 'y')], activeTurnPendingKeys: ['b', 'a'] }, /sorted/);
    reject({ pending: [a('a', 'x')], applied: [], seen: [seen('a', 'x')], activeTurnPendingKeys: ['a', 'a'] }, /sorted/);
  });

  it('rejects malformed entries and shapes', () => {
    reject({ pending: [a(undefined, '  ')], applied: [], seen: [], activeTurnPendingKeys: [] }, /no text/);
    reject({ pending: [a(undefined, `x${SYSTEM_CONTEXT_SEPARATOR}y`)], applied: [], seen: [], activeTurnPendingKeys: [] }, /separator/);
    reject({ pending: [a(undefined, 'x', { source: 'a\nb' })], applied: [], seen: [], activeTurnPendingKeys: [] }, /line break/);
    reject({ pending: [a(undefined, 'x', { acceptedAt: -1 })], applied: [], seen: [], activeTurnPendingKeys: [] });
    reject({ pending: [a('k', 'x')], applied: [], seen: [], activeTurnPendingKeys: [] }, /matching seen/);
    reject({ pending: [], applied: [], seen: [] });
    reject({ pending: [], applied: [], seen: [], activeTurnPendingKeys: [], extra: 1 });
    reject('{}');
  });
});
