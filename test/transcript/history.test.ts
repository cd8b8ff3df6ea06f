import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { assistantText, compactionSummary, stampMessage, systemMessage, transcriptDigest, userText, type MessageInput } from '../../src/model/index.ts';
import {
  appendToTranscript,
  checkAppend,
  checkHistoryState,
  historyFromRewriteRecords,
  historyWithCommit,
  historyWithHead,
  planRewrite,
  replaceSpan,
  rewriteRecordFor,
  transcriptFromMessages,
  transcriptMessages,
  transcriptRevision,
  type Transcript,
  type TranscriptHistoryState,
  type TranscriptRewriteRecord,
  type TranscriptRewriteRequest,
} from '../../src/transcript/index.ts';
import { calls, left, results, right, stamp } from './helpers.ts';

/** A minimal session model: a transcript, a clock, the history helpers and the records of each rewrite. */
interface Sim {
  readonly t: Transcript;
  readonly at: number;
  readonly headSince: number;
  readonly history: TranscriptHistoryState | undefined;
  readonly records: readonly TranscriptRewriteRecord[];
}

const start = (ms: MessageInput[]): Sim => {
  const t = transcriptFromMessages(stamp(ms, 1));
  return { t, at: 1, headSince: 1, history: historyWithHead(undefined, transcriptRevision(t)), records: [] };
};

const append = (s: Sim, ms: MessageInput[]): Sim => {
  const at = s.at + 1;
  const stamped = ms.map((m) => stampMessage(m, at));
  right(checkAppend(s.t, stamped));
  const t = appendToTranscript(s.t, stamped);
  return { ...s, t, at, headSince: at, history: historyWithHead(s.history, transcriptRevision(t)) };
};

const rewrite = (s: Sim, r: Omit<TranscriptRewriteRequest, 'reason'>): Sim => {
  const at = s.at + 1;
  const planned = right(planRewrite(s.t, { ...r, reason: { kind: 'compaction' } }, at));
  const record = rewriteRecordFor(transcriptMessages(s.t), planned.commit, s.headSince, at, transcriptMessages(planned.transcript));
  return { t: planned.transcript, at, headSince: at, history: historyWithCommit(s.history, planned.commit), records: [...s.records, record] };
};

const range = (start: number, end: number) => ({ type: 'message_range' as const, start, end });

describe('historyFromRewriteRecords', () => {
  it('rewrite, append, rewrite again: the history validates and replaying the records rebuilds the same head', () => {
    let s = start([userText('q1'), assistantText('a1'), userText('q2'), calls('x'), results('x'), assistantText('a2')]);
    const genesis = transcriptRevision(s.t);
    s = rewrite(s, { selection: range(0, 3), replacement: [compactionSummary('first summary')] });
    const r1 = transcriptRevision(s.t);
    s = append(s, [userText('q3'), assistantText('a3')]);
    const appended = transcriptRevision(s.t);
    s = rewrite(s, { selection: range(0, 4), replacement: [compactionSummary('second summary')] });
    const r2 = transcriptRevision(s.t);

    const h = right(historyFromRewriteRecords(JSON.parse(JSON.stringify(s.records)) as unknown[]));
    expect(h.head).toBe(r2);
    expect(h.head).toBe(transcriptDigest(transcriptMessages(s.t)));
    expect(h.commits).toEqual(s.records.map((r) => r.commit));
    expect(h.revisions).toEqual([genesis, r1, appended, r2]);
    // the session-maintained history agrees with the one rebuilt from records
    expect(s.history).toEqual(h);
    expect(right(checkHistoryState(h))).toEqual(h);

    // replaying: start from the first parent body, apply each record's span edit, reach every recorded revision
    const first = s.records[0]!;
    let t = transcriptFromMessages(structuredClone(first.parentBody.messages));
    for (const rec of s.records) {
      // normal turns appended between rewrites: the parent extends the current head
      const parent = rec.parentBody.messages;
      t = appendToTranscript(t, structuredClone(parent.slice(transcriptMessages(t).length)));
      expect(transcriptRevision(t)).toBe(rec.commit.parentRevision);
      const { start: a, end: b } = rec.commit.selection;
      const replLen = rec.commit.messagesAfter - (rec.commit.messagesBefore - (b - a));
      t = replaceSpan(t, a, b, structuredClone(rec.revisionBody.messages.slice(a, a + replLen)));
      expect(transcriptRevision(t)).toBe(rec.commit.revision);
    }
    expect(transcriptRevision(t)).toBe(h.head);
  });

  it('two rewrites of the same parent in two copies cannot be replayed as one history', () => {
    const base = start([userText('q1'), assistantText('a1'), userText('q2'), assistantText('a2')]);
    const left1 = rewrite(base, { selection: range(0, 2), replacement: [compactionSummary('left')] });
    const right1 = rewrite(base, { selection: range(0, 2), replacement: [compactionSummary('right')] });
    expect(E.isRight(historyFromRewriteRecords(left1.records))).toBe(true);
    expect(E.isRight(historyFromRewriteRecords(right1.records))).toBe(true);
    const e = left(historyFromRewriteRecords([...left1.records, ...right1.records]));
    expect(e._tag).toBe('HistoryStateMalformed');
    expect(e._tag === 'HistoryStateMalformed' && e.reason).toContain('does not extend transcript head');
    // also after an append on one side
    const grown = append(right1, [userText('q3')]);
    const again = rewrite(grown, { selection: range(1, 3), replacement: [assistantText('merged')] });
    const e2 = left(historyFromRewriteRecords([...left1.records, again.records[1]!]));
    expect(e2._tag === 'HistoryStateMalformed' && e2.reason).toContain('does not extend transcript head');
  });

  it('a restore rewrites back to an earlier revision and the chain stays valid', () => {
    let s = start([userText('q1'), assistantText('a1'), userText('q2')]);
    const genesis = transcriptRevision(s.t);
    const original = transcriptMessages(s.t);
    s = rewrite(s, { selection: range(0, 2), replacement: [compactionSummary('s')] });
    s = rewrite(s, { selection: range(0, 1), replacement: original.slice(0, 2) });
    expect(transcriptRevision(s.t)).toBe(genesis);
    const h = right(historyFromRewriteRecords(s.records));
    expect(h.head).toBe(genesis);
    expect(h.revisions).toEqual([genesis, s.records[0]!.commit.revision, genesis]);
    expect(h.commits[1]!.committedAt).toBe(s.at);
  });

  it('an invalid record fails the whole history, with its index in the reason', () => {
    let s = start([userText('q1'), assistantText('a1')]);
    s = rewrite(s, { selection: range(0, 1), replacement: [userText('Q1')] });
    s = rewrite(s, { selection: range(1, 2), replacement: [assistantText('A1')] });
    const forged = structuredClone(s.records) as TranscriptRewriteRecord[];
    forged[1]!.commit.messagesAfter = 9;
    const e = left(historyFromRewriteRecords(forged));
    expect(e._tag === 'HistoryStateMalformed' && e.reason).toMatch(/^record 1: messagesAfter/);
    expect(left(historyFromRewriteRecords([]))._tag).toBe('HistoryStateMalformed');
  });
});

describe('history helpers', () => {
  const r = (i: number) => transcriptDigest([stampMessage(userText(String(i)), 0)]);

  it('historyWithHead tracks heads without consecutive duplicates and leaves its input alone', () => {
    const h0 = historyWithHead(undefined, r(0));
    expect(h0).toEqual({ head: r(0), commits: [], revisions: [r(0)] });
    const h1 = historyWithHead(h0, r(1));
    expect(historyWithHead(h1, r(1))).toBe(h1);
    expect(h1).toEqual({ head: r(1), commits: [], revisions: [r(0), r(1)] });
    expect(h0.revisions).toEqual([r(0)]);
  });

  it('historyWithCommit adds the parent when the head moved by appends, then the revision', () => {
    let s = start([userText('q'), assistantText('a')]);
    s = append(s, [userText('q2')]);
    const t0 = s.t;
    const p = right(planRewrite(t0, { selection: range(0, 1), replacement: [userText('Q')], reason: { kind: 'edit' } }, 9));
    const fromUndefined = historyWithCommit(undefined, p.commit);
    expect(fromUndefined).toEqual({ head: p.commit.revision, commits: [p.commit], revisions: [p.commit.parentRevision, p.commit.revision] });
    const stale = historyWithHead(undefined, transcriptDigest([]));
    expect(historyWithCommit(stale, p.commit).revisions).toEqual([transcriptDigest([]), p.commit.parentRevision, p.commit.revision]);
  });

  it('setting a system prompt after a rewrite moves the head and keeps the history valid', () => {
    let s = start([userText('q1'), assistantText('a1'), userText('q2')]);
    s = rewrite(s, { selection: range(0, 2), replacement: [compactionSummary('s')] });
    // what the session does for system_prompt_set: insert at 0, move the head
    const t = replaceSpan(s.t, 0, 0, [stampMessage(systemMessage('be brief'), 50)]);
    const h = historyWithHead(s.history, transcriptRevision(t));
    expect(h.head).toBe(transcriptDigest(transcriptMessages(t)));
    expect(right(checkHistoryState(h))).toEqual(h);
    // a later rewrite chains from the new head
    const s2 = rewrite({ ...s, t, history: h, at: 50, headSince: 50 }, { selection: range(1, 2), replacement: [compactionSummary('s2')] });
    expect(right(checkHistoryState(s2.history)).commits).toHaveLength(2);
    expect(s2.history!.revisions).toEqual([s.history!.revisions[0], s.history!.head, transcriptRevision(t), s2.history!.head]);
    // Records alone bridge only appends (revisions.md §5): a prompt inserted at index 0
    // between two rewrites is not a prefix extension, so the record chain reads as a branch.
    const e = left(historyFromRewriteRecords(s2.records));
    expect(e._tag === 'HistoryStateMalformed' && e.reason).toContain('does not extend transcript head');
  });

  it('checkHistoryState refuses broken invariants', () => {
    let s = start([userText('q1'), assistantText('a1')]);
    s = rewrite(s, { selection: range(0, 1), replacement: [userText('Q1')] });
    const h = s.history!;
    const reason = (u: unknown) => {
      const e = left(checkHistoryState(u));
      expect(e._tag).toBe('HistoryStateMalformed');
      return e.reason;
    };
    expect(reason({ ...h, extra: true })).toContain('decode');
    expect(reason({ ...h, revisions: [] })).toContain('empty');
    expect(reason({ ...h, head: h.revisions[0] })).toContain('head');
    expect(reason({ ...h, revisions: [h.revisions[0], h.revisions[0], h.revisions[1]] })).toContain('consecutive');
    expect(reason({ ...h, revisions: [...h.revisions].reverse(), head: h.revisions[0] })).toContain('commit 0');
  });
});
