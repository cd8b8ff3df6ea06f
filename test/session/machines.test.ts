/**
 * Machines inside the session (machines.md §0, §4, §7; tool-visibility.md §8;
 * realtime.md §1, §4.5): commands are recorded, inert outcomes record nothing,
 * replay reproduces machine state, forks reset it, and machine outputs
 * (system prompt renders, notices, realtime messages, usage) go through the
 * session's own paths.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { assistantToolCalls, textBlock, toolResult, toolResults, userText, systemNotice } from '../../src/model/index.ts';
import { initialDeferredTurn } from '../../src/machines/deferredTurn.ts';
import { initialSystemContext } from '../../src/machines/systemContext.ts';
import { initialToolVisibility } from '../../src/machines/toolVisibility.ts';
import { initialRealtimeState } from '../../src/machines/realtime.ts';
import { fresh, left, right } from './helpers.ts';

const catalog = (tools: Array<{ name: string; provenance?: { kind: string; sourceId: string } }>, extra: { controlNames?: string[]; deferredNames?: string[] } = {}) => ({
  tools: tools.map((t) => ({ name: t.name, description: `${t.name} tool`, inputSchema: { type: 'object' }, ...(t.provenance ? { provenance: t.provenance } : {}) })),
  controlNames: extra.controlNames ?? [],
  deferredNames: extra.deferredNames ?? [],
});
const core = { kind: 'builtin', sourceId: 'core' };
const baseCatalog = catalog([{ name: 'read_file', provenance: core }, { name: 'grep', provenance: core }, { name: 'shell', provenance: core }, { name: 'find_tools', provenance: core }], { controlNames: ['find_tools'] });

describe('forks reset every machine (machines.md §4, §7 item 26)', () => {
  it('after staging a prompt, context and a steer, every fork mode yields initial machines and the same metadata', () => {
    let s = right(fresh('p', { owner: 'ops' }).deferFirstTurn()).session;
    s = right(s.stageInitialPrompt([textBlock('draft the release notes')])).session;
    s = right(s.stageSystemContext([{ content: { type: 'text', text: 'disk is 91% full' }, source: 'monitor/disk', idempotencyKey: 'disk' }])).session;
    s = right(s.stageSystemContext([{ content: { type: 'text', text: 'be brief this turn' }, sourceKind: 'runtime_steer', idempotencyKey: 'steer-1' }])).session;
    s = right(s.stageToolFilter({ type: 'deny', names: ['shell'] }, baseCatalog)).session;
    s = right(s.push(systemNotice('generic', 'setup done')));
    const children = [s.fork(), s.forkAt(0), right(s.forkReplacing(0, { type: 'message', message: systemNotice('generic', 'edited', { createdAt: 5 }) as never }))];
    for (const child of children) {
      expect(child.deferredTurn).toEqual(initialDeferredTurn);
      expect(child.systemContext).toEqual(initialSystemContext);
      expect(child.toolVisibility).toEqual(initialToolVisibility);
      expect(child.realtime).toEqual(initialRealtimeState);
      expect(child.lifecycle).toEqual({ status: 'active' });
      expect({ ...child.metadata }).toEqual({ owner: 'ops' });
    }
    expect(s.deferredTurn.phase).toBe('pending');
  });
});

describe('deferred first turn in the session (machines.md §7 items 2, 8)', () => {
  it('deferring fails once a user message exists; a system prompt and a notice do not count', () => {
    let s = right(fresh().setSystemPrompt('sys'));
    s = right(s.push(systemNotice('generic', 'hello')));
    expect(right(s.deferFirstTurn()).session.deferredTurn.phase).toBe('pending');
    const u = right(s.push(userText('hi')));
    expect(left(u.deferFirstTurn())._tag).toBe('FirstTurnAlreadyStarted');
  });

  it('a message append commits the start, so a later revert fails; a revert before it restores the inputs', () => {
    let s = right(fresh().deferFirstTurn()).session;
    s = right(s.stageInitialPrompt([textBlock('go')])).session;
    const started = right(s.startTurn());
    const seq = started.result.startSeq;
    expect(started.session.deferredTurn.phase).toBe('consumed');
    const reverted = right(started.session.revertTurnStart(seq));
    expect(reverted.session.deferredTurn.phase).toBe('pending');
    expect(reverted.session.deferredTurn.initialPrompt?.prompt).toEqual([textBlock('go')]);
    const again = right(reverted.session.startTurn());
    const appended = right(again.session.push(userText('go')));
    expect(left(appended.revertTurnStart(again.result.startSeq))._tag).toBe('NoRevertibleTurnStart');
    expect(appended.firstTurnOverridesAllowed()).toBe(false);
    expect(right(Session.replay(appended.log)).deferredTurn).toEqual(appended.deferredTurn);
  });
});

describe('system context in the session (machines.md §2.5, §7 items 16–19)', () => {
  it('the boundary renders pending context into a new system prompt in one record', () => {
    let s = right(fresh().push(userText('hi')));
    s = right(s.stageSystemContext([{ content: { type: 'text', text: 'Disk almost full.' }, source: 'monitor/disk', idempotencyKey: 'disk' }])).session;
    const before = s.log.length;
    const b = right(s.applySystemContextAtBoundary());
    expect(b.session.log.length).toBe(before + 1);
    expect(b.session.messages[0]).toMatchObject({ role: 'system', text: '[Session Context]\nsource: monitor/disk\n\nDisk almost full.' });
    expect(b.session.messages[1]).toMatchObject({ role: 'user' });
    // re-applying the same append renders nothing twice
    const applied = b.session.systemContext.applied;
    const again = right(b.session.appendSystemContextBlocks(applied));
    expect(again.session).toBe(b.session);
    // a second append joins with the separator
    let t = right(b.session.stageSystemContext([{ content: { type: 'text', text: 'CPU is hot.' }, source: 'monitor/cpu', idempotencyKey: 'cpu' }])).session;
    t = right(t.applySystemContextAtBoundary()).session;
    expect((t.messages[0] as { text: string }).text).toBe('[Session Context]\nsource: monitor/disk\n\nDisk almost full.\n\n---\n\n[Session Context]\nsource: monitor/cpu\n\nCPU is hot.');
    expect(right(Session.replay(t.log)).systemContext).toEqual(t.systemContext);
  });

  it('steer cleanup removes steer blocks from the prompt and keeps normal ones', () => {
    let s = fresh();
    s = right(
      s.stageSystemContext([
        { content: { type: 'text', text: 'keep me' }, source: 'operator', idempotencyKey: 'n' },
        { content: { type: 'text', text: 'only this turn' }, source: 'operator', sourceKind: 'runtime_steer', idempotencyKey: 's' },
      ]),
    ).session;
    s = right(s.applySystemContextAtBoundary()).session;
    const d = right(s.discardTransientRuntimeSteerContext());
    expect((d.session.messages[0] as { text: string }).text).toBe('[Session Context]\nsource: operator\n\nkeep me');
    expect(right(d.session.discardTransientRuntimeSteerContext()).session).toBe(d.session);
  });
});

describe('tool boundary in the session (tool-visibility.md §8)', () => {
  it('first boundary is initial without notice; hiding shell appends the exact notice in the same batch', () => {
    let s = right(fresh().push(userText('hi')));
    const first = right(s.applyToolBoundary(baseCatalog));
    expect(first.result.outcome).toMatchObject({ type: 'applied', report: { initial: true } });
    expect(first.session.messageCount).toBe(1);
    s = right(first.session.stageToolFilter({ type: 'deny', names: ['shell'] }, baseCatalog)).session;
    const b = right(s.applyToolBoundary(baseCatalog));
    const notice = b.session.messages.at(-1)!;
    expect(notice).toMatchObject({ role: 'system_notice', kind: 'tool_scope' });
    expect((notice as { text: string }).text).toBe(`Tool access changed (revision ${s.toolVisibility.stagedRevision}). No longer available: shell.`);
    expect(b.result.tools.map((t) => t.name)).toEqual(['read_file', 'grep', 'find_tools']);
    // nothing new: inert
    expect(right(b.session.applyToolBoundary(baseCatalog)).session).toBe(b.session);
  });

  it('a malformed catalog fails closed with a warning notice and no tools; the next good boundary recovers', () => {
    const s = right(right(fresh().push(userText('hi'))).applyToolBoundary(baseCatalog)).session;
    const dup = catalog([{ name: 'grep' }, { name: 'grep' }]);
    const failed = right(s.applyToolBoundary(dup));
    expect(failed.result.outcome.type).toBe('failed_closed');
    expect(failed.result.tools).toEqual([]);
    expect(failed.session.log.slice(-2).map((r) => r.command.type)).toEqual(['tool_boundary_failed', 'messages_appended']);
    expect(failed.session.messages.at(-1)).toMatchObject({ role: 'system_notice', kind: 'tool_scope_warning' });
    expect(failed.session.toolVisibility.failedClosed).toBe(true);
    const recovered = right(failed.session.applyToolBoundary(baseCatalog));
    expect(recovered.session.toolVisibility.failedClosed).toBe(false);
    expect((recovered.session.messages.at(-1) as { text: string }).text).toContain('Now available:');
    expect(right(Session.replay(recovered.session.log)).toolVisibility).toEqual(recovered.session.toolVisibility);
  });
});

describe('realtime in the session (realtime.md §1, §4.5)', () => {
  const ev = (e: Record<string, unknown>) => e;
  it('records accepted events once, commits messages and usage, and refuses nothing silently', () => {
    let s = fresh();
    const a = right(s.appendRealtimeTranscriptEvent(ev({ type: 'item_observed', itemId: 'u-1', role: 'user' })));
    expect(a.session.log).toHaveLength(2);
    const dup = right(a.session.appendRealtimeTranscriptEvent(ev({ type: 'item_observed', itemId: 'u-1', role: 'user' })));
    expect(dup.session).toBe(a.session);
    s = right(a.session.appendRealtimeTranscriptEvent(ev({ type: 'user_transcript_final', itemId: 'u-1', contentIndex: 0, text: 'what time is it?' }))).session;
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'what time is it?' }] });
    s = right(s.appendRealtimeTranscriptEvent(ev({ type: 'assistant_text_delta', responseId: 'r-1', deltaId: 'e-1', itemId: 'a-1', previousItemId: 'u-1', contentIndex: 0, delta: 'Noon.' }))).session;
    const d = right(s.appendRealtimeTranscriptEvent(ev({ type: 'assistant_text_delta', responseId: 'r-1', deltaId: 'e-1', itemId: 'a-1', previousItemId: 'u-1', contentIndex: 0, delta: 'Noon.' })));
    expect(d.session).toBe(s);
    s = right(s.appendRealtimeTranscriptEvent(ev({ type: 'assistant_turn_completed', responseId: 'r-1', stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 3 } }))).session;
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1]).toMatchObject({ role: 'assistant', stopReason: 'end_turn', content: [{ type: 'text', text: 'Noon.' }], usage: { inputTokens: 10, outputTokens: 3 } });
    expect(s.usage).toEqual({ inputTokens: 10, outputTokens: 3 });
    const replayed = right(Session.replay(s.log));
    expect(replayed.realtime).toEqual(s.realtime);
    expect(replayed.usage).toEqual(s.usage);
    expect(replayed.transcriptRevision()).toBe(s.transcriptRevision());
    const bad = left(s.appendRealtimeTranscriptEvent({ type: 'user_transcript_final', itemId: 'u-2', contentIndex: -1, text: 'x' }));
    expect(bad._tag).toBe('InvalidRealtimeEvent');
    const archived = right(s.archive()).session;
    expect(left(archived.appendRealtimeTranscriptEvent(ev({ type: 'item_observed', itemId: 'u-9', role: 'user' })))._tag).toBe('SessionArchived');
  });

  it('while tool results are awaited events are recorded but nothing commits; a flush after the results commits', () => {
    let s = right(fresh().push(userText('call a tool')));
    s = right(s.push(assistantToolCalls([{ id: 't1', name: 'clock', args: {} }])));
    const r = right(s.appendRealtimeTranscriptEvent(ev({ type: 'user_transcript_final', itemId: 'u-1', contentIndex: 0, text: 'are you there?' })));
    expect(r.outcome.notes).toContain('transcript_awaiting_tool_results');
    expect(r.session.log.length).toBe(s.log.length + 1);
    expect(r.session.messageCount).toBe(2);
    s = right(r.session.push(toolResults([toolResult('t1', '12:00')])));
    const f = right(s.flushRealtimeTranscript());
    expect(f.session.messageCount).toBe(4);
    expect(f.session.messages[3]).toMatchObject({ role: 'user' });
    expect(right(f.session.flushRealtimeTranscript()).session).toBe(f.session);
    expect(E.isRight(f.session.verify())).toBe(true);
  });
});

describe('repeated tool boundary failures', () => {
  it('a repeated identical failure adds no second warning notice', () => {
    const s = right(right(fresh().push(userText('hi'))).applyToolBoundary(baseCatalog)).session;
    const dup = catalog([{ name: 'grep' }, { name: 'grep' }]);
    const once = right(s.applyToolBoundary(dup)).session;
    const twice = right(once.applyToolBoundary(dup)).session;
    expect(twice).toBe(once);
    expect(twice.messages.filter((m) => m.role === 'system_notice' && m.kind === 'tool_scope_warning')).toHaveLength(1);
  });
});

describe('what commits a turn start (machines.md §1.4)', () => {
  it('a tool_scope notice at the boundary does not commit the start; the first conversation message does', () => {
    let s = right(fresh().deferFirstTurn()).session;
    s = right(s.stageInitialPrompt([textBlock('go')])).session;
    const started = right(s.startTurn());
    const withNotice = right(started.session.push(systemNotice('tool_scope', 'Tool access changed (revision 1). Now available: grep.')));
    const reverted = right(withNotice.revertTurnStart(started.result.startSeq));
    expect(reverted.session.deferredTurn.phase).toBe('pending');
    const withUser = right(started.session.push(userText('go')));
    expect(left(withUser.revertTurnStart(started.result.startSeq))._tag).toBe('NoRevertibleTurnStart');
  });
});
