/**
 * Codecs and types of the revision graph (revisions.md §1). Every object is strict
 * (unknown keys are `unknown_field`), nothing is defaulted on read.
 */
import type * as t from 'io-ts';
import type * as E from 'fp-ts/lib/Either.js';
import {
  arrayOf,
  decodeWith,
  DigestCodec,
  dispatch,
  literal,
  MessageInputCodec,
  MessagesCodec,
  MillisCodec,
  nat,
  nonEmptyStr,
  str,
  strict,
  type Codec,
  type DecodeError,
  type Digest,
  type MessageInput,
} from '../model/index.ts';

/** A revision: the transcript digest `sha256:<64 lowercase hex>` of a whole transcript. */
export const RevisionCodec: Codec<Digest> = DigestCodec;
/** A revision: `sha256:<64 lowercase hex>`. */
export type Revision = Digest;

/** `{ type: 'message_range', start, end }`: replaces messages `[start, end)` (indices, non-negative integers). */
export const TranscriptRewriteSelectionCodec = dispatch('TranscriptRewriteSelection', 'type', {
  message_range: strict('MessageRangeSelection', { type: literal('message_range'), start: nat, end: nat }),
});
/** Which messages a rewrite replaces: `{ type: 'message_range', start, end }`, i.e. `[start, end)`. */
export type TranscriptRewriteSelection = t.TypeOf<typeof TranscriptRewriteSelectionCodec>;

/** Why a rewrite happened, for audit only: `{ kind: non-empty string (e.g. 'compaction'), note?: string }`. */
export const TranscriptRewriteReasonCodec = strict('TranscriptRewriteReason', { kind: nonEmptyStr }, { note: str });
/** Why a rewrite happened (audit only). */
export type TranscriptRewriteReason = t.TypeOf<typeof TranscriptRewriteReasonCodec>;

/**
 * A validated rewrite from `parentRevision` to `revision`:
 * `originalSpanDigest` = digest of `parent[start, end)`, `replacementDigest` =
 * digest of the replacement messages, `messagesBefore` / `messagesAfter` = parent
 * and result lengths (messages), `committedAt` = record time (ms since epoch).
 */
export const TranscriptRewriteCommitCodec = strict(
  'TranscriptRewriteCommit',
  {
    parentRevision: RevisionCodec,
    revision: RevisionCodec,
    selection: TranscriptRewriteSelectionCodec,
    originalSpanDigest: RevisionCodec,
    replacementDigest: RevisionCodec,
    messagesBefore: nat,
    messagesAfter: nat,
    reason: TranscriptRewriteReasonCodec,
    committedAt: MillisCodec,
  },
  { actor: str },
);
/** A rewrite commit (revisions.md §1). */
export type TranscriptRewriteCommit = t.TypeOf<typeof TranscriptRewriteCommitCodec>;

/** A revision with its messages: `{ revision, parentRevision?, messages, createdAt (ms) }`. */
export const TranscriptRevisionBodyCodec = strict(
  'TranscriptRevisionBody',
  { revision: RevisionCodec, messages: MessagesCodec, createdAt: MillisCodec },
  { parentRevision: RevisionCodec },
);
/** A revision with its messages. */
export type TranscriptRevisionBody = t.TypeOf<typeof TranscriptRevisionBodyCodec>;

/** A self-contained rewrite for export and audit: `{ commit, parentBody, revisionBody }`. */
export const TranscriptRewriteRecordCodec = strict('TranscriptRewriteRecord', {
  commit: TranscriptRewriteCommitCodec,
  parentBody: TranscriptRevisionBodyCodec,
  revisionBody: TranscriptRevisionBodyCodec,
});
/** A self-contained rewrite record. */
export type TranscriptRewriteRecord = t.TypeOf<typeof TranscriptRewriteRecordCodec>;

/**
 * A session's revision history: `head`, `commits` in commit order, `revisions` =
 * every revision the session had as head since its genesis, in order (no two
 * consecutive equal; the last is `head`). Structural codec; `checkHistoryState`
 * (history.ts) also checks those invariants.
 */
export const TranscriptHistoryStateCodec = strict('TranscriptHistoryState', {
  head: RevisionCodec,
  commits: arrayOf(TranscriptRewriteCommitCodec, { name: 'TranscriptRewriteCommits' }),
  revisions: arrayOf(RevisionCodec, { name: 'Revisions' }),
});
/** A session's revision history (revisions.md §1). */
export type TranscriptHistoryState = t.TypeOf<typeof TranscriptHistoryStateCodec>;

/**
 * What `commitTranscriptRewrite` takes: `{ selection, replacement, reason, actor?,
 * expectedParentRevision? }`. Replacement messages may lack `createdAt` (stamped
 * with the record time).
 */
export const TranscriptRewriteRequestCodec = strict(
  'TranscriptRewriteRequest',
  {
    selection: TranscriptRewriteSelectionCodec,
    replacement: arrayOf(MessageInputCodec, { name: 'Replacement' }),
    reason: TranscriptRewriteReasonCodec,
  },
  { actor: str, expectedParentRevision: RevisionCodec },
);
/**
 * A rewrite request: what the codec decodes, with `replacement` widened to a
 * readonly array so callers can pass a session's `messages` directly (a decoded
 * request is assignable to it).
 */
export type TranscriptRewriteRequest = Omit<t.TypeOf<typeof TranscriptRewriteRequestCodec>, 'replacement'> & {
  readonly replacement: readonly MessageInput[];
};

/** Decodes a rewrite request from a caller (`Left(DecodeError)` on the first failure). */
export const decodeRewriteRequest = (u: unknown): E.Either<DecodeError, TranscriptRewriteRequest> => decodeWith(TranscriptRewriteRequestCodec, u);

/** Decodes a history state (structure only; see `checkHistoryState` for the invariants). */
export const decodeHistoryState = (u: unknown): E.Either<DecodeError, TranscriptHistoryState> => decodeWith(TranscriptHistoryStateCodec, u);
