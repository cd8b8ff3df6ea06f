/**
 * Head anchors: what a user keeps outside the store so that truncation and
 * rollback become detectable (the transparency-log idea: Certificate
 * Transparency's signed tree heads, git refs kept elsewhere).
 *
 * An anchor is one canonical-JSON line
 *
 *     { "digest": sha256(J(heads)), "heads": [{ "hash", "seq", "sessionId" }, …], "v": 1 }
 *
 * with the head record of every session, in session id order. `verify
 * --anchors FILE` reads every line of FILE and fails for each anchored record
 * the store no longer holds, or holds with another hash (naming session and
 * seq); a line whose digest does not match its heads is refused as edited.
 * A store only grows, so an anchor taken earlier stays valid later.
 */
import * as E from 'fp-ts/lib/Either.js';
import { arrayOf, decodeWith, literal, nonEmptyStr, positive, strict } from '../model/decode.ts';
import { canonicalJsonUnsafe } from '../model/json.ts';
import { sha256OfUtf8 } from '../model/hashing.ts';
import { DigestCodec, type Digest } from '../model/scalars.ts';
import type * as t from 'io-ts';

/** The head of one session: its newest record's seq and hash. */
export const AnchorHeadCodec = strict('AnchorHead', { sessionId: nonEmptyStr, seq: positive, hash: DigestCodec });
/** The head of one session when the anchor was taken. */
export type AnchorHead = t.TypeOf<typeof AnchorHeadCodec>;

/** An anchor line. */
export const AnchorCodec = strict('Anchor', { v: literal(1), heads: arrayOf(AnchorHeadCodec, { name: 'AnchorHeads' }), digest: DigestCodec });
/** An anchor: every session's head and a digest over the set. */
export type Anchor = t.TypeOf<typeof AnchorCodec>;

/** `sha256` of the canonical JSON of `heads`. */
const headsDigest = (heads: readonly AnchorHead[]): Digest => sha256OfUtf8(canonicalJsonUnsafe(heads));

/** The anchor of `heads` (sorted by session id). */
export const anchorOf = (heads: readonly AnchorHead[]): Anchor => {
  const sorted = [...heads].sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0)).map((h) => ({ sessionId: h.sessionId, seq: h.seq, hash: h.hash }));
  return { v: 1, heads: sorted, digest: headsDigest(sorted) };
};

/** The anchor as one canonical-JSON line (no newline). */
export const anchorLine = (a: Anchor): string => canonicalJsonUnsafe(a);

/** Why an anchor file cannot be read: the line (1-based) and the reason. */
export interface InvalidAnchor {
  readonly _tag: 'InvalidAnchor';
  readonly line: number;
  readonly reason: string;
  readonly message: string;
}

const invalid = (line: number, reason: string): InvalidAnchor => ({ _tag: 'InvalidAnchor', line, reason, message: `anchor line ${line}: ${reason}` });

/**
 * Every anchor in `text` (one per non-empty line). `Left(InvalidAnchor)` for a
 * line that is not JSON, not an anchor, or whose digest does not match its heads.
 */
export const parseAnchors = (text: string): E.Either<InvalidAnchor, Anchor[]> => {
  const out: Anchor[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let u: unknown;
    try {
      u = JSON.parse(line);
    } catch (e) {
      return E.left(invalid(i + 1, `not JSON (${(e as Error).message})`));
    }
    const d = decodeWith(AnchorCodec, u);
    if (E.isLeft(d)) return E.left(invalid(i + 1, d.left.message));
    if (headsDigest(d.right.heads) !== d.right.digest) return E.left(invalid(i + 1, 'the digest does not match the heads (the line was edited)'));
    out.push(d.right);
  }
  return E.right(out);
};

/** An anchored record the store no longer holds as anchored. */
export interface AnchorProblem {
  readonly sessionId: string;
  readonly seq: number;
  /** `missing_session`, `missing_record` (truncated or rolled back) or `hash_differs` (rewritten). */
  readonly kind: 'missing_session' | 'missing_record' | 'hash_differs';
  readonly reason: string;
}

/**
 * Checks every head of every anchor against the store (`hashAt`), each
 * (session, seq) once. Returns the problems found (empty: every anchored record
 * is still there with its hash), or the first read error.
 */
export const checkAnchors = async <Err>(
  anchors: readonly Anchor[],
  hashAt: (sessionId: string, seq: number) => Promise<E.Either<Err, Digest | undefined | 'no-session'>>,
): Promise<E.Either<Err, AnchorProblem[]>> => {
  const problems: AnchorProblem[] = [];
  const seen = new Set<string>();
  for (const a of anchors) {
    for (const h of a.heads) {
      const key = `${h.sessionId}\u0000${h.seq}\u0000${h.hash}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const r = await hashAt(h.sessionId, h.seq);
      if (E.isLeft(r)) return r;
      if (r.right === 'no-session') problems.push({ sessionId: h.sessionId, seq: h.seq, kind: 'missing_session', reason: `session ${h.sessionId} was anchored at seq ${h.seq} and is gone` });
      else if (r.right === undefined) problems.push({ sessionId: h.sessionId, seq: h.seq, kind: 'missing_record', reason: `record ${h.seq} of ${h.sessionId} was anchored and is gone (truncated or rolled back)` });
      else if (r.right !== h.hash) problems.push({ sessionId: h.sessionId, seq: h.seq, kind: 'hash_differs', reason: `record ${h.seq} of ${h.sessionId} was anchored with hash ${h.hash}, the store holds ${r.right}` });
    }
  }
  return E.right(problems);
};
