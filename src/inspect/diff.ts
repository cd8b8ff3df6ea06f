/**
 * The message-level diff of two transcripts (pure): which messages were kept,
 * removed, replaced or added, with their indexes and message digests.
 *
 * Messages are compared by digest (SHA-256 of the canonical JSON of the
 * message's digest form, model.md §4), so two messages are "the same" exactly
 * when they contribute the same bytes to the transcript revision.
 *
 * Algorithm: the common prefix and suffix are matched first (a rewrite commit
 * replaces one contiguous span, so between a revision and its rewrite this is
 * the exact answer in O(n)); what remains in the middle is diffed with Myers'
 * algorithm (`diffArrays` of the `diff` package) when its edit script is at most
 * `maxEdits` long, else it is reported as one replaced span. A removed span
 * directly followed by an added one (or the reverse) is one `replaced` hunk.
 */
import { diffArrays } from 'diff';
import { canonicalMessageBytes, sha256Digest, type Digest } from '../model/index.ts';
import type { Message, MessageInput } from '../model/message.ts';

/** A half-open range `[start, end)` of message indexes. */
export interface IndexSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * One hunk of a diff. `a` is the span in the old transcript, `b` in the new one;
 * an empty span (`start === end`) marks where the other side's messages were
 * taken out or put in.
 */
export type DiffHunk =
  | { readonly kind: 'kept'; readonly a: IndexSpan; readonly b: IndexSpan; readonly digests: readonly Digest[] }
  | { readonly kind: 'removed'; readonly a: IndexSpan; readonly b: IndexSpan; readonly removed: readonly Digest[] }
  | { readonly kind: 'added'; readonly a: IndexSpan; readonly b: IndexSpan; readonly added: readonly Digest[] }
  | { readonly kind: 'replaced'; readonly a: IndexSpan; readonly b: IndexSpan; readonly removed: readonly Digest[]; readonly added: readonly Digest[] };

/** Message counts of a diff. `replaced` messages of the old side were replaced by `replacements` of the new side. */
export interface DiffCounts {
  readonly kept: number;
  readonly removed: number;
  readonly added: number;
  readonly replaced: number;
  readonly replacements: number;
}

/** A message-level diff: the two lengths, the counts, and the hunks in order (they cover both transcripts exactly). */
export interface MessageDiff {
  /** Messages in the old transcript. */
  readonly aCount: number;
  /** Messages in the new transcript. */
  readonly bCount: number;
  readonly counts: DiffCounts;
  readonly hunks: readonly DiffHunk[];
  /** True when the middle was too different for Myers within `maxEdits` and is reported as one replaced span. */
  readonly coarse: boolean;
}

/** Options of `diffDigests`. */
export interface DiffOptions {
  /** Longest edit script (messages added + removed) searched in the middle; default 2,000. */
  readonly maxEdits?: number;
}

/** The digest of one message: SHA-256 of its canonical digest form (the bytes it adds to the revision). */
export const messageDigest = (m: Message | MessageInput): Digest => sha256Digest(canonicalMessageBytes(m));

/** The message-level diff of two transcripts (see the module comment). */
export const diffMessages = (a: readonly (Message | MessageInput)[], b: readonly (Message | MessageInput)[], opts: DiffOptions = {}): MessageDiff =>
  diffDigests(a.map(messageDigest), b.map(messageDigest), opts);

/** The message-level diff of two lists of message digests (see the module comment). */
export const diffDigests = (a: readonly Digest[], b: readonly Digest[], opts: DiffOptions = {}): MessageDiff => {
  const maxEdits = opts.maxEdits ?? 2000;
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const midA = a.slice(pre, a.length - suf);
  const midB = b.slice(pre, b.length - suf);
  const runs: Run[] = [];
  if (pre > 0) runs.push({ op: 'kept', aLen: pre, bLen: pre });
  const middle = middleRuns(midA, midB, maxEdits);
  runs.push(...middle.runs);
  if (suf > 0) runs.push({ op: 'kept', aLen: suf, bLen: suf });
  const hunks = hunksOf(mergeRuns(runs), a, b);
  return { aCount: a.length, bCount: b.length, counts: countsOf(hunks), hunks, coarse: middle.coarse };
};

/** A run of the edit script: `aLen` old messages and `bLen` new ones. */
interface Run {
  readonly op: 'kept' | 'removed' | 'added';
  readonly aLen: number;
  readonly bLen: number;
}

const middleRuns = (a: Digest[], b: Digest[], maxEdits: number): { runs: Run[]; coarse: boolean } => {
  if (a.length === 0 && b.length === 0) return { runs: [], coarse: false };
  if (a.length === 0) return { runs: [{ op: 'added', aLen: 0, bLen: b.length }], coarse: false };
  if (b.length === 0) return { runs: [{ op: 'removed', aLen: a.length, bLen: 0 }], coarse: false };
  const changes = Math.abs(a.length - b.length) > maxEdits ? undefined : diffArrays(a, b, { maxEditLength: maxEdits });
  if (changes === undefined) return { runs: [{ op: 'removed', aLen: a.length, bLen: 0 }, { op: 'added', aLen: 0, bLen: b.length }], coarse: true };
  const runs = changes.map((c): Run => (c.added ? { op: 'added', aLen: 0, bLen: c.count } : c.removed ? { op: 'removed', aLen: c.count, bLen: 0 } : { op: 'kept', aLen: c.count, bLen: c.count }));
  return { runs, coarse: false };
};

/** Joins neighbouring runs of the same op (the prefix and Myers' first run may both be kept). */
const mergeRuns = (runs: readonly Run[]): Run[] => {
  const out: Run[] = [];
  for (const r of runs) {
    if (r.aLen === 0 && r.bLen === 0) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.op === r.op) out[out.length - 1] = { op: r.op, aLen: last.aLen + r.aLen, bLen: last.bLen + r.bLen };
    else out.push(r);
  }
  return out;
};

const hunksOf = (runs: readonly Run[], a: readonly Digest[], b: readonly Digest[]): DiffHunk[] => {
  const hunks: DiffHunk[] = [];
  let i = 0;
  let j = 0;
  for (let k = 0; k < runs.length; k++) {
    const r = runs[k]!;
    const next = runs[k + 1];
    if (r.op !== 'kept' && next !== undefined && next.op !== 'kept' && next.op !== r.op) {
      // A removal next to an addition is one replacement.
      const aLen = r.aLen + next.aLen;
      const bLen = r.bLen + next.bLen;
      hunks.push({ kind: 'replaced', a: span(i, aLen), b: span(j, bLen), removed: a.slice(i, i + aLen), added: b.slice(j, j + bLen) });
      i += aLen;
      j += bLen;
      k++;
      continue;
    }
    switch (r.op) {
      case 'kept':
        hunks.push({ kind: 'kept', a: span(i, r.aLen), b: span(j, r.bLen), digests: a.slice(i, i + r.aLen) });
        break;
      case 'removed':
        hunks.push({ kind: 'removed', a: span(i, r.aLen), b: span(j, 0), removed: a.slice(i, i + r.aLen) });
        break;
      case 'added':
        hunks.push({ kind: 'added', a: span(i, 0), b: span(j, r.bLen), added: b.slice(j, j + r.bLen) });
        break;
    }
    i += r.aLen;
    j += r.bLen;
  }
  return hunks;
};

const span = (start: number, length: number): IndexSpan => ({ start, end: start + length });

const countsOf = (hunks: readonly DiffHunk[]): DiffCounts => {
  let kept = 0;
  let removed = 0;
  let added = 0;
  let replaced = 0;
  let replacements = 0;
  for (const h of hunks) {
    switch (h.kind) {
      case 'kept':
        kept += h.digests.length;
        break;
      case 'removed':
        removed += h.removed.length;
        break;
      case 'added':
        added += h.added.length;
        break;
      case 'replaced':
        replaced += h.removed.length;
        replacements += h.added.length;
        break;
    }
  }
  return { kept, removed, added, replaced, replacements };
};
