import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { assistantText, assistantToolCalls, compactionSummary, systemNotice, toolResult, toolResults, transcriptDigest, userText } from '../../src/model/index.ts';
import { validateRewriteRecord, historyFromRewriteRecords, rewriteRecordFor } from '../../src/transcript/index.ts';
import { fresh, left, right, tickingClock } from './helpers.ts';

const conversation = (s: Session, turns: number): Session => {
  let cur = s;
  for (let i = 0; i < turns; i++) {
    cur = right(cur.push(userText(`question ${i}`)));
    cur = right(cur.push(assistantText(`answer ${i}`)));
  }
  return cur;
};

describe('Session basics', () => {
  it('creates with a genesis record and the empty revision', () => {
    const s = fresh();
    expect(s.id).toBe('s-1');
    expect(s.version).toBe(1);
    expect(s.messages).toEqual([]);
    expect(s.log).toHaveLength(1);
    expect(s.log[0]!.command.type).toBe('session_created');
    expect(s.transcriptRevision()).toBe(transcriptDigest([]));
    expect(s.transcriptHistory()).toBeUndefined();
  });

  it('readMessages and readMessage read a range of an in-memory session as Right, clamped to the transcript', () => {
    const s = conversation(fresh(), 3);
    const all = s.messages;
    expect(all).toHaveLength(6);
    expect(s.readMessages()).toEqual(E.right(all));
    expect(s.readMessages(1, 3)).toEqual(E.right(all.slice(1, 3)));
    expect(s.readMessages(-5, 2)).toEqual(E.right(all.slice(0, 2)));
    expect(s.readMessages(4, 99)).toEqual(E.right(all.slice(4)));
    expect(s.readMessages(4, 1)).toEqual(E.right([]));
    expect(s.readMessages(Number.NaN, Number.NaN)).toEqual(E.right(all));
    expect(s.readMessage(5)).toEqual(E.right(all[5]));
    expect(s.readMessage(6)).toEqual(E.right(undefined));
    expect(s.readTranscriptHistory()).toEqual(E.right(undefined));
  });

  it('push stamps createdAt from the clock, one record per push, old value unchanged', () => {
    const s0 = fresh();
    const s1 = right(s0.push(userText('hello')));
    expect(s0.messages).toHaveLength(0);
    expect(s1.messages).toHaveLength(1);
    expect(s1.messages[0]!.createdAt).toBe(s1.log[1]!.at);
    expect(s1.log).toHaveLength(2);
    expect(s1.transcriptRevision()).toBe('sha256:272c6f9c335d47d833189ef60d38a182e598b4b3a0ea73e7f7080f23a1ee2f1f');
    const s2 = right(s1.pushBatch([assistantText('hi'), userText('again')]));
    expect(s2.log).toHaveLength(3);
    expect(s2.messages).toHaveLength(3);
  });

  it('records hash-chain and replay reproduces the state', () => {
    const s = conversation(fresh(), 5);
    for (let i = 1; i < s.log.length; i++) expect(s.log[i]!.prev).toBe(s.log[i - 1]!.hash);
    const replayed = right(Session.replay(s.log));
    expect(replayed.transcriptRevision()).toBe(s.transcriptRevision());
    expect(replayed.head).toBe(s.head);
    expect(right(s.verify()).records).toBe(s.log.length);
  });

  it('replay fails closed on a tampered record', () => {
    const s = conversation(fresh(), 2);
    const log = s.log.map((r) => ({ ...r }));
    log[2] = { ...log[2]!, revision: transcriptDigest([]) };
    expect(left(Session.replay(log))._tag).toBe('BrokenLog'); // the hash no longer matches
  });

  it('replay reports ReplayDivergence when a re-sealed record carries a wrong revision', async () => {
    const { sealRecord } = await import('../../src/session/record.ts');
    const s = conversation(fresh(), 1);
    const records = [...s.log];
    const bad = sealRecord({ ...records[1]!, revision: transcriptDigest([]) });
    records[1] = bad;
    records[2] = sealRecord({ ...records[2]!, prev: bad.hash });
    const e = left(Session.replay(records));
    expect(e._tag).toBe('ReplayDivergence');
    expect(e).toMatchObject({ seq: 2, expected: transcriptDigest([]) });
  });

  it('refuses a malformed command with a typed error naming the path', () => {
    const s = fresh();
    const e = left(s.apply({ type: 'messages_appended', messages: [{ role: 'user', content: [], transcriptRole: 'conversational', createdAt: 1 }] }));
    expect(e).toMatchObject({ _tag: 'InvalidCommand', path: '$.messages[0].content', reason: 'invalid_value' });
    const e2 = left(s.apply({ type: 'nope' }));
    expect(e2).toMatchObject({ _tag: 'InvalidCommand', path: '$.type' });
    const e3 = left(s.apply({ type: 'metadata_set', key: '', value: 1 }));
    expect(e3).toMatchObject({ _tag: 'InvalidCommand', path: '$.key' });
    expect(s.log).toHaveLength(1);
  });

  it('usage adds up and refuses bad values', () => {
    let s = fresh();
    s = right(s.recordUsage({ inputTokens: 120, outputTokens: 30 }));
    s = right(s.recordUsage({ inputTokens: 80, outputTokens: 20, cacheReadTokens: 50 }));
    expect(s.usage).toEqual({ inputTokens: 200, outputTokens: 50, cacheReadTokens: 50 });
    expect(s.totalTokens()).toBe(250);
    expect(left(s.recordUsage({ inputTokens: -1, outputTokens: 0 }))._tag).toBe('InvalidCommand');
    expect(left(s.recordUsage({ inputTokens: 1, outputTokens: 0, cacheReadTokens: 5 }))._tag).toBe('InvalidCommand');
    const big = right(s.recordUsage({ inputTokens: Number.MAX_SAFE_INTEGER - 200, outputTokens: 0 }));
    expect(left(big.recordUsage({ inputTokens: 1, outputTokens: 0 }))._tag).toBe('InvalidUsage');
    expect(right(s.recordUsage({ inputTokens: 0, outputTokens: 0 }))).toBe(s);
  });
});

describe('metadata and reserved keys (machines.md §4)', () => {
  it('refuses reserved keys and accepts look-alikes', () => {
    const s = fresh();
    for (const key of ['palimpsest.lifecycle', 'PALIMPSEST.systemContext', 'palimpsest.future', 'palimpsest']) {
      expect(left(s.setMetadata(key, 1))).toMatchObject({ _tag: 'ReservedMetadataKey', key });
      expect(left(s.removeMetadata(key))._tag).toBe('ReservedMetadataKey');
      expect(left(s.backfillMetadataIfAbsent(key, 1))._tag).toBe('ReservedMetadataKey');
    }
    const ok = right(right(s.setMetadata('palimpsestx', 1)).setMetadata('pi.model', 'x'));
    expect(ok.metadata).toEqual({ palimpsestx: 1, 'pi.model': 'x' });
    expect(() => Session.create({ metadata: { 'palimpsest.realtime': 1 } })).toThrow();
    try {
      Session.create({ metadata: { 'Palimpsest.x': 1 } });
    } catch (e) {
      expect(e).toMatchObject({ _tag: 'ReservedMetadataKey', key: 'Palimpsest.x' });
    }
  });

  it('set is inert when unchanged, remove inert when absent, backfill never moves updatedAt', () => {
    const s = right(fresh().setMetadata('a', { x: 1, y: 2 }));
    expect(right(s.setMetadata('a', { y: 2, x: 1 }))).toBe(s);
    expect(right(s.removeMetadata('zzz'))).toBe(s);
    const b = right(s.backfillMetadataIfAbsent('b', 'v'));
    expect(b.result).toBe(true);
    expect(b.session.metadata['b']).toBe('v');
    expect(b.session.updatedAt).toBe(s.updatedAt);
    expect(b.session.log).toHaveLength(s.log.length + 1);
    const again = right(b.session.backfillMetadataIfAbsent('b', 'other'));
    expect(again.result).toBe(false);
    expect(again.session).toBe(b.session);
  });
});

describe('rewrites (revisions.md §3, §7)', () => {
  it('commits a compaction, keeps the parent readable, and the history validates', () => {
    const s = conversation(fresh(), 4);
    const parentRevision = s.transcriptRevision();
    const { session, commit } = right(
      s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 6 }, replacement: [compactionSummary('summary of three turns')], reason: { kind: 'compaction', note: 'tokensBefore 1234' } }),
    );
    expect(commit.parentRevision).toBe(parentRevision);
    expect(commit.messagesBefore).toBe(8);
    expect(commit.messagesAfter).toBe(3);
    expect(session.messages).toHaveLength(3);
    expect(session.transcriptRevisionMessages(parentRevision)).toEqual(s.messages);
    expect(session.transcriptRevisionMessages(session.transcriptRevision())).toEqual(session.messages);
    const history = session.transcriptHistory()!;
    expect(history.head).toBe(session.transcriptRevision());
    expect(history.commits).toEqual([commit]);
    expect(history.revisions[history.revisions.length - 1]).toBe(commit.revision);
    const record = rewriteRecordFor(s.messages, commit, s.updatedAt, session.updatedAt, session.messages);
    expect(E.isRight(validateRewriteRecord(record))).toBe(true);
  });

  it('errors leave the session unchanged', () => {
    const s = conversation(fresh(), 2);
    expect(left(s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 3, end: 9 }, replacement: [], reason: { kind: 'edit' } }))).toMatchObject({
      _tag: 'InvalidRewriteRange',
      start: 3,
      end: 9,
      messageCount: 4,
    });
    expect(left(s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 1 }, replacement: [userText('question 0')], reason: { kind: 'edit' } }))._tag).toBe(
      'NoOpRewrite',
    );
    expect(
      left(s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 1 }, replacement: [userText('x')], reason: { kind: 'edit' }, expectedParentRevision: transcriptDigest([]) })),
    ).toMatchObject({ _tag: 'RevisionConflict', actual: s.transcriptRevision() });
    expect(s.log).toHaveLength(5);
  });

  it('rewrite, append, rewrite: records chain into one history and replay rebuilds the head', () => {
    let s = conversation(fresh(), 3);
    const r1 = right(s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 2 }, replacement: [compactionSummary('one')], reason: { kind: 'compaction' } }));
    const rec1 = rewriteRecordFor(s.messages, r1.commit, s.updatedAt, r1.session.updatedAt, r1.session.messages);
    s = conversation(r1.session, 2);
    const r2 = right(s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 3 }, replacement: [compactionSummary('two')], reason: { kind: 'compaction' } }));
    const rec2 = rewriteRecordFor(s.messages, r2.commit, s.updatedAt, r2.session.updatedAt, r2.session.messages);
    const h = right(historyFromRewriteRecords([rec1, rec2]));
    expect(h.head).toBe(r2.session.transcriptRevision());
    expect(right(Session.replay(r2.session.log)).transcriptRevision()).toBe(r2.session.transcriptRevision());
  });

  it('restoring an earlier transcript reuses its revision', () => {
    const s = conversation(fresh(), 2);
    const original = s.messages;
    const r1 = right(s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 4 }, replacement: [compactionSummary('short')], reason: { kind: 'compaction' } }));
    const r2 = right(r1.session.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 1 }, replacement: original, reason: { kind: 'restore' } }));
    expect(r2.commit.revision).toBe(s.transcriptRevision());
    expect(r2.session.transcriptHistory()!.commits).toHaveLength(2);
  });

  it('setting the system prompt after a rewrite moves the head and keeps both revisions readable', () => {
    const s = conversation(fresh(), 2);
    const r = right(s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 2 }, replacement: [compactionSummary('c')], reason: { kind: 'compaction' } }));
    const before = r.session.transcriptRevision();
    const p = right(r.session.setSystemPrompt('You are terse.'));
    expect(p.messages[0]).toMatchObject({ role: 'system', text: 'You are terse.' });
    expect(p.transcriptRevision()).toBe(transcriptDigest(p.messages));
    expect(p.transcriptHistory()!.head).toBe(p.transcriptRevision());
    expect(p.transcriptRevisionMessages(before)).toEqual(r.session.messages);
    const q = right(p.setSystemPrompt('You are verbose.'));
    expect(q.messages).toHaveLength(p.messages.length);
    expect(right(q.setSystemPrompt('You are verbose.'))).toBe(q);
  });
});

describe('appends keep the transcript shape (revisions.md §2)', () => {
  it('a trailing tool call is legal; only its exact results may follow', () => {
    let s = right(fresh().push(userText('list files')));
    s = right(s.push(assistantToolCalls([{ id: 'a', name: 'ls', args: {} }, { id: 'b', name: 'pwd', args: {} }])));
    expect(left(s.push(userText('hurry')))._tag).toBe('InvalidTranscriptShape');
    expect(left(s.push(toolResults([toolResult('a', 'x')])))._tag).toBe('InvalidTranscriptShape');
    s = right(s.push(toolResults([toolResult('b', 'y'), toolResult('a', 'x')])));
    expect(s.messages).toHaveLength(3);
  });
});

describe('synthetic notices (machines.md §5)', () => {
  it('refresh leaves exactly the replacements and keeps other kinds', () => {
    let s = right(fresh().push(userText('hi')));
    s = right(s.push(systemNotice('external_event', 'old 1')));
    s = right(s.push(systemNotice('tool_scope_warning', 'keep me')));
    s = right(s.push(systemNotice('external_event', 'old 2')));
    const r = right(s.replaceSyntheticNotices('external_event', [systemNotice('external_event', 'new')]));
    expect(r.messages.map((m) => (m.role === 'system_notice' ? `${m.kind}:${m.text}` : m.role))).toEqual(['user', 'tool_scope_warning:keep me', 'external_event:new']);
    const removed = right(r.replaceSyntheticNotices('external_event', []));
    expect(removed.messages).toHaveLength(2);
    expect(right(removed.replaceSyntheticNotices('external_event', []))).toBe(removed);
  });

  it('a wrong-kind replacement, or a refresh while tool results are awaited, fails with nothing changed', () => {
    let s = right(fresh().push(userText('hi')));
    expect(left(s.replaceSyntheticNotices('external_event', [systemNotice('generic', 'x')]))).toMatchObject({ _tag: 'InvalidTranscriptShape', index: 0 });
    expect(left(s.replaceSyntheticNotices('external_event', [userText('x')]))).toMatchObject({ _tag: 'InvalidTranscriptShape', index: 0 });
    s = right(s.push(assistantToolCalls([{ id: 'a', name: 'ls', args: {} }])));
    const before = s.transcriptRevision();
    expect(left(s.replaceSyntheticNotices('external_event', [systemNotice('external_event', 'x')]))._tag).toBe('InvalidTranscriptShape');
    expect(s.transcriptRevision()).toBe(before);
  });
});

describe('forks (revisions.md §6)', () => {
  it('fork, forkAt and forkReplacing produce the documented prefixes and fresh history', () => {
    const s = right(conversation(fresh('parent', { team: 'core' }), 3).recordUsage({ inputTokens: 10, outputTokens: 5 }));
    const full = s.fork({ id: 'c-full' });
    expect(full.id).toBe('c-full');
    expect(full.messages).toEqual(s.messages);
    expect(full.metadata).toEqual({ team: 'core' });
    expect(full.usage).toEqual(s.usage);
    expect(full.log).toHaveLength(1);
    expect(full.log[0]!.command).toMatchObject({ type: 'session_forked', from: { sessionId: 'parent', seq: s.seq, hash: s.head }, mode: 'full' });
    expect(full.log[0]!.prev).toBe(s.head);
    expect(full.transcriptHistory()).toBeUndefined();
    expect(s.forkAt(2).messages).toEqual(s.messages.slice(0, 2));
    expect(s.forkAt(100).messages).toHaveLength(6);
    expect(s.fork().id).not.toBe(s.fork().id);

    const edited = right(s.forkReplacing(2, { type: 'user_content_block', blockIndex: 0, block: { type: 'text', text: 'edited question' } }));
    expect(edited.messages).toHaveLength(3);
    expect(edited.messages[2]).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'edited question' }] });
    expect(left(s.forkReplacing(99, { type: 'message', message: userText('x', { createdAt: 1 }) }))).toMatchObject({ _tag: 'MessageIndexOutOfBounds', messageIndex: 99, messageCount: 6 });
    expect(left(s.forkReplacing(1, { type: 'user_content_block', blockIndex: 0, block: { type: 'text', text: 'x' } }))).toMatchObject({
      _tag: 'MessageRoleMismatch',
      messageIndex: 1,
      expected: 'user',
      actual: 'assistant',
    });
    expect(left(s.forkReplacing(1, { type: 'assistant_block', blockIndex: 5, block: { type: 'text', text: 'x' } }))).toMatchObject({ _tag: 'BlockIndexOutOfBounds', blockIndex: 5, blockCount: 1 });
  });

  it('later appends on either side never show on the other', () => {
    const s = conversation(fresh(), 2);
    const child = s.fork();
    const s2 = right(s.push(userText('parent only')));
    const c2 = right(child.push(userText('child only')));
    expect(s2.messages.map((m) => (m.role === 'user' ? (m.content[0] as { text: string }).text : '')).at(-1)).toBe('parent only');
    expect(c2.messages.map((m) => (m.role === 'user' ? (m.content[0] as { text: string }).text : '')).at(-1)).toBe('child only');
    expect(s.messages).toHaveLength(4);
    expect(child.messages).toHaveLength(4);
  });

  it('a child replays from its log given the parent state and verifies', () => {
    const s = conversation(fresh(), 2);
    const child = right(s.fork().push(userText('more')));
    expect(right(Session.replay(child.log, { parent: s })).transcriptRevision()).toBe(child.transcriptRevision());
    expect(left(Session.replay(child.log))._tag).toBe('BrokenLog');
    expect(E.isRight(child.verify())).toBe(true);
  });

  it('the child cannot look up the source revisions', () => {
    const s = conversation(fresh(), 2);
    const early = s.transcriptRevision();
    const s2 = right(s.push(userText('later')));
    const child = s2.fork();
    expect(child.transcriptRevisionMessages(early)).toBeUndefined();
  });
});

describe('lifecycle at the session level (machines.md §3, §7 items 21–22)', () => {
  it('an archived session refuses writes and the log does not grow; revive restores them', () => {
    const s = conversation(fresh(), 1);
    const a = right(s.archive('retention'));
    expect(a.result).toBe('archived');
    const archived = a.session;
    const len = archived.log.length;
    expect(left(archived.push(userText('x')))._tag).toBe('SessionArchived');
    expect(left(archived.setMetadata('k', 1))._tag).toBe('SessionArchived');
    expect(left(archived.recordUsage({ inputTokens: 1, outputTokens: 1 }))._tag).toBe('SessionArchived');
    expect(left(archived.stageSystemContext([{ content: { type: 'text', text: 'ctx' } }]))._tag).toBe('SessionArchived');
    expect(left(archived.touch())._tag).toBe('SessionArchived');
    expect(archived.log).toHaveLength(len);
    const again = right(archived.archive());
    expect(again.result).toBe('already_archived');
    expect(again.session).toBe(archived);
    const child = archived.fork();
    expect(child.lifecycle).toEqual({ status: 'active' });
    const revived = right(archived.revive());
    expect(E.isRight(revived.push(userText('back')))).toBe(true);
    expect(left(revived.revive())._tag).toBe('SessionNotArchived');
  });
});

describe('clock', () => {
  it('record times never go backwards even if the clock does', () => {
    let t = 1000;
    const s = Session.create({ id: 'c', clock: () => t });
    t = 500;
    const s2 = right(s.push(userText('x')));
    expect(s2.log[1]!.at).toBe(1000);
    void tickingClock;
  });
});
