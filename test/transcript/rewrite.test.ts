import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { assistantText, compactionSummary, transcriptDigest, userText, type Message } from '../../src/model/index.ts';
import {
  CHECKPOINT_INTERVAL,
  historyWithCommit,
  planRewrite,
  rewriteRecordFor,
  transcriptFromMessages,
  transcriptMessages,
  transcriptRevision,
  validateRewriteRecord,
  vecFrom,
  type Transcript,
  type TranscriptRewriteRequest,
} from '../../src/transcript/index.ts';
import { cheapMessage } from '../../spec/arbitraries/messages.ts';
import { calls, left, results, right, stamp } from './helpers.ts';

const base = (): Transcript =>
  transcriptFromMessages(stamp([userText('q1'), assistantText('a1'), userText('q2'), calls('a'), results('a'), assistantText('a2')], 10));

const req = (start: number, end: number, replacement: TranscriptRewriteRequest['replacement'], extra: Partial<TranscriptRewriteRequest> = {}): TranscriptRewriteRequest => ({
  selection: { type: 'message_range', start, end },
  replacement,
  reason: { kind: 'compaction' },
  ...extra,
});

const expectUnchanged = (t: Transcript, before: { revision: string; messages: Message[] }) => {
  expect(transcriptRevision(t)).toBe(before.revision);
  expect(transcriptMessages(t)).toEqual(before.messages);
};
const snapshot = (t: Transcript) => ({ revision: transcriptRevision(t), messages: structuredClone(transcriptMessages(t)) });

describe('planRewrite', () => {
  it('commits a rewrite with every field of revisions.md §1', () => {
    const t = base();
    const before = snapshot(t);
    const r = right(planRewrite(t, req(0, 3, [compactionSummary('summary')], { actor: 'compactor', reason: { kind: 'compaction', note: '1234 tokens' } }), 500));
    const want = [{ ...compactionSummary('summary'), createdAt: 500 }, ...before.messages.slice(3)];
    expect(transcriptMessages(r.transcript)).toEqual(want);
    expect(r.commit).toEqual({
      parentRevision: before.revision,
      revision: transcriptDigest(want),
      selection: { type: 'message_range', start: 0, end: 3 },
      originalSpanDigest: transcriptDigest(before.messages.slice(0, 3)),
      replacementDigest: transcriptDigest([compactionSummary('summary')]),
      messagesBefore: 6,
      messagesAfter: 4,
      reason: { kind: 'compaction', note: '1234 tokens' },
      actor: 'compactor',
      committedAt: 500,
    });
    expect(transcriptRevision(r.transcript)).toBe(r.commit.revision);
    expectUnchanged(t, before);
  });

  it('keeps createdAt of replacement messages that have one, and leaves actor out when absent', () => {
    const r = right(planRewrite(base(), req(1, 2, [assistantText('A1', { createdAt: 7 })]), 99));
    expect(transcriptMessages(r.transcript)[1]?.createdAt).toBe(7);
    expect('actor' in r.commit).toBe(false);
    expect(r.commit.reason).toEqual({ kind: 'compaction' });
  });

  it('RevisionConflict { expected, actual } when expectedParentRevision is not the head', () => {
    const t = base();
    const before = snapshot(t);
    const other = transcriptDigest([]);
    const e = left(planRewrite(t, req(0, 1, [userText('x')], { expectedParentRevision: other }), 1));
    expect(e).toMatchObject({ _tag: 'RevisionConflict', expected: other, actual: before.revision });
    expect(typeof e.message).toBe('string');
    expectUnchanged(t, before);
    // the right expectation passes
    expect(E.isRight(planRewrite(t, req(0, 1, [userText('x')], { expectedParentRevision: before.revision }), 1))).toBe(true);
  });

  it('InvalidRewriteRange { start, end, messageCount }', () => {
    const t = base();
    const before = snapshot(t);
    expect(left(planRewrite(t, req(3, 2, []), 1))).toMatchObject({ _tag: 'InvalidRewriteRange', start: 3, end: 2, messageCount: 6 });
    expect(left(planRewrite(t, req(2, 7, []), 1))).toMatchObject({ _tag: 'InvalidRewriteRange', start: 2, end: 7, messageCount: 6 });
    expect(left(planRewrite(t, req(7, 7, [userText('x')]), 1))).toMatchObject({ _tag: 'InvalidRewriteRange', start: 7, end: 7, messageCount: 6 });
    expectUnchanged(t, before);
    // the whole range and the empty range at the end are fine
    expect(E.isRight(planRewrite(t, req(0, 6, [userText('x')]), 1))).toBe(true);
    expect(E.isRight(planRewrite(t, req(6, 6, [userText('x')]), 1))).toBe(true);
  });

  it('NoOpRewrite { revision } when the result is the parent (even with other createdAt)', () => {
    const t = base();
    const before = snapshot(t);
    expect(left(planRewrite(t, req(2, 2, []), 1))).toMatchObject({ _tag: 'NoOpRewrite', revision: before.revision });
    expect(left(planRewrite(t, req(0, 2, [userText('q1'), assistantText('a1')]), 12345))).toMatchObject({ _tag: 'NoOpRewrite', revision: before.revision });
    expectUnchanged(t, before);
  });

  it('a rewrite that adds a tool call and its result in the span commits', () => {
    const t = base();
    const r = right(planRewrite(t, req(1, 2, [calls('n1', 'n2'), results('n2', 'n1'), assistantText('a1 again')]), 5));
    expect(r.commit.messagesAfter).toBe(8);
    expect(transcriptMessages(r.transcript).map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'assistant', 'user', 'assistant', 'tool_results', 'assistant']);
  });

  it('a rewrite that strands a result is refused with InvalidTranscriptShape', () => {
    const t = base();
    const before = snapshot(t);
    // replace the tool call (index 3) by text: the result at 4 is stranded
    const e = left(planRewrite(t, req(3, 4, [assistantText('no call')]), 1));
    expect(e).toMatchObject({ _tag: 'InvalidTranscriptShape', index: 4 });
    // a replacement that is itself a bare result
    expect(left(planRewrite(t, req(1, 2, [results('z')]), 1))).toMatchObject({ _tag: 'InvalidTranscriptShape', index: 1 });
    expectUnchanged(t, before);
  });

  it('a rewrite that leaves an unresolved tool call inside the transcript is refused', () => {
    const t = base();
    // the replacement ends with a call, followed by the suffix's user message
    expect(left(planRewrite(t, req(0, 2, [userText('q'), calls('x')]), 1))).toMatchObject({ _tag: 'InvalidTranscriptShape', index: 2 });
    // a call as the new last message: a rewrite result must pass in full
    expect(left(planRewrite(t, req(5, 6, [calls('x')]), 1))).toMatchObject({ _tag: 'InvalidTranscriptShape', index: 5 });
    // removing the results of a call
    expect(left(planRewrite(t, req(4, 6, []), 1))).toMatchObject({ _tag: 'InvalidTranscriptShape', index: 3 });
  });

  it('a rewrite that duplicates a result id is refused', () => {
    const t = base();
    const e = left(planRewrite(t, req(4, 5, [results('a', 'a')]), 1));
    expect(e).toEqual({ _tag: 'InvalidTranscriptShape', index: 4, message: 'tool_results at message 4 has duplicate toolUseId "a"' });
  });

  it('the parent body stays retrievable: the record holds both bodies and validates', () => {
    const t = base();
    const parentMessages = transcriptMessages(t);
    const r = right(planRewrite(t, req(0, 3, [compactionSummary('s')]), 50));
    const record = rewriteRecordFor(parentMessages, r.commit, 10, 50, transcriptMessages(r.transcript));
    expect(record.parentBody).toEqual({ revision: transcriptRevision(t), messages: parentMessages, createdAt: 10 });
    expect(record.revisionBody).toEqual({
      revision: r.commit.revision,
      parentRevision: r.commit.parentRevision,
      messages: transcriptMessages(r.transcript),
      createdAt: 50,
    });
    expect(right(validateRewriteRecord(JSON.parse(JSON.stringify(record))))).toEqual(record);
  });

  it('a rewrite back to an earlier transcript (restore) reuses that revision', () => {
    const t0 = base();
    const m0 = transcriptMessages(t0);
    const r1 = right(planRewrite(t0, req(0, 3, [compactionSummary('s')]), 20));
    const r2 = right(planRewrite(r1.transcript, req(0, 1, m0.slice(0, 3)), 30));
    expect(r2.commit.revision).toBe(transcriptRevision(t0));
    expect(r2.commit.parentRevision).toBe(r1.commit.revision);
    const h = historyWithCommit(historyWithCommit(undefined, r1.commit), r2.commit);
    expect(h.revisions).toEqual([transcriptRevision(t0), r1.commit.revision, transcriptRevision(t0)]);
    expect(h.head).toBe(transcriptRevision(t0));
  });

  it('resumes hashing from the checkpoint: the prefix below it is never read', () => {
    const K = CHECKPOINT_INTERVAL;
    const all = Array.from({ length: 2 * K + 20 }, (_, i) => cheapMessage(i));
    const t = transcriptFromMessages(all);
    const poison = (): Message =>
      new Proxy({} as Message, {
        get: () => {
          throw new Error('read a prefix message');
        },
      });
    const poisoned: Transcript = { ...t, messages: vecFrom([...Array.from({ length: 2 * K }, poison), ...all.slice(2 * K)]) };
    const r = right(planRewrite(poisoned, req(2 * K + 3, 2 * K + 10, [userText('summary')]), 1));
    const want = [...all.slice(0, 2 * K + 3), { ...userText('summary'), createdAt: 1 }, ...all.slice(2 * K + 10)];
    expect(r.commit.revision).toBe(transcriptDigest(want));
    expect(r.commit.parentRevision).toBe(transcriptDigest(all));
  });
});
