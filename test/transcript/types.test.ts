import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, transcriptDigest, userText } from '../../src/model/index.ts';
import {
  decodeHistoryState,
  decodeRewriteRequest,
  TranscriptRewriteCommitCodec,
  TranscriptRewriteReasonCodec,
  TranscriptRewriteSelectionCodec,
  TranscriptRevisionBodyCodec,
} from '../../src/transcript/index.ts';
import { left } from './helpers.ts';

const d = transcriptDigest([]);
const commit = {
  parentRevision: d,
  revision: d,
  selection: { type: 'message_range', start: 0, end: 1 },
  originalSpanDigest: d,
  replacementDigest: d,
  messagesBefore: 1,
  messagesAfter: 1,
  reason: { kind: 'compaction' },
  committedAt: 5,
};

describe('revision codecs', () => {
  it('selection: message_range with non-negative integer bounds', () => {
    expect(E.isRight(decodeWith(TranscriptRewriteSelectionCodec, { type: 'message_range', start: 0, end: 3 }))).toBe(true);
    expect(left(decodeWith(TranscriptRewriteSelectionCodec, { type: 'block_range', start: 0, end: 3 }))).toMatchObject({ path: '$.type' });
    expect(left(decodeWith(TranscriptRewriteSelectionCodec, { type: 'message_range', start: 1.5, end: 3 }))).toMatchObject({ reason: 'invalid_number' });
    expect(left(decodeWith(TranscriptRewriteSelectionCodec, { type: 'message_range', start: 0 }))).toMatchObject({ reason: 'missing_field', path: '$.end' });
  });

  it('reason: non-empty kind, optional note, nothing else', () => {
    expect(E.isRight(decodeWith(TranscriptRewriteReasonCodec, { kind: 'compaction', note: '1200 tokens' }))).toBe(true);
    expect(left(decodeWith(TranscriptRewriteReasonCodec, { kind: '' }))).toMatchObject({ reason: 'invalid_value', path: '$.kind' });
    expect(left(decodeWith(TranscriptRewriteReasonCodec, { kind: 'x', note: null }))).toMatchObject({ reason: 'wrong_type', path: '$.note' });
    expect(left(decodeWith(TranscriptRewriteReasonCodec, { kind: 'x', by: 'me' }))).toMatchObject({ reason: 'unknown_field' });
  });

  it('commit: every field of revisions.md §1, actor optional', () => {
    expect(E.isRight(decodeWith(TranscriptRewriteCommitCodec, commit))).toBe(true);
    expect(E.isRight(decodeWith(TranscriptRewriteCommitCodec, { ...commit, actor: 'ops' }))).toBe(true);
    expect(left(decodeWith(TranscriptRewriteCommitCodec, { ...commit, revision: 'sha1:00' }))).toMatchObject({ path: '$.revision' });
    expect(left(decodeWith(TranscriptRewriteCommitCodec, { ...commit, committedAt: -1 }))).toMatchObject({ reason: 'invalid_number' });
    const { committedAt: _c, ...noTime } = commit;
    expect(left(decodeWith(TranscriptRewriteCommitCodec, noTime))).toMatchObject({ reason: 'missing_field', path: '$.committedAt' });
  });

  it('revision body: messages need createdAt', () => {
    expect(E.isRight(decodeWith(TranscriptRevisionBodyCodec, { revision: d, messages: [{ ...userText('x'), createdAt: 1 }], createdAt: 1 }))).toBe(true);
    expect(left(decodeWith(TranscriptRevisionBodyCodec, { revision: d, messages: [userText('x')], createdAt: 1 }))).toMatchObject({
      reason: 'missing_field',
      path: '$.messages[0].createdAt',
    });
  });

  it('history state and rewrite request', () => {
    expect(E.isRight(decodeHistoryState({ head: d, commits: [commit], revisions: [d] }))).toBe(true);
    expect(left(decodeHistoryState({ head: d, commits: [] }))).toMatchObject({ reason: 'missing_field', path: '$.revisions' });
    const req = { selection: { type: 'message_range', start: 0, end: 0 }, replacement: [userText('x')], reason: { kind: 'edit' } };
    expect(E.isRight(decodeRewriteRequest(req))).toBe(true);
    expect(E.isRight(decodeRewriteRequest({ ...req, actor: 'a', expectedParentRevision: d }))).toBe(true);
    expect(left(decodeRewriteRequest({ ...req, expectedParentRevision: 'nope' }))).toMatchObject({ path: '$.expectedParentRevision' });
    expect(left(decodeRewriteRequest({ ...req, replacement: [{ role: 'robot' }] }))).toMatchObject({ reason: 'unknown_role', path: '$.replacement[0].role' });
  });
});
