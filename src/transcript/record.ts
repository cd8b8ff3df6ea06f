/**
 * Self-contained rewrite records (revisions.md §4): validation and construction.
 */
import * as E from 'fp-ts/lib/Either.js';
import { accumulatorDigest, commaMessageBytes, emptyAccumulator, framing, decodeWith, type Digest, type Message } from '../model/index.ts';
import { defaultSha256 } from '../model/hashing.ts';
import { invalidRewriteRange, noOpRewrite, type InvalidRewriteRange, type NoOpRewrite } from './rewrite.ts';
import {
  TranscriptRewriteRecordCodec,
  type Revision,
  type TranscriptRewriteCommit,
  type TranscriptRewriteRecord,
  type TranscriptRevisionBody,
} from './types.ts';

/** A rewrite record or history state breaks a rule; `reason` names what was found. */
export interface HistoryStateMalformed {
  readonly _tag: 'HistoryStateMalformed';
  readonly reason: string;
  readonly message: string;
}

/** Builds a `HistoryStateMalformed`. */
export const historyStateMalformed = (reason: string): HistoryStateMalformed => ({
  _tag: 'HistoryStateMalformed',
  reason,
  message: `malformed transcript history: ${reason}`,
});

/** What `validateRewriteRecord` can refuse. */
export type RewriteRecordError = HistoryStateMalformed | NoOpRewrite | InvalidRewriteRange;

/**
 * Digests of ranges of a message list, canonicalizing each message once.
 * `digest(from, to)` is `transcriptDigest(messages.slice(from, to))`.
 */
const rangeDigester = (messages: readonly Message[]): ((from: number, to: number) => Digest) => {
  // Each message's `,` and bytes (`commaMessageBytes`): the first of a range is hashed without its `,`.
  const bytes: Uint8Array[] = messages.map((m) => commaMessageBytes(m));
  return (from, to) => {
    const h = defaultSha256.create();
    h.update(framing.OPEN);
    for (let i = from; i < to; i++) h.update(i > from ? bytes[i]! : bytes[i]!.subarray(1));
    h.update(framing.CLOSE);
    return `sha256:${h.digestHex()}`;
  };
};

/**
 * Validates a rewrite record (revisions.md §4). Decodes `record` first with the
 * strict `TranscriptRewriteRecord` codec (failure: `HistoryStateMalformed` whose
 * reason starts with `decode:`), then checks, failing at the first rule broken:
 *
 * 1. `parentBody.revision == commit.parentRevision`, `revisionBody.revision ==
 *    commit.revision` (and `revisionBody.parentRevision`, when present, equals
 *    `commit.parentRevision`);
 * 2. `commit.parentRevision != commit.revision`, else `NoOpRewrite { revision }`;
 * 3. each body's messages digest to its revision;
 * 4. `start <= end <= parent length`, else `InvalidRewriteRange { start, end, messageCount }`;
 * 5. `messagesBefore` / `messagesAfter` equal the bodies' lengths;
 * 6. `digest(parent[start, end)) == originalSpanDigest`;
 * 7. replacement length `messagesAfter - (messagesBefore - (end - start))` is
 *    non-negative and fits the revision body;
 * 8. prefix `[0, start)` digest-equal in both bodies (reason: "… before the selected span");
 * 9. suffix after the span digest-equal in both bodies (reason: "… after the selected span");
 * 10. `digest(revision[start, start + replacementLength)) == replacementDigest`.
 *
 * Returns the decoded record. Every message is canonicalized once.
 */
export const validateRewriteRecord = (record: unknown): E.Either<RewriteRecordError, TranscriptRewriteRecord> => {
  const decoded = decodeWith(TranscriptRewriteRecordCodec, record);
  if (E.isLeft(decoded)) return E.left(historyStateMalformed(`decode: ${decoded.left.message}`));
  const r = decoded.right;
  const { commit, parentBody, revisionBody } = r;
  const bad = (reason: string): E.Either<RewriteRecordError, TranscriptRewriteRecord> => E.left(historyStateMalformed(reason));

  // 1
  if (parentBody.revision !== commit.parentRevision) {
    return bad(`parent body revision ${parentBody.revision} is not the commit's parent revision ${commit.parentRevision}`);
  }
  if (revisionBody.revision !== commit.revision) {
    return bad(`revision body revision ${revisionBody.revision} is not the commit's revision ${commit.revision}`);
  }
  if (revisionBody.parentRevision !== undefined && revisionBody.parentRevision !== commit.parentRevision) {
    return bad(`revision body names parent ${revisionBody.parentRevision}, the commit's parent revision is ${commit.parentRevision}`);
  }
  // 2
  if (commit.parentRevision === commit.revision) return E.left(noOpRewrite(commit.revision));
  // 3
  const parent = rangeDigester(parentBody.messages);
  const revised = rangeDigester(revisionBody.messages);
  const before = parentBody.messages.length;
  const after = revisionBody.messages.length;
  const parentDigest = parent(0, before);
  if (parentDigest !== commit.parentRevision) return bad(`parent body messages digest to ${parentDigest}, not the parent revision ${commit.parentRevision}`);
  const revisionDigest = revised(0, after);
  if (revisionDigest !== commit.revision) return bad(`revision body messages digest to ${revisionDigest}, not the revision ${commit.revision}`);
  // 4
  const { start, end } = commit.selection;
  if (start > end || end > before) return E.left(invalidRewriteRange(start, end, before));
  // 5
  if (commit.messagesBefore !== before) return bad(`messagesBefore is ${commit.messagesBefore}, the parent body has ${before} messages`);
  if (commit.messagesAfter !== after) return bad(`messagesAfter is ${commit.messagesAfter}, the revision body has ${after} messages`);
  // 6
  const spanDigest = parent(start, end);
  if (spanDigest !== commit.originalSpanDigest) return bad(`the parent's span [${start}, ${end}) digests to ${spanDigest}, not originalSpanDigest ${commit.originalSpanDigest}`);
  // 7
  const replacementLength = after - (before - (end - start));
  if (replacementLength < 0 || start + replacementLength > after) {
    return bad(`replacement length ${replacementLength} (messagesAfter ${after} - (messagesBefore ${before} - span ${end - start})) does not fit the revision body`);
  }
  // 8
  if (parent(0, start) !== revised(0, start)) return bad(`the bodies differ before the selected span: messages [0, ${start}) are not digest-equal`);
  // 9
  const suffixStart = start + replacementLength;
  if (parent(end, before) !== revised(suffixStart, after)) {
    return bad(`the bodies differ after the selected span: parent messages [${end}, ${before}) and revision messages [${suffixStart}, ${after}) are not digest-equal`);
  }
  // 10
  const replacementDigest = revised(start, suffixStart);
  if (replacementDigest !== commit.replacementDigest) {
    return bad(`revision messages [${start}, ${suffixStart}) digest to ${replacementDigest}, not replacementDigest ${commit.replacementDigest}`);
  }
  return E.right(r);
};

/** Options of `rewriteRecordFor`. */
export interface RewriteRecordOptions {
  /** The revision the parent revision itself came from, stored as `parentBody.parentRevision`. */
  readonly parentParentRevision?: Revision;
}

/**
 * Builds the self-contained record of `commit` (revisions.md §1):
 * `parentBody = { revision: commit.parentRevision, messages: parentMessages,
 * createdAt: parentCreatedAt }` (plus `parentRevision` from `opts`) and
 * `revisionBody = { revision: commit.revision, parentRevision: commit.parentRevision,
 * messages: revisionMessages, createdAt: revisionCreatedAt }`. Times in ms since epoch.
 * The message arrays are copied (the messages are shared). Nothing is checked:
 * pass the result to `validateRewriteRecord` to audit it.
 */
export const rewriteRecordFor = (
  parentMessages: readonly Message[],
  commit: TranscriptRewriteCommit,
  parentCreatedAt: number,
  revisionCreatedAt: number,
  revisionMessages: readonly Message[],
  opts: RewriteRecordOptions = {},
): TranscriptRewriteRecord => {
  const parentBody: TranscriptRevisionBody = {
    revision: commit.parentRevision,
    ...(opts.parentParentRevision !== undefined ? { parentRevision: opts.parentParentRevision } : {}),
    messages: [...parentMessages],
    createdAt: parentCreatedAt,
  };
  const revisionBody: TranscriptRevisionBody = {
    revision: commit.revision,
    parentRevision: commit.parentRevision,
    messages: [...revisionMessages],
    createdAt: revisionCreatedAt,
  };
  return { commit, parentBody, revisionBody };
};

/** The revision of `[]` (`sha256:4f53cd…b945`), handy for audits of empty bodies. */
export const EMPTY_REVISION: Revision = accumulatorDigest(emptyAccumulator());
