/**
 * Points in a session's history that `diff` and the inspector accept: the
 * head, a record seq, a transcript revision (full or a unique hex prefix) or a
 * label, parsed from text and loaded through the public store API (so every
 * read is as fail-closed as `store.load`).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Session } from '../session/session.ts';
import type { SessionStore, StoreError } from '../store/index.ts';
import type { LabelMismatch } from '../store/labels.ts';

/** A point in a session's history. */
export type Point =
  | { readonly kind: 'head' }
  | { readonly kind: 'seq'; readonly seq: number }
  | { readonly kind: 'revision'; readonly revision: string }
  | { readonly kind: 'label'; readonly label: string };

/** A point that is not a seq, revision, `head` or label. */
export interface InvalidPoint {
  readonly _tag: 'InvalidPoint';
  readonly value: string;
  readonly message: string;
}

/** A revision prefix that matches several revisions of the session. */
export interface AmbiguousRevision {
  readonly _tag: 'AmbiguousRevision';
  readonly sessionId: string;
  readonly revision: string;
  readonly candidates: readonly string[];
  readonly message: string;
}

/** A label that names no point of the session. */
export interface LabelNotFound {
  readonly _tag: 'LabelNotFound';
  readonly sessionId: string;
  readonly label: string;
  readonly message: string;
}

/** What resolving or loading a point can fail with. */
export type PointError = InvalidPoint | AmbiguousRevision | LabelNotFound | LabelMismatch | StoreError;

/**
 * Finds the record a label of a session names: `{ sessionId, seq }` (another
 * session for a label a fork inherited: its ancestor), `Right(undefined)` when
 * the session has no such label, `Left(LabelMismatch)` when the label
 * disagrees with the log (fail closed). `storeLabelSource` (labels.ts) is the
 * store's; `noLabels` knows none.
 */
export type LabelResolver = (
  store: SessionStore,
  sessionId: string,
  label: string,
) => Promise<E.Either<StoreError | LabelMismatch, { readonly sessionId: string; readonly seq: number } | undefined>>;

/** A resolver that knows no labels. */
export const noLabels: LabelResolver = async () => E.right(undefined);

/**
 * Parses a point: `head`; digits (a seq ≥ 1); `sha256:<hex>` or 4–64 hex digits
 * (a revision or a prefix of one); anything else non-empty is a label (a label
 * that looks like hex must be written `label:<name>`). Empty text is `InvalidPoint`.
 */
export const parsePoint = (value: string): E.Either<InvalidPoint, Point> => {
  const v = value.trim();
  if (v === 'head') return E.right({ kind: 'head' });
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) && n >= 1 ? E.right({ kind: 'seq', seq: n }) : E.left(invalidPoint(value, 'a seq must be an integer >= 1'));
  }
  if (/^(sha256:)?[0-9a-f]{4,64}$/.test(v)) return E.right({ kind: 'revision', revision: v.startsWith('sha256:') ? v : `sha256:${v}` });
  if (v.startsWith('label:') && v.length > 'label:'.length) return E.right({ kind: 'label', label: v.slice('label:'.length) });
  if (v !== '' && !v.startsWith('sha256:')) return E.right({ kind: 'label', label: v });
  return E.left(invalidPoint(value, 'expected head, a seq, a revision (sha256:<hex> or 4+ hex digits) or a label'));
};

const invalidPoint = (value: string, reason: string): InvalidPoint => ({ _tag: 'InvalidPoint', value, message: `invalid point ${JSON.stringify(value)}: ${reason}` });

/** The full revision a (possibly abbreviated) revision names among the session's revisions. */
export const resolveRevision = async (store: SessionStore, sessionId: string, revision: string): Promise<E.Either<PointError, string>> => {
  if (revision.length === 'sha256:'.length + 64) return E.right(revision);
  const g = await store.revisions(sessionId);
  if (E.isLeft(g)) return g;
  const matches = g.right.revisions.filter((r) => r.revision.startsWith(revision)).map((r) => r.revision);
  if (matches.length === 1) return E.right(matches[0]!);
  if (matches.length === 0) return E.left({ _tag: 'RevisionNotFound', sessionId, revision, message: `session ${sessionId} never had a revision starting with ${revision}` });
  return E.left({ _tag: 'AmbiguousRevision', sessionId, revision, candidates: matches, message: `revision prefix ${revision} matches ${matches.length} revisions of ${sessionId}` });
};

/**
 * Loads the session at a point: `head` is the newest record, a seq the state
 * after that record, a revision the state when it first became the head, a
 * label the record `labels` resolves it to (for an inherited label, the
 * ancestor's session at that record). Errors: the store's (`SessionNotFound`,
 * `SeqOutOfRange`, `RevisionNotFound`, `CorruptRecord`, …), `AmbiguousRevision`,
 * `LabelNotFound`, `LabelMismatch`.
 */
export const loadPoint = async (store: SessionStore, sessionId: string, point: Point, labels: LabelResolver = noLabels): Promise<E.Either<PointError, Session>> => {
  switch (point.kind) {
    case 'head':
      return store.load(sessionId);
    case 'seq':
      return store.load(sessionId, { atSeq: point.seq });
    case 'revision': {
      const rev = await resolveRevision(store, sessionId, point.revision);
      if (E.isLeft(rev)) return rev;
      return store.load(sessionId, { atRevision: rev.right });
    }
    case 'label': {
      const target = await labels(store, sessionId, point.label);
      if (E.isLeft(target)) return target;
      if (target.right === undefined) return E.left({ _tag: 'LabelNotFound', sessionId, label: point.label, message: `session ${sessionId} has no label ${JSON.stringify(point.label)}` });
      return store.load(target.right.sessionId, { atSeq: target.right.seq });
    }
  }
};
