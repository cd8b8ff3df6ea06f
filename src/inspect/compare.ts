/**
 * `comparePoints`: loads a session at two points and diffs the transcripts the
 * model saw there. Backs `palimpsest diff` and the inspector's diff view.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../model/message.ts';
import { Session } from '../session/session.ts';
import type { SessionStore } from '../store/index.ts';
import { diffMessages, type MessageDiff } from './diff.ts';
import { storeLabelSource } from './labels.ts';
import { loadPoint, type LabelResolver, type Point, type PointError } from './points.ts';
import { textDiffs, type HunkTextDiff } from './textDiff.ts';

/**
 * Where one side of a comparison was taken: the record seq, its record hash,
 * the transcript revision and length; `sessionId` when that record is an
 * ancestor's (a label a fork inherited).
 */
export interface PointInfo {
  readonly point: Point;
  readonly sessionId?: string;
  readonly seq: number;
  readonly recordHash: string;
  readonly revision: string;
  readonly messages: number;
}

/** A comparison of two points of one session. `texts` is present when asked for. */
export interface Comparison {
  readonly sessionId: string;
  readonly a: PointInfo;
  readonly b: PointInfo;
  readonly diff: MessageDiff;
  readonly texts?: readonly HunkTextDiff[];
}

/** The two transcripts of a comparison (for callers that show messages). */
export interface ComparedTranscripts {
  readonly comparison: Comparison;
  readonly aMessages: readonly Message[];
  readonly bMessages: readonly Message[];
}

const infoOf = (sessionId: string, point: Point, s: Session, messages: readonly Message[]): PointInfo => ({
  point,
  ...(s.id !== sessionId ? { sessionId: s.id } : {}),
  seq: s.seq,
  recordHash: s.head,
  revision: s.transcriptRevision(),
  messages: messages.length,
});

/** How many records after `a` a seq or head `b` may be for `comparePoints` to reach it by replaying them onto `a`. */
export const DERIVE_LIMIT = 256;

/**
 * The session at `b` reached from `a` (already loaded) by replaying the records
 * between them (`store.log` checks their hashes and links; the replay checks
 * each revision, as `store.load` does for the records after a snapshot), so
 * both sides share every message `b` kept: no second snapshot read, and each
 * shared message is read and hashed once. Only for `b` a seq or the head at
 * most `DERIVE_LIMIT` records after `a` in the same session; else `undefined`
 * (the caller loads `b`).
 */
const derivePoint = async (store: SessionStore, sessionId: string, a: Session, b: Point): Promise<E.Either<PointError, Session> | undefined> => {
  if (a.id !== sessionId || (b.kind !== 'seq' && b.kind !== 'head')) return undefined;
  let to: number;
  if (b.kind === 'seq') to = b.seq;
  else {
    const listed = await store.list();
    const h = E.isRight(listed) ? listed.right.find((x) => x.sessionId === sessionId) : undefined;
    if (h === undefined) return undefined;
    to = h.lastSeq;
  }
  if (to <= a.seq || to > a.seq + DERIVE_LIMIT) return undefined;
  const records = await store.log(sessionId, { fromSeq: a.seq + 1, toSeq: to });
  if (E.isLeft(records)) return records;
  return Session.fromState(a.state, records.right);
};

/**
 * Loads `sessionId` at `a` and at `b` (`loadPoints`) and diffs the
 * transcripts (`diffMessages`); labels resolve through `opts.labels` (default
 * the store's, checked against the log); with `text`, also the line diffs of
 * the changed hunks (`textDiffs`).
 */
export const comparePoints = async (
  store: SessionStore,
  sessionId: string,
  a: Point,
  b: Point,
  opts: { readonly text?: boolean; readonly labels?: LabelResolver } = {},
): Promise<E.Either<PointError, ComparedTranscripts>> => {
  const p = await loadPoints(store, sessionId, a, b, opts.labels ?? storeLabelSource.resolve);
  if (E.isLeft(p)) return p;
  const { aMessages, bMessages } = p.right;
  const diff = diffMessages(aMessages, bMessages);
  const comparison: Comparison = {
    sessionId,
    a: p.right.a,
    b: p.right.b,
    diff,
    ...(opts.text === true ? { texts: textDiffs(diff, aMessages, bMessages) } : {}),
  };
  return E.right({ comparison, aMessages, bMessages });
};

/** Two points of a session, loaded: where each was taken and its messages. */
export interface LoadedPoints {
  readonly a: PointInfo;
  readonly b: PointInfo;
  readonly aMessages: readonly Message[];
  readonly bMessages: readonly Message[];
}

/** Loads `sessionId` at `a` and at `b` (`b` replayed from `a` when it is a few records later, see `derivePoint`); the errors of `loadPoint`. */
export const loadPoints = async (store: SessionStore, sessionId: string, a: Point, b: Point, labels: LabelResolver): Promise<E.Either<PointError, LoadedPoints>> => {
  const sa = await loadPoint(store, sessionId, a, labels);
  if (E.isLeft(sa)) return sa;
  const am = sa.right.readMessages();
  if (E.isLeft(am)) return am;
  const sb = (await derivePoint(store, sessionId, sa.right, b)) ?? (await loadPoint(store, sessionId, b, labels));
  if (E.isLeft(sb)) return sb;
  const bm = sb.right.readMessages();
  if (E.isLeft(bm)) return bm;
  return E.right({ a: infoOf(sessionId, a, sa.right, am.right), b: infoOf(sessionId, b, sb.right, bm.right), aMessages: am.right, bMessages: bm.right });
};
