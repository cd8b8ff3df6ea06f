/**
 * Labels: named references to a record of a session (like a git tag), e.g.
 * `checkpoint-1` → seq 41. A label is a recorded command, so it replays,
 * verifies and forks like every other: setting one appends
 * `metadata_set { key: 'label:<name>', value: { sessionId, seq, revision, pi? } }` (`pi`:
 * the pi entry id when the pi importer set it from a pi `label`), deleting
 * one `metadata_removed { key: 'label:<name>' }`. `revision` is the transcript
 * revision the session had after record `seq`, so resolving a label checks it
 * against the log and fails closed (`LabelMismatch`) when they disagree.
 *
 * This rides on user metadata because the record format (issue 8) is being
 * reworked; a dedicated command can replace it without changing this API.
 *
 * Names: non-empty, at most 200 characters, no control characters.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../model/json.ts';
import type { Digest } from '../model/scalars.ts';
import type { Session } from '../session/session.ts';
import type { SessionStore } from './store.ts';
import type { StoreError } from './errors.ts';

/** The metadata key prefix of labels. */
export const LABEL_KEY_PREFIX = 'label:';

/**
 * Where a label points: record `seq` of session `sessionId` (the labelled
 * session, or for a label a fork inherited, its ancestor) and the transcript
 * revision after that record.
 */
export interface LabelTarget {
  readonly sessionId: string;
  readonly seq: number;
  readonly revision: Digest;
}

/** A label name that is empty, too long or holds control characters. */
export interface InvalidLabel {
  readonly _tag: 'InvalidLabel';
  readonly name: string;
  readonly message: string;
}

/** No label of that name on the session. */
export interface LabelNotFound {
  readonly _tag: 'LabelNotFound';
  readonly sessionId: string;
  readonly name: string;
  readonly message: string;
}

/** A label whose recorded revision is not the session's revision at its seq (or whose value is malformed). */
export interface LabelMismatch {
  readonly _tag: 'LabelMismatch';
  readonly sessionId: string;
  readonly name: string;
  readonly message: string;
}

/** Errors of the label functions. */
export type LabelError = StoreError | InvalidLabel | LabelNotFound | LabelMismatch;

// eslint-disable-next-line no-control-regex
const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Checks a label name (see the module comment). */
export const validateLabel = (name: string): E.Either<InvalidLabel, string> => {
  const why = name === '' ? 'a label name is empty' : name.length > 200 ? 'a label name has more than 200 characters' : control.test(name) ? 'a label name has a control character' : undefined;
  return why === undefined ? E.right(name) : E.left({ _tag: 'InvalidLabel', name, message: `${why}: ${JSON.stringify(name)}` });
};

const isTarget = (v: Json | undefined): v is { sessionId: string; seq: number; revision: string } =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  typeof v['sessionId'] === 'string' &&
  typeof v['seq'] === 'number' &&
  Number.isSafeInteger(v['seq']) &&
  v['seq'] >= 1 &&
  typeof v['revision'] === 'string';

/** A label as listed: its name and target, and `pi`, the pi entry id it came from when an importer set it. */
export type LabelEntry = { readonly name: string; readonly pi?: string } & LabelTarget;

/** The labels of a session (from its metadata), by name in name order; a malformed value is left out. */
export const labelsOf = (metadata: Readonly<Record<string, Json>>): readonly LabelEntry[] => {
  const out: LabelEntry[] = [];
  for (const k of Object.keys(metadata).sort()) {
    if (!k.startsWith(LABEL_KEY_PREFIX)) continue;
    const v = metadata[k];
    if (!isTarget(v)) continue;
    const pi = (v as Record<string, Json>)['pi'];
    out.push({ name: k.slice(LABEL_KEY_PREFIX.length), sessionId: v.sessionId, seq: v.seq, revision: v.revision as Digest, ...(typeof pi === 'string' ? { pi } : {}) });
  }
  return out;
};

/**
 * The command that sets label `name` to `target` (`pi`: the pi entry id, for
 * the pi importer). The value is one of two object literals, its members in
 * canonical (sorted) order: the record, the metadata digest and the snapshot
 * then write it with `JSON.stringify` instead of sorting it (`model/canonical.ts`),
 * and every label value shares one hidden class. Built as
 * `{ ...(pi ? { pi } : {}), revision, … }`, each value had a hidden class of
 * its own on Node 20 (V8 11.3; see `model/objects.ts`): ~330 bytes more per
 * label, kept as long as the label (20,000 labels: ~7 MB).
 */
export const labelCommand = (name: string, target: LabelTarget, pi?: string): { readonly type: 'metadata_set'; readonly key: string; readonly value: { readonly [k: string]: Json } } => ({
  type: 'metadata_set',
  key: `${LABEL_KEY_PREFIX}${name}`,
  value:
    pi !== undefined
      ? { pi, revision: target.revision, seq: target.seq, sessionId: target.sessionId }
      : { revision: target.revision, seq: target.seq, sessionId: target.sessionId },
});

/**
 * Sets label `name` on session `sessionId` to record `at.seq` (or the first
 * record whose head became `at.revision`; default the newest record), as one
 * recorded command. Returns the session after it and the target.
 * Errors: `InvalidLabel`, `SessionNotFound`, `SeqOutOfRange`,
 * `RevisionNotFound`, `SeqConflict` (a concurrent writer), the store's errors.
 */
export const setLabel = async (
  store: SessionStore,
  sessionId: string,
  name: string,
  at: { readonly seq?: number; readonly revision?: Digest } = {},
): Promise<E.Either<LabelError, { readonly session: Session; readonly target: LabelTarget }>> => {
  const v = validateLabel(name);
  if (E.isLeft(v)) return v;
  const head = await store.load(sessionId);
  if (E.isLeft(head)) return head;
  const point = at.seq !== undefined || at.revision !== undefined ? await store.load(sessionId, { ...(at.seq !== undefined ? { atSeq: at.seq } : {}), ...(at.revision !== undefined ? { atRevision: at.revision } : {}) }) : head;
  if (E.isLeft(point)) return point;
  const target: LabelTarget = { sessionId, seq: point.right.seq, revision: point.right.transcriptRevision() };
  const r = await store.append(sessionId, [labelCommand(name, target)], { expectedSeq: head.right.seq });
  return E.isLeft(r) ? r : E.right({ session: r.right.session, target });
};

/** Deletes label `name` (one recorded command). Errors: `InvalidLabel`, `LabelNotFound`, `SessionNotFound`, `SeqConflict`, the store's errors. */
export const deleteLabel = async (store: SessionStore, sessionId: string, name: string): Promise<E.Either<LabelError, Session>> => {
  const v = validateLabel(name);
  if (E.isLeft(v)) return v;
  const head = await store.load(sessionId);
  if (E.isLeft(head)) return head;
  if (head.right.metadata[`${LABEL_KEY_PREFIX}${name}`] === undefined) return E.left(labelNotFound(sessionId, name));
  const r = await store.append(sessionId, [{ type: 'metadata_removed', key: `${LABEL_KEY_PREFIX}${name}` }], { expectedSeq: head.right.seq });
  return E.isLeft(r) ? r : E.right(r.right.session);
};

const labelNotFound = (sessionId: string, name: string): LabelNotFound => ({
  _tag: 'LabelNotFound',
  sessionId,
  name,
  message: `session ${JSON.stringify(sessionId)} has no label ${JSON.stringify(name)}`,
});

/**
 * The record label `name` of session `sessionId` points at (its newest state's
 * labels; for an inherited label a record of an ancestor), checked against the
 * log: that session loaded at that seq must have the recorded revision.
 * Errors: `LabelNotFound`, `LabelMismatch`, `SessionNotFound`, the store's errors.
 */
export const resolveLabel = async (store: SessionStore, sessionId: string, name: string): Promise<E.Either<LabelError, LabelTarget>> => {
  const head = await store.load(sessionId);
  if (E.isLeft(head)) return head;
  const v = head.right.metadata[`${LABEL_KEY_PREFIX}${name}`];
  if (v === undefined) return E.left(labelNotFound(sessionId, name));
  if (!isTarget(v)) return E.left({ _tag: 'LabelMismatch', sessionId, name, message: `label ${JSON.stringify(name)} of ${JSON.stringify(sessionId)} is not { sessionId, seq, revision }` });
  const at = await store.load(v.sessionId, { atSeq: v.seq });
  if (E.isLeft(at)) return at;
  if (at.right.transcriptRevision() !== v.revision) {
    return E.left({
      _tag: 'LabelMismatch',
      sessionId,
      name,
      message: `label ${JSON.stringify(name)} of ${JSON.stringify(sessionId)} records revision ${v.revision} at ${v.sessionId} seq ${v.seq}, but the log has ${at.right.transcriptRevision()} there`,
    });
  }
  return E.right({ sessionId: v.sessionId, seq: v.seq, revision: v.revision as Digest });
};
