import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import type { ContentBlock, ToolResult } from '../../src/model/content.ts';
import {
  DeferredTurnCommandCodec,
  commitTurnStart,
  deferredTurnCommandCodecs,
  firstTurnOverridesAllowed,
  initialDeferredTurn,
  promptHasContent,
  restoreDeferredTurn,
  stepDeferredTurn,
  type DeferredTurnCommand,
  type DeferredTurnCommandType,
  type DeferredTurnError,
  type DeferredTurnResults,
  type DeferredTurnState,
} from '../../src/machines/deferredTurn.ts';
import type { StepResult } from '../../src/machines/common.ts';

const ctx = (seq: number, at = 1_000 + seq) => ({ sessionId: 's-1', seq, at });
const noMessages = { hasConversationMessages: false };

/** Decodes `u` as a command (as the session does) and steps; throws on a decode failure. */
const run = <T extends DeferredTurnCommandType>(
  state: DeferredTurnState,
  u: { readonly type: T } & Record<string, unknown>,
  seq: number,
  view = noMessages,
): E.Either<DeferredTurnError, StepResult<DeferredTurnState, DeferredTurnResults[T]>> => {
  const cmd = decodeWith(DeferredTurnCommandCodec, u);
  if (E.isLeft(cmd)) throw new Error(cmd.left.message);
  return stepDeferredTurn(state, cmd.right as DeferredTurnCommand, ctx(seq), view) as never;
};
const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};
const left = (r: E.Either<unknown, unknown>): { _tag: string } & Record<string, unknown> => {
  if (E.isRight(r)) throw new Error(`expected Left, got ${JSON.stringify(r.right)}`);
  return r.left as { _tag: string } & Record<string, unknown>;
};

const text = (t: string): ContentBlock => ({ type: 'text', text: t });
const image: ContentBlock = { type: 'image', mediaType: 'image/png', source: { type: 'inline', data: 'iVBORw0KGgo=' } };
const result = (id: string): ToolResult => ({ toolUseId: id, content: [text(`output of ${id}`)], isError: false });

const pending = (): DeferredTurnState => right(run(initialDeferredTurn, { type: 'first_turn_deferred' }, 1)).state;

describe('deferred first turn: deferral (§7 items 1–2)', () => {
  it('starts inactive; deferring gives pending; deferring again is inert', () => {
    expect(initialDeferredTurn).toEqual({ phase: 'inactive', toolResults: [] });
    const s1 = pending();
    expect(s1.phase).toBe('pending');
    const again = right(run(s1, { type: 'first_turn_deferred' }, 2));
    expect(again.state).toBe(s1);
  });

  it('once the deferred turn starts, deferring is inert and the phase stays consumed', () => {
    const started = right(run(pending(), { type: 'turn_started' }, 2)).state;
    expect(started.phase).toBe('consumed');
    const r = right(run(started, { type: 'first_turn_deferred' }, 3, { hasConversationMessages: true }));
    expect(r.state).toBe(started);
    expect(r.state.phase).toBe('consumed');
  });

  it('deferring fails once the transcript holds a conversation message', () => {
    const e = left(run(initialDeferredTurn, { type: 'first_turn_deferred' }, 3, { hasConversationMessages: true }));
    expect(e._tag).toBe('FirstTurnAlreadyStarted');
    expect(typeof e['message']).toBe('string');
  });

  it('a transcript with only a system prompt and a notice may be deferred (the view says no conversation)', () => {
    expect(right(run(initialDeferredTurn, { type: 'first_turn_deferred' }, 3, { hasConversationMessages: false })).state.phase).toBe('pending');
  });
});

describe('deferred first turn: initial prompt (§7 items 3–4)', () => {
  it('stores, replaces, clears on whitespace, and stores an image-only prompt', () => {
    const s1 = pending();
    const a = right(run(s1, { type: 'initial_prompt_staged', prompt: [text('draft the release notes')] }, 2));
    expect(a.result).toBe('stored');
    expect(a.state.initialPrompt).toEqual({ prompt: [text('draft the release notes')], acceptedAt: 1002 });

    const b = right(run(a.state, { type: 'initial_prompt_staged', prompt: [text('summarize the changelog instead')] }, 3));
    expect(b.result).toBe('stored');
    expect(b.state.initialPrompt).toEqual({ prompt: [text('summarize the changelog instead')], acceptedAt: 1003 });

    const c = right(run(b.state, { type: 'initial_prompt_staged', prompt: [text('  \n\t ')] }, 4));
    expect(c.result).toBe('cleared');
    expect(c.state.initialPrompt).toBeUndefined();
    expect('initialPrompt' in c.state).toBe(false);
    expect(c.state.phase).toBe('pending');

    const again = right(run(c.state, { type: 'initial_prompt_staged', prompt: [] }, 5));
    expect(again.result).toBe('cleared');
    expect(again.state).toBe(c.state);

    const d = right(run(c.state, { type: 'initial_prompt_staged', prompt: [image] }, 6));
    expect(d.result).toBe('stored');
    expect(d.state.initialPrompt?.prompt).toEqual([image]);
  });

  it('a non-empty prompt outside pending fails with no change; an empty one is inert and cleared', () => {
    const e1 = left(run(initialDeferredTurn, { type: 'initial_prompt_staged', prompt: [text('hello')] }, 2));
    expect(e1).toMatchObject({ _tag: 'FirstTurnNotPending', phase: 'inactive' });
    const consumed = right(run(pending(), { type: 'turn_started' }, 2)).state;
    const e2 = left(run(consumed, { type: 'initial_prompt_staged', prompt: [{ type: 'structured', data: { a: 1 } }] }, 3));
    expect(e2).toMatchObject({ _tag: 'FirstTurnNotPending', phase: 'consumed' });
    for (const s of [initialDeferredTurn, consumed]) {
      const r = right(run(s, { type: 'initial_prompt_staged', prompt: [text(' ')] }, 4));
      expect(r.result).toBe('cleared');
      expect(r.state).toBe(s);
    }
  });

  it('promptHasContent: image, structured or non-blank text', () => {
    expect(promptHasContent([])).toBe(false);
    expect(promptHasContent([text(''), text(' \n')])).toBe(false);
    expect(promptHasContent([text(' x ')])).toBe(true);
    expect(promptHasContent([image])).toBe(true);
    expect(promptHasContent([{ type: 'structured', data: null }])).toBe(true);
  });
});

describe('deferred first turn: tool results (§7 item 5)', () => {
  it('batches of 2 then 1 queue in order with their times; an empty batch reports 0 and is inert', () => {
    const a = right(run(initialDeferredTurn, { type: 'tool_results_staged', results: [result('call_1'), result('call_2')] }, 2));
    expect(a.result).toEqual({ accepted: 2 });
    const b = right(run(a.state, { type: 'tool_results_staged', results: [result('call_3')] }, 3));
    expect(b.result).toEqual({ accepted: 1 });
    expect(b.state.toolResults).toEqual([
      { results: [result('call_1'), result('call_2')], acceptedAt: 1002 },
      { results: [result('call_3')], acceptedAt: 1003 },
    ]);
    const c = right(run(b.state, { type: 'tool_results_staged', results: [] }, 4));
    expect(c.result).toEqual({ accepted: 0 });
    expect(c.state).toBe(b.state);
  });
});

describe('deferred first turn: turn start and revert (§7 items 6–9)', () => {
  const staged = () => {
    let s = pending();
    s = right(run(s, { type: 'initial_prompt_staged', prompt: [text('draft the release notes')] }, 2)).state;
    s = right(run(s, { type: 'tool_results_staged', results: [result('cb_1'), result('cb_2')] }, 3)).state;
    s = right(run(s, { type: 'tool_results_staged', results: [result('cb_3')] }, 4)).state;
    return s;
  };

  it('starting in pending returns the prompt and batches, flags the reopen, empties the slots, moves to consumed', () => {
    const before = staged();
    const r = right(run(before, { type: 'turn_started' }, 5));
    expect(r.result).toEqual({
      startSeq: 5,
      reopenFirstTurn: true,
      initialPrompt: { prompt: [text('draft the release notes')], acceptedAt: 1002 },
      toolResults: [
        { results: [result('cb_1'), result('cb_2')], acceptedAt: 1003 },
        { results: [result('cb_3')], acceptedAt: 1004 },
      ],
    });
    expect(r.state.phase).toBe('consumed');
    expect(r.state.initialPrompt).toBeUndefined();
    expect(r.state.toolResults).toEqual([]);
    expect(r.state.lastStart).toEqual({ seq: 5, consumed: r.result });
    expect(E.isRight(restoreDeferredTurn(JSON.parse(JSON.stringify(r.state))))).toBe(true);
  });

  it('starting in inactive returns the queued batches and keeps the phase; an empty start is still recorded', () => {
    const s = right(run(initialDeferredTurn, { type: 'tool_results_staged', results: [result('cb_9')] }, 2)).state;
    const r = right(run(s, { type: 'turn_started' }, 3));
    expect(r.result).toEqual({ startSeq: 3, reopenFirstTurn: false, toolResults: [{ results: [result('cb_9')], acceptedAt: 1002 }] });
    expect(r.state.phase).toBe('inactive');
    const empty = right(run(r.state, { type: 'turn_started' }, 4));
    expect(empty.state).not.toBe(r.state);
    expect(empty.result).toEqual({ startSeq: 4, reopenFirstTurn: false, toolResults: [] });
    expect(empty.state.lastStart?.seq).toBe(4);
  });

  it('reverting restores pending, the prompt and batches; a batch staged in between ends up after them', () => {
    const started = right(run(staged(), { type: 'turn_started' }, 5)).state;
    const mid = right(run(started, { type: 'tool_results_staged', results: [result('late_1')] }, 6)).state;
    expect(firstTurnOverridesAllowed(mid)).toBe(false);
    const r = right(run(mid, { type: 'turn_start_reverted', startSeq: 5 }, 7));
    expect(r.state.phase).toBe('pending');
    expect(r.state.initialPrompt).toEqual({ prompt: [text('draft the release notes')], acceptedAt: 1002 });
    expect(r.state.toolResults.map((b) => b.results.map((x) => x.toolUseId))).toEqual([['cb_1', 'cb_2'], ['cb_3'], ['late_1']]);
    expect(r.state.toolResults.map((b) => b.acceptedAt)).toEqual([1003, 1004, 1006]);
    expect(r.state.lastStart).toBeUndefined();
    expect(r.result).toMatchObject({ startSeq: 5, reopenFirstTurn: true, initialPrompt: { acceptedAt: 1002 } });
    expect(firstTurnOverridesAllowed(r.state)).toBe(true);
    // The reopened first turn can start again and hand out everything once.
    const again = right(run(r.state, { type: 'turn_started' }, 8));
    expect(again.result.toolResults).toHaveLength(3);
    expect(again.result.reopenFirstTurn).toBe(true);
  });

  it('a revert of a non-reopening start keeps the phase', () => {
    const s = right(run(initialDeferredTurn, { type: 'tool_results_staged', results: [result('x')] }, 2)).state;
    const started = right(run(s, { type: 'turn_started' }, 3)).state;
    const r = right(run(started, { type: 'turn_start_reverted', startSeq: 3 }, 4));
    expect(r.state).toEqual({ phase: 'inactive', toolResults: [{ results: [result('x')], acceptedAt: 1002 }] });
  });

  it('a second revert, a revert naming an older start, and a revert after a message append fail', () => {
    const s5 = right(run(staged(), { type: 'turn_started' }, 5)).state;
    const reverted = right(run(s5, { type: 'turn_start_reverted', startSeq: 5 }, 6)).state;
    expect(left(run(reverted, { type: 'turn_start_reverted', startSeq: 5 }, 7))).toMatchObject({ _tag: 'NoRevertibleTurnStart', startSeq: 5 });
    expect('lastStartSeq' in left(run(reverted, { type: 'turn_start_reverted', startSeq: 5 }, 7))).toBe(false);

    const s8 = right(run(s5, { type: 'turn_started' }, 8)).state;
    expect(left(run(s8, { type: 'turn_start_reverted', startSeq: 5 }, 9))).toMatchObject({ _tag: 'NoRevertibleTurnStart', startSeq: 5, lastStartSeq: 8 });

    const committed = commitTurnStart(s5);
    expect(committed.lastStart).toBeUndefined();
    expect(committed.phase).toBe('consumed');
    expect(left(run(committed, { type: 'turn_start_reverted', startSeq: 5 }, 9))._tag).toBe('NoRevertibleTurnStart');
    expect(commitTurnStart(committed)).toBe(committed);
  });

  it('overrides are allowed only in pending', () => {
    expect(firstTurnOverridesAllowed(initialDeferredTurn)).toBe(false);
    expect(firstTurnOverridesAllowed(pending())).toBe(true);
    const consumed = right(run(pending(), { type: 'turn_started' }, 2)).state;
    expect(firstTurnOverridesAllowed(consumed)).toBe(false);
    expect(firstTurnOverridesAllowed(right(run(consumed, { type: 'turn_start_reverted', startSeq: 2 }, 3)).state)).toBe(true);
  });
});

describe('deferred first turn: codecs', () => {
  it('commands are strict', () => {
    expect(E.isLeft(decodeWith(deferredTurnCommandCodecs.turn_started, { type: 'turn_started', extra: 1 }))).toBe(true);
    expect(E.isLeft(decodeWith(deferredTurnCommandCodecs.turn_start_reverted, { type: 'turn_start_reverted', startSeq: 0 }))).toBe(true);
    expect(E.isLeft(decodeWith(deferredTurnCommandCodecs.initial_prompt_staged, { type: 'initial_prompt_staged', prompt: [{ type: 'audio' }] }))).toBe(true);
    expect(E.isLeft(decodeWith(DeferredTurnCommandCodec, { type: 'turn_finished' }))).toBe(true);
    expect(E.isRight(decodeWith(deferredTurnCommandCodecs.tool_results_staged, { type: 'tool_results_staged', results: [] }))).toBe(true);
  });
});

describe('deferred first turn: restore (§1.6, §7 item 10)', () => {
  const prompt = { prompt: [text('hi')], acceptedAt: 5 };
  const batch = { results: [result('a')], acceptedAt: 6 };
  const reject = (u: unknown, pattern?: RegExp) => {
    const r = restoreDeferredTurn(u);
    const e = left(r);
    expect(e._tag).toBe('MachineStateInvalid');
    expect(e['machine']).toBe('deferredTurn');
    if (pattern) expect(String(e['reason'])).toMatch(pattern);
  };

  it('accepts valid states, the initial one included', () => {
    expect(right(restoreDeferredTurn({ phase: 'inactive', toolResults: [] }))).toEqual(initialDeferredTurn);
    expect(E.isRight(restoreDeferredTurn({ phase: 'pending', toolResults: [batch], initialPrompt: prompt }))).toBe(true);
    expect(
      E.isRight(
        restoreDeferredTurn({ phase: 'consumed', toolResults: [], lastStart: { seq: 3, consumed: { startSeq: 3, reopenFirstTurn: true, initialPrompt: prompt, toolResults: [batch] } } }),
      ),
    ).toBe(true);
  });

  it('rejects an unknown phase, a prompt outside pending, an empty batch, a mismatched lastStart', () => {
    reject({ phase: 'started', toolResults: [] });
    reject({ phase: 'inactive', toolResults: [], initialPrompt: prompt }, /pending/);
    reject({ phase: 'consumed', toolResults: [], initialPrompt: prompt }, /pending/);
    reject({ phase: 'pending', toolResults: [], initialPrompt: { prompt: [text('   ')], acceptedAt: 1 } }, /content/);
    reject({ phase: 'pending', toolResults: [{ results: [], acceptedAt: 1 }] }, /empty batch/);
    reject({ phase: 'consumed', toolResults: [], lastStart: { seq: 4, consumed: { startSeq: 3, reopenFirstTurn: true, toolResults: [] } } }, /startSeq/);
    reject({ phase: 'pending', toolResults: [], lastStart: { seq: 3, consumed: { startSeq: 3, reopenFirstTurn: true, toolResults: [] } } }, /consumed/);
    reject({ phase: 'consumed', toolResults: [], lastStart: { seq: 3, consumed: { startSeq: 3, reopenFirstTurn: false, initialPrompt: prompt, toolResults: [] } } }, /reopening/);
    reject({ phase: 'consumed', toolResults: [], lastStart: { seq: 3, consumed: { startSeq: 3, reopenFirstTurn: false, toolResults: [{ results: [], acceptedAt: 1 }] } } }, /empty batch/);
    reject({ phase: 'inactive', toolResults: [], lastStart: { seq: 0, consumed: { startSeq: 0, reopenFirstTurn: false, toolResults: [] } } });
    reject({ phase: 'inactive', toolResults: [{ results: [result('a')], acceptedAt: -1 }] });
    reject({ phase: 'inactive', toolResults: [{ results: [result('a')], acceptedAt: 1.5 }] });
    reject({ phase: 'inactive', toolResults: [], extra: true });
    reject({ phase: 'inactive' });
    reject('inactive');
    reject(null);
  });
});
