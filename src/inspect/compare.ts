/**
 * `comparePoints`: loads a session at two points and diffs the transcripts the
 * model saw there. Backs `palimpsest diff` and the inspector's diff view.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../model/message.ts';
import type { Session } from '../session/session.ts';
import type { SessionStore } from '../store/index.ts';
import { readLazy } from './lazy.ts';
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

/**
 * Loads `sessionId` at `a` and at `b` (see `loadPoint` for the errors) and
 * diffs the transcripts (`diffMessages`); labels resolve through `opts.labels`
 * (default the store's, checked against the log); with `text`, also the line diffs of
 * the changed hunks (`textDiffs`).
 */
export const comparePoints = async (
  store: SessionStore,
  sessionId: string,
  a: Point,
  b: Point,
  opts: { readonly text?: boolean; readonly labels?: LabelResolver } = {},
): Promise<E.Either<PointError, ComparedTranscripts>> => {
  const labels = opts.labels ?? storeLabelSource.resolve;
  const sa = await loadPoint(store, sessionId, a, labels);
  if (E.isLeft(sa)) return sa;
  const sb = await loadPoint(store, sessionId, b, labels);
  if (E.isLeft(sb)) return sb;
  const am = readLazy(() => sa.right.messages);
  if (E.isLeft(am)) return am;
  const bm = readLazy(() => sb.right.messages);
  if (E.isLeft(bm)) return bm;
  const aMessages = am.right;
  const bMessages = bm.right;
  const diff = diffMessages(aMessages, bMessages);
  const comparison: Comparison = {
    sessionId,
    a: infoOf(sessionId, a, sa.right, aMessages),
    b: infoOf(sessionId, b, sb.right, bMessages),
    diff,
    ...(opts.text === true ? { texts: textDiffs(diff, aMessages, bMessages) } : {}),
  };
  return E.right({ comparison, aMessages, bMessages });
};
