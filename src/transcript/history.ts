/**
 * Transcript history (revisions.md §1, §5): rebuilding it from rewrite records,
 * maintaining it as a session moves its head, and checking a stored state.
 */
import * as E from 'fp-ts/lib/Either.js';
import { transcriptDigest } from '../model/index.ts';
import { historyStateMalformed, validateRewriteRecord, type HistoryStateMalformed, type RewriteRecordError } from './record.ts';
import { decodeHistoryState, type Revision, type TranscriptHistoryState, type TranscriptRewriteCommit } from './types.ts';

/**
 * Validates every record (`validateRewriteRecord`, in order; the first failure is
 * returned, a `HistoryStateMalformed` reason prefixed with `record <i>: `), then
 * chains them (revisions.md §5): the first record's parent starts the chain; each
 * next record's parent must be the current head, or a later revision extending it
 * (its parent body starts with exactly the head's messages, checked by the digest
 * of that prefix: normal turns appended between two rewrites). Anything else is a
 * branch: `HistoryStateMalformed` whose reason contains "does not extend transcript head".
 *
 * Result: `head` = last record's revision, `commits` in order, `revisions` = the
 * first parent, then for each record its parent (when it differs from the
 * previous head: a head reached by appends) and its revision.
 * An empty list is `HistoryStateMalformed` ("no rewrite records").
 */
export const historyFromRewriteRecords = (records: readonly unknown[]): E.Either<RewriteRecordError, TranscriptHistoryState> => {
  if (records.length === 0) return E.left(historyStateMalformed('no rewrite records: a history starts with a rewrite'));
  const commits: TranscriptRewriteCommit[] = [];
  const revisions: Revision[] = [];
  let head: Revision | undefined;
  let headLength = 0;
  for (let i = 0; i < records.length; i++) {
    const v = validateRewriteRecord(records[i]);
    if (E.isLeft(v)) {
      const e = v.left;
      return E.left(e._tag === 'HistoryStateMalformed' ? historyStateMalformed(`record ${i}: ${e.reason}`) : e);
    }
    const { commit, parentBody, revisionBody } = v.right;
    if (head === undefined) {
      revisions.push(commit.parentRevision);
    } else if (commit.parentRevision !== head) {
      const extendsHead =
        parentBody.messages.length >= headLength && transcriptDigest(parentBody.messages.slice(0, headLength)) === head;
      if (!extendsHead) {
        return E.left(
          historyStateMalformed(
            `record ${i}: parent revision ${commit.parentRevision} does not extend transcript head ${head} (a branch: two rewrites of one parent belong in two forks)`,
          ),
        );
      }
      revisions.push(commit.parentRevision);
    }
    commits.push(commit);
    revisions.push(commit.revision);
    head = commit.revision;
    headLength = revisionBody.messages.length;
  }
  return E.right({ head: head!, commits, revisions });
};

/**
 * The history after the head moved to `revision` without a commit (append, system
 * prompt, notices). `undefined` stands for a session at genesis and gives
 * `{ head: revision, commits: [], revisions: [revision] }`. A revision equal to the
 * current head returns `h` itself (no consecutive duplicates; lets callers detect
 * an inert step). O(|revisions|): arrays are copied, `h` is unchanged; a session
 * that moves its head on every append should keep persistent vectors instead and
 * build this state on demand.
 */
export const historyWithHead = (h: TranscriptHistoryState | undefined, revision: Revision): TranscriptHistoryState => {
  if (h === undefined) return { head: revision, commits: [], revisions: [revision] };
  if (h.head === revision) return h;
  return { head: revision, commits: h.commits, revisions: [...h.revisions, revision] };
};

/**
 * The history after `commit`: its parent becomes a head first when it is not the
 * current one (appends since the last change), then `commit.revision` is the head
 * and `commit` is appended to `commits`. `undefined` stands for a session at
 * genesis (`revisions` = `[parent, revision]`). `h` is unchanged.
 */
export const historyWithCommit = (h: TranscriptHistoryState | undefined, commit: TranscriptRewriteCommit): TranscriptHistoryState => {
  const base = historyWithHead(h, commit.parentRevision);
  return { head: commit.revision, commits: [...base.commits, commit], revisions: [...base.revisions, commit.revision] };
};

/**
 * Decodes a stored history state and checks its invariants, failing with
 * `HistoryStateMalformed { reason }` at the first broken one:
 * `revisions` is non-empty, has no two consecutive equal entries and ends with
 * `head`; the commits appear in order as consecutive pairs
 * (`parentRevision`, `revision`) of `revisions`; no commit has
 * `parentRevision == revision`.
 */
export const checkHistoryState = (u: unknown): E.Either<HistoryStateMalformed, TranscriptHistoryState> => {
  const d = decodeHistoryState(u);
  if (E.isLeft(d)) return E.left(historyStateMalformed(`decode: ${d.left.message}`));
  const h = d.right;
  const { revisions, commits } = h;
  if (revisions.length === 0) return E.left(historyStateMalformed('revisions is empty'));
  if (revisions[revisions.length - 1] !== h.head) return E.left(historyStateMalformed(`the last revision is not the head ${h.head}`));
  for (let i = 1; i < revisions.length; i++) {
    if (revisions[i] === revisions[i - 1]) return E.left(historyStateMalformed(`revisions ${i - 1} and ${i} are the same consecutive head`));
  }
  let pos = 0;
  for (let c = 0; c < commits.length; c++) {
    const commit = commits[c]!;
    if (commit.parentRevision === commit.revision) return E.left(historyStateMalformed(`commit ${c} has parentRevision equal to revision`));
    let found = false;
    for (; pos + 1 < revisions.length; pos++) {
      if (revisions[pos] === commit.parentRevision && revisions[pos + 1] === commit.revision) {
        found = true;
        pos++;
        break;
      }
    }
    if (!found) return E.left(historyStateMalformed(`commit ${c} (${commit.parentRevision} -> ${commit.revision}) is not a step of revisions in commit order`));
  }
  return E.right(h);
};
