import { describe, expect, it } from 'vitest';
import { assistantText, compactionSummary, transcriptDigest, userText, type Message } from '../../src/model/index.ts';
import {
  planRewrite,
  rewriteRecordFor,
  transcriptFromMessages,
  transcriptMessages,
  validateRewriteRecord,
  type TranscriptRewriteRecord,
} from '../../src/transcript/index.ts';
import { calls, left, results, right, stamp } from './helpers.ts';

/** A valid record: parent [q1 a1 q2 call(a) result(a) a2 q3], span [1, 3) replaced by one summary. */
const validRecord = (): TranscriptRewriteRecord => {
  const parent = transcriptFromMessages(
    stamp([userText('q1'), assistantText('a1'), userText('q2'), calls('a'), results('a'), assistantText('a2'), userText('q3')], 10),
  );
  const r = right(
    planRewrite(parent, { selection: { type: 'message_range', start: 1, end: 3 }, replacement: [compactionSummary('sum')], reason: { kind: 'compaction' } }, 20),
  );
  return structuredClone(rewriteRecordFor(transcriptMessages(parent), r.commit, 10, 20, transcriptMessages(r.transcript)));
};

const tamper = (m: Message): Message => ({ role: 'system_notice', kind: 'tamper', text: JSON.stringify(m), createdAt: m.createdAt });

/** Recomputes the bodies' revisions and the commit's revision fields after an edit of the messages. */
const recomputeRevisions = (rec: TranscriptRewriteRecord): TranscriptRewriteRecord => {
  const parentRevision = transcriptDigest(rec.parentBody.messages);
  const revision = transcriptDigest(rec.revisionBody.messages);
  return {
    commit: { ...rec.commit, parentRevision, revision },
    parentBody: { ...rec.parentBody, revision: parentRevision },
    revisionBody: { ...rec.revisionBody, revision, parentRevision },
  };
};

const malformed = (rec: unknown) => {
  const e = left(validateRewriteRecord(rec));
  expect(e._tag).toBe('HistoryStateMalformed');
  return e as Extract<typeof e, { _tag: 'HistoryStateMalformed' }>;
};

describe('validateRewriteRecord', () => {
  it('accepts a record built from a planned rewrite, also after a JSON round trip', () => {
    const rec = validRecord();
    expect(right(validateRewriteRecord(rec))).toEqual(rec);
    expect(right(validateRewriteRecord(JSON.parse(JSON.stringify(rec))))).toEqual(rec);
  });

  it('decodes first: unknown keys, missing fields and bad digests are HistoryStateMalformed', () => {
    const rec = validRecord();
    expect(malformed({ ...rec, extra: 1 }).reason).toMatch(/^decode: unknown_field at \$\.extra/);
    expect(malformed({ ...rec, commit: { ...rec.commit, committedAt: undefined } }).reason).toContain('missing_field');
    expect(malformed({ ...rec, commit: { ...rec.commit, revision: 'sha256:xyz' } }).reason).toContain('$.commit.revision');
    expect(malformed(null).reason).toContain('decode');
    expect(malformed({ ...rec, commit: { ...rec.commit, reason: { kind: '' } } }).reason).toContain('$.commit.reason.kind');
  });

  it('rule 1: body revisions must be the commit revisions', () => {
    const rec = validRecord();
    expect(malformed({ ...rec, parentBody: { ...rec.parentBody, revision: rec.commit.revision } }).reason).toContain('parent body revision');
    expect(malformed({ ...rec, revisionBody: { ...rec.revisionBody, revision: rec.commit.parentRevision } }).reason).toContain('revision body revision');
    expect(malformed({ ...rec, revisionBody: { ...rec.revisionBody, parentRevision: rec.commit.revision } }).reason).toContain('names parent');
  });

  it('rule 2: parentRevision == revision is NoOpRewrite { revision }', () => {
    const rec = validRecord();
    const p = rec.commit.parentRevision;
    const noop = { ...rec, commit: { ...rec.commit, revision: p }, revisionBody: { ...rec.parentBody, revision: p, parentRevision: p } };
    expect(left(validateRewriteRecord(noop))).toMatchObject({ _tag: 'NoOpRewrite', revision: p });
  });

  it('rule 3: body messages must digest to their revisions', () => {
    const rec = validRecord();
    const edited = structuredClone(rec);
    edited.parentBody.messages[0] = tamper(edited.parentBody.messages[0]!);
    expect(malformed(edited).reason).toContain('parent body messages digest');
    const edited2 = structuredClone(rec);
    edited2.revisionBody.messages.push(stamp([userText('more')])[0]!);
    expect(malformed(edited2).reason).toContain('revision body messages digest');
  });

  it('rule 4: the selection must fit the parent: InvalidRewriteRange { start, end, messageCount }', () => {
    const rec = validRecord();
    expect(left(validateRewriteRecord({ ...rec, commit: { ...rec.commit, selection: { type: 'message_range', start: 2, end: 8 } } }))).toMatchObject({
      _tag: 'InvalidRewriteRange',
      start: 2,
      end: 8,
      messageCount: 7,
    });
    expect(left(validateRewriteRecord({ ...rec, commit: { ...rec.commit, selection: { type: 'message_range', start: 3, end: 1 } } }))).toMatchObject({
      _tag: 'InvalidRewriteRange',
      start: 3,
      end: 1,
    });
  });

  it('rule 5: messagesBefore and messagesAfter must be the body lengths', () => {
    const rec = validRecord();
    expect(malformed({ ...rec, commit: { ...rec.commit, messagesBefore: 6 } }).reason).toContain('messagesBefore');
    expect(malformed({ ...rec, commit: { ...rec.commit, messagesAfter: 7 } }).reason).toContain('messagesAfter');
  });

  it('rule 6: originalSpanDigest must be the digest of the parent span', () => {
    const rec = validRecord();
    expect(malformed({ ...rec, commit: { ...rec.commit, originalSpanDigest: rec.commit.replacementDigest } }).reason).toContain('originalSpanDigest');
    // a different selection of the same length fails here too
    expect(malformed({ ...rec, commit: { ...rec.commit, selection: { type: 'message_range', start: 2, end: 4 } } }).reason).toContain('originalSpanDigest');
  });

  it('rule 7: the replacement length must not be negative', () => {
    const rec = validRecord();
    // claim an empty span was replaced while the body shrank by one: 6 - (7 - 0) = -1
    const sel = { type: 'message_range' as const, start: 0, end: 0 };
    const r = malformed({ ...rec, commit: { ...rec.commit, selection: sel, originalSpanDigest: transcriptDigest([]) } });
    expect(r.reason).toContain('replacement length -1');
  });

  it('rule 8: a changed prefix message is rejected even with recomputed revision digests', () => {
    for (const side of ['parentBody', 'revisionBody'] as const) {
      const rec = validRecord();
      rec[side].messages[0] = tamper(rec[side].messages[0]!);
      const forged = recomputeRevisions(rec);
      expect(malformed(forged).reason).toContain('before the selected span');
    }
  });

  it('rule 9: a changed suffix message is rejected even with recomputed revision digests', () => {
    for (const [side, index] of [['parentBody', 3], ['parentBody', 6], ['revisionBody', 2], ['revisionBody', 5]] as const) {
      const rec = validRecord();
      rec[side].messages[index] = tamper(rec[side].messages[index]!);
      const forged = recomputeRevisions(rec);
      expect(malformed(forged).reason).toContain('after the selected span');
    }
    // a dropped suffix message (lengths recomputed too) is caught as well
    const rec = validRecord();
    rec.revisionBody.messages.pop();
    const forged = recomputeRevisions(rec);
    forged.commit.messagesAfter -= 1;
    expect(malformed(forged).reason).toMatch(/after the selected span|replacement length/);
  });

  it('rule 10: replacementDigest must be the digest of the replacement', () => {
    const rec = validRecord();
    expect(malformed({ ...rec, commit: { ...rec.commit, replacementDigest: rec.commit.originalSpanDigest } }).reason).toContain('replacementDigest');
    // a changed replacement with recomputed revision digests: only rule 10 can see it
    const edited = validRecord();
    edited.revisionBody.messages[1] = tamper(edited.revisionBody.messages[1]!);
    expect(malformed(recomputeRevisions(edited)).reason).toContain('replacementDigest');
  });
});
