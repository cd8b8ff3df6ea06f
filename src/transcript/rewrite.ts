/**
 * Planning a rewrite commit (revisions.md §3, steps 1–5), purely: the caller (the
 * session reducer) records the commit and adopts the new transcript on `Right`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { stampMessage, transcriptDigest, type Message } from '../model/index.ts';
import { validateShapeFrom, type InvalidTranscriptShape } from './shape.ts';
import {
  replaceSpan,
  spanDigest,
  transcriptLength,
  transcriptMessageAt,
  transcriptRevision,
  deepFreeze,
  type Transcript,
} from './transcript.ts';
import { vecIter } from './vector.ts';
import type { Revision, TranscriptRewriteCommit, TranscriptRewriteRequest } from './types.ts';

/** `expectedParentRevision` was given and is not the current head `actual`. */
export interface RevisionConflict {
  readonly _tag: 'RevisionConflict';
  readonly expected: Revision;
  readonly actual: Revision;
  readonly message: string;
}

/** The selection `[start, end)` does not fit a transcript of `messageCount` messages (`start > end` or `end > messageCount`). */
export interface InvalidRewriteRange {
  readonly _tag: 'InvalidRewriteRange';
  readonly start: number;
  readonly end: number;
  readonly messageCount: number;
  readonly message: string;
}

/** The rewrite would leave the transcript at its current revision; nothing is recorded. */
export interface NoOpRewrite {
  readonly _tag: 'NoOpRewrite';
  readonly revision: Revision;
  readonly message: string;
}

/** Builds a `RevisionConflict`. */
export const revisionConflict = (expected: Revision, actual: Revision): RevisionConflict => ({
  _tag: 'RevisionConflict',
  expected,
  actual,
  message: `expected parent revision ${expected}, but the head is ${actual}`,
});

/** Builds an `InvalidRewriteRange`. */
export const invalidRewriteRange = (start: number, end: number, messageCount: number): InvalidRewriteRange => ({
  _tag: 'InvalidRewriteRange',
  start,
  end,
  messageCount,
  message: `invalid rewrite range [${start}, ${end}) for a transcript of ${messageCount} messages`,
});

/** Builds a `NoOpRewrite`. */
export const noOpRewrite = (revision: Revision): NoOpRewrite => ({
  _tag: 'NoOpRewrite',
  revision,
  message: `the rewrite leaves the transcript at revision ${revision}`,
});

/** Everything `planRewrite` can refuse. */
export type TranscriptRewriteError = RevisionConflict | InvalidRewriteRange | InvalidTranscriptShape | NoOpRewrite;

/**
 * The errors of a transcript edit. Here the same as `TranscriptRewriteError`; the
 * session widens its own `TranscriptEditError` with `SessionArchived`.
 */
export type TranscriptEditError = TranscriptRewriteError;

/** A planned rewrite: the new transcript and the commit from the old head to its revision. */
export interface PlannedRewrite {
  readonly transcript: Transcript;
  readonly commit: TranscriptRewriteCommit;
}

/**
 * Plans `req` against `t` at record time `at` (ms since epoch), revisions.md §3:
 *
 * 1. `expectedParentRevision` given and not the head `P`: `RevisionConflict { expected, actual: P }`;
 * 2. `start > end` or `end > length`: `InvalidRewriteRange { start, end, messageCount }`;
 * 3. `R = t[0, start) ++ replacement ++ t[end, n)` (replacement messages without
 *    `createdAt` get `at`) must pass the shape rules in full: `InvalidTranscriptShape`.
 *    The pairs are checked from (`start - 1`, `start`) on; the pairs of the untouched
 *    prefix passed when they were appended, so the prefix is not read again;
 * 4. `digest(R) == P`: `NoOpRewrite { revision: P }`;
 * 5. `Right({ transcript: R, commit })` with `committedAt = at`.
 *
 * Cost (model.md §7.4): hashing resumes from the checkpoint at or below `start`;
 * the removed span and the replacement are hashed once more for the commit.
 * `t` is never changed.
 */
export const planRewrite = (t: Transcript, req: TranscriptRewriteRequest, at: number): E.Either<TranscriptRewriteError, PlannedRewrite> => {
  const parentRevision = transcriptRevision(t);
  if (req.expectedParentRevision !== undefined && req.expectedParentRevision !== parentRevision) {
    return E.left(revisionConflict(req.expectedParentRevision, parentRevision));
  }
  const n = transcriptLength(t);
  const { start, end } = req.selection;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > n) {
    return E.left(invalidRewriteRange(start, end, n));
  }
  const replacement: Message[] = req.replacement.map((m) => deepFreeze(stampMessage(m, at)));
  const result = replaceSpan(t, start, end, replacement);
  // Every pair before (start - 1, start) is unchanged from the parent.
  const shape = validateShapeFrom(vecIter(result.messages, start), start, start > 0 ? transcriptMessageAt(result, start - 1) : undefined);
  if (E.isLeft(shape)) return shape;
  const revision = transcriptRevision(result);
  if (revision === parentRevision) return E.left(noOpRewrite(parentRevision));
  const commit: TranscriptRewriteCommit = {
    parentRevision,
    revision,
    selection: { type: 'message_range', start, end },
    originalSpanDigest: spanDigest(t, start, end),
    replacementDigest: transcriptDigest(replacement),
    messagesBefore: n,
    messagesAfter: transcriptLength(result),
    reason: req.reason.note === undefined ? { kind: req.reason.kind } : { kind: req.reason.kind, note: req.reason.note },
    ...(req.actor !== undefined ? { actor: req.actor } : {}),
    committedAt: at,
  };
  return E.right({ transcript: result, commit: Object.freeze(commit) });
};
