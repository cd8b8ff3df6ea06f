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
export const messageDigest = (m: Message | MessageInput): Digest => {
  if (!Object.isFrozen(m)) return sha256Digest(canonicalMessageBytes(m));
  let d = digestMemo.get(m);
  if (d === undefined) digestMemo.set(m, (d = sha256Digest(canonicalMessageBytes(m))));
  return d;
};

/**
 * Digests of frozen messages by object (a transcript deep-freezes every
 * message, so it cannot change): two sides of a diff that share a message (a
 * point derived from the other by replay) hash it once. A pure memo, weak: it
 * never keeps a message alive.
 */
const digestMemo = new WeakMap<object, Digest>();

/** The message-level diff of two transcripts (see the module comment). */
export const diffMessages = (a: readonly (Message | MessageInput)[], b: readonly (Message | MessageInput)[], opts: DiffOptions = {}): MessageDiff =>
  diffDigests(a.map(messageDigest), b.map(messageDigest), opts);

/** The message-level diff of two lists of message digests (see the module comment). */
export const diffDigests = (a: readonly Digest[], b: readonly Digest[], opts: DiffOptions = {}): MessageDiff => {
  const e = editScript(a.length, b.length, (i, j) => a[i] === b[j], (s, ea, eb) => [a.slice(s, ea), b.slice(s, eb)], opts);
  const hunks = spansOf(e.runs).map((h) => withDigests(h, a, b));
  return { aCount: a.length, bCount: b.length, counts: countsOf(hunks), hunks, coarse: e.coarse };
};

/** A hunk without its digests: kind and spans. */
export interface SpanHunk {
  readonly kind: DiffHunk['kind'];
  readonly a: IndexSpan;
  readonly b: IndexSpan;
}

/** A diff without digests (`diffMessageSpans`). */
export type SpanDiff = Omit<MessageDiff, 'hunks'> & { readonly hunks: readonly SpanHunk[] };

/**
 * The same diff as `diffMessages` (same hunks, counts and `coarse`) without the
 * digests, hashing only what it must: the common prefix and suffix are matched
 * by object identity first (a point replayed from the other shares every
 * message it kept) and by digest only where the objects differ; only the
 * middle is hashed whole. On a compaction of a 50,000-message transcript this
 * hashes the replaced span, not the 50,000.
 */
export const diffMessageSpans = (a: readonly (Message | MessageInput)[], b: readonly (Message | MessageInput)[], opts: DiffOptions = {}): SpanDiff => {
  const same = (i: number, j: number): boolean => a[i] === b[j] || messageDigest(a[i]!) === messageDigest(b[j]!);
  const e = editScript(a.length, b.length, same, (s, ea, eb) => [a.slice(s, ea).map(messageDigest), b.slice(s, eb).map(messageDigest)], opts);
  const hunks = spansOf(e.runs);
  return { aCount: a.length, bCount: b.length, counts: countsOf(hunks), hunks, coarse: e.coarse };
};

/**
 * The edit script of two lists of `aLen` and `bLen` items: the common prefix
 * and suffix by `same(i, j)`, then Myers on the middle's digests
 * (`middle(start, aEnd, bEnd)`), bounded by `maxEdits`.
 */
const editScript = (
  aLen: number,
  bLen: number,
  same: (i: number, j: number) => boolean,
  middle: (start: number, aEnd: number, bEnd: number) => [Digest[], Digest[]],
  opts: DiffOptions,
): { runs: Run[]; coarse: boolean } => {
  const maxEdits = opts.maxEdits ?? 2000;
  let pre = 0;
  while (pre < aLen && pre < bLen && same(pre, pre)) pre++;
  let suf = 0;
  while (suf < aLen - pre && suf < bLen - pre && same(aLen - 1 - suf, bLen - 1 - suf)) suf++;
  const [midA, midB] = middle(pre, aLen - suf, bLen - suf);
  const runs: Run[] = [];
  if (pre > 0) runs.push({ op: 'kept', aLen: pre, bLen: pre });
  const m = middleRuns(midA, midB, maxEdits);
  runs.push(...m.runs);
  if (suf > 0) runs.push({ op: 'kept', aLen: suf, bLen: suf });
  return { runs: mergeRuns(runs), coarse: m.coarse };
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

/** The hunks' spans of an edit script; a removal next to an addition is one replacement. */
const spansOf = (runs: readonly Run[]): SpanHunk[] => {
  const hunks: SpanHunk[] = [];
  let i = 0;
  let j = 0;
  for (let k = 0; k < runs.length; k++) {
    const r = runs[k]!;
    const next = runs[k + 1];
    const joined = r.op !== 'kept' && next !== undefined && next.op !== 'kept' && next.op !== r.op;
    const aLen = joined ? r.aLen + next.aLen : r.aLen;
    const bLen = joined ? r.bLen + next.bLen : r.bLen;
    hunks.push({ kind: joined ? 'replaced' : r.op, a: span(i, aLen), b: span(j, bLen) });
    if (joined) k++;
    i += aLen;
    j += bLen;
  }
  return hunks;
};

/** A hunk with its digests. */
const withDigests = (h: SpanHunk, a: readonly Digest[], b: readonly Digest[]): DiffHunk => {
  const removed = a.slice(h.a.start, h.a.end);
  const added = b.slice(h.b.start, h.b.end);
  switch (h.kind) {
    case 'kept':
      return { kind: 'kept', a: h.a, b: h.b, digests: removed };
    case 'removed':
      return { kind: 'removed', a: h.a, b: h.b, removed };
    case 'added':
      return { kind: 'added', a: h.a, b: h.b, added };
    case 'replaced':
      return { kind: 'replaced', a: h.a, b: h.b, removed, added };
  }
};

const span = (start: number, length: number): IndexSpan => ({ start, end: start + length });

const countsOf = (hunks: readonly SpanHunk[]): DiffCounts => {
  let kept = 0;
  let removed = 0;
  let added = 0;
  let replaced = 0;
  let replacements = 0;
  for (const h of hunks) {
    const aLen = h.a.end - h.a.start;
    const bLen = h.b.end - h.b.start;
    switch (h.kind) {
      case 'kept':
        kept += aLen;
        break;
      case 'removed':
        removed += aLen;
        break;
      case 'added':
        added += bLen;
        break;
      case 'replaced':
        replaced += aLen;
        replacements += bLen;
        break;
    }
  }
  return { kept, removed, added, replaced, replacements };
};
