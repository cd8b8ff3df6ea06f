/**
 * The JSON shapes the inspector's data API serves and its page reads (types
 * only: the page imports them too). Times are ms since the epoch, token counts
 * are tokens, indexes are 0-based message indexes, seqs are record seqs.
 */
import type { Message } from '../model/message.ts';
import type { Usage } from '../model/usage.ts';
import type { TranscriptRewriteCommit } from '../transcript/index.ts';
import type { HeaderFork, VerifyProblem } from '../store/index.ts';
import type { Comparison } from './compare.ts';
import type { SpanDiff } from './diff.ts';

/** One row of the sessions view. */
export interface SessionRow {
  readonly sessionId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastSeq: number;
  readonly revision: string;
  readonly messages: number;
  readonly status: 'active' | 'archived';
  /** Cumulative usage (tokens) at the newest record. */
  readonly usage: Usage;
  /** Rewrite commits in the session's history. */
  readonly rewrites: number;
  readonly parent?: HeaderFork;
}

/** The verify badge of one session (`store.verify(id)`): `ok`, the problems, the first broken record seq. */
export interface VerifyView {
  readonly sessionId: string;
  readonly ok: boolean;
  readonly records: number;
  readonly problems: readonly VerifyProblem[];
  /** The seq of the first record problem (absent when none, or only header/index problems at seq 0). */
  readonly firstBrokenSeq?: number;
}

/**
 * A label as the inspector shows it. `setOn`: the session whose newest state
 * holds it (a fork holds the labels it inherited). `ok`: checked against the
 * log, it names record `seq` of `sessionId` (the labelled session, or for an
 * inherited label its ancestor), whose transcript revision is `revision`;
 * `pi` is the pi entry id when the pi import set it. `mismatch`: its recorded
 * seq or revision disagrees with the log (or its value is malformed), so it
 * names no point and only its error is shown.
 */
export type LabelView =
  | { readonly status: 'ok'; readonly label: string; readonly setOn: string; readonly sessionId: string; readonly seq: number; readonly revision: string; readonly pi?: string }
  | { readonly status: 'mismatch'; readonly label: string; readonly setOn: string; readonly error: { readonly _tag: 'LabelMismatch'; readonly message: string } };

/** The fork graph: every session, and an edge from each fork to its parent record. */
export interface LineageView {
  readonly nodes: ReadonlyArray<{ readonly sessionId: string; readonly messages: number; readonly lastSeq: number; readonly status: 'active' | 'archived' }>;
  readonly edges: ReadonlyArray<{ readonly parent: string; readonly child: string; readonly seq: number; readonly hash: string; readonly mode: string }>;
  readonly labels: readonly LabelView[];
}

/** One head change of the timeline; `commit` is set when a rewrite commit made it. */
export interface TimelineNode {
  readonly seq: number;
  readonly revision: string;
  readonly commandType: string;
  /** When the event that made it happened, by the import's original times (ms; imports only). */
  readonly originalAt?: number;
  readonly commit?: TranscriptRewriteCommit;
}

/** The revision timeline of a session. */
export interface TimelineView {
  readonly sessionId: string;
  readonly head: string;
  readonly nodes: readonly TimelineNode[];
  readonly commits: ReadonlyArray<{ readonly seq: number; readonly commit: TranscriptRewriteCommit }>;
  readonly forkedFrom?: HeaderFork;
  /** The labels the session holds (own and inherited), checked against the log. */
  readonly labels: readonly LabelView[];
  /** Why labels and original times are left out: the session's head could not be read (e.g. a record fails its check). */
  readonly annotationsError?: { readonly _tag: string; readonly message: string };
}

/** One message of a transcript page, with its index and digest. */
export interface TranscriptEntry {
  readonly index: number;
  readonly digest: string;
  readonly message: Message;
}

/** A page of the transcript the model saw after record `seq`. */
export interface TranscriptPage {
  readonly sessionId: string;
  readonly seq: number;
  readonly revision: string;
  readonly total: number;
  readonly offset: number;
  readonly entries: readonly TranscriptEntry[];
}

/** One row of the record log. `at`: when the record was written; `originalAt`: when its event happened by the import's original times (pi's entry time; imports only). */
export interface LogRow {
  readonly seq: number;
  readonly at: number;
  readonly originalAt?: number;
  readonly type: string;
  readonly summary: string;
  readonly prev: string;
  readonly hash: string;
  readonly revision: string;
}

/** A page of the record log. `broken`: a record in the page's range that fails its hash or link check (shown in its place, never as data); `brokenTail`: reading after it failed too. */
export interface LogPage {
  readonly sessionId: string;
  readonly total: number;
  readonly from: number;
  readonly rows: readonly LogRow[];
  /** The labels the session holds (own and inherited), checked against the log. */
  readonly labels: readonly LabelView[];
  /** Why labels and original times are left out: the session's head could not be read (e.g. a record fails its check). */
  readonly annotationsError?: { readonly _tag: string; readonly message: string };
  readonly broken?: { readonly seq: number; readonly _tag: string; readonly reason: string };
  readonly brokenTail?: { readonly seq: number; readonly _tag: string; readonly message: string };
}

/**
 * The chart series of a session: per record, the transcript length after it
 * (messages) and its text size (UTF-16 code units of the message texts); per
 * assistant message with usage, its tokens (the input tokens are the context
 * the model saw in that call).
 */
export interface SeriesView {
  readonly sessionId: string;
  readonly records: { readonly seq: number[]; readonly messages: number[]; readonly chars: number[] };
  readonly turns: { readonly seq: number[]; readonly index: number[]; readonly inputTokens: number[]; readonly outputTokens: number[]; readonly cacheReadTokens: number[] };
  /** Seqs of the rewrite commits (the drops in context size). */
  readonly commitSeqs: number[];
}

/** Search hits in the transcript at the head (at most `limit`; `total` counts all). */
export interface SearchView {
  readonly sessionId: string;
  readonly query: string;
  readonly total: number;
  readonly hits: ReadonlyArray<{ readonly index: number; readonly role: string; readonly snippet: string }>;
}

/**
 * A diff as the page gets it: both points, the counts and the hunks' spans
 * (no digests: a kept span of 50,000 messages would be 3.5 MB of them), with
 * the changed messages' one-line summaries (at most `DIFF_SUMMARY_LIMIT` per side).
 */
export interface DiffView extends Omit<Comparison, 'diff'> {
  readonly diff: SpanDiff;
  readonly removedSummaries: ReadonlyArray<{ readonly index: number; readonly role: string; readonly summary: string }>;
  readonly addedSummaries: ReadonlyArray<{ readonly index: number; readonly role: string; readonly summary: string }>;
}

/** An error as the API serves it: `{ error: { _tag, message, … } }`. */
export interface ApiError {
  readonly error: { readonly _tag: string; readonly message: string };
}
