/**
 * The inspector's views, built from an open store through its public API
 * (`list`, `load`, `log`/`logStream`, `revisions`, `verify`), so every read is
 * as fail-closed as the CLI's: a record or chunk that disagrees with the
 * hash-chained log is a `Left`, never shown as data.
 *
 * Each function reads what its view needs and nothing more: a transcript page
 * reads one slice of the transcript (lazy chunks), a log page one key range.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../model/message.ts';
import type { Session } from '../session/session.ts';
import type { LogRecord } from '../session/record.ts';
import type { SessionStore, StoreError } from '../store/index.ts';
import { readLazily, transcriptLength, transcriptSlice } from '../transcript/index.ts';
import { commandSummary, messageSummary, roleLabel } from '../cli/format.ts';
import { loadPoints } from './compare.ts';
import { diffMessageSpans, messageDigest } from './diff.ts';
import { textDiffs } from './textDiff.ts';
import { searchMessages } from './search.ts';
import { storeLabelSource, type LabelSource } from './labels.ts';
import { loadPoint, type Point, type PointError } from './points.ts';
import { originalTimes } from './times.ts';
import type { DiffView, LabelView, LineageView, LogPage, LogRow, SearchView, SessionRow, TimelineView, TranscriptPage, VerifyView } from './views.ts';

export { seriesView } from './series.ts';

/** Changed-message summaries a diff view carries per side. */
export const DIFF_SUMMARY_LIMIT = 500;
/** The largest page of a transcript or log the API serves. */
export const MAX_PAGE = 1000;

/** The sessions view: every header, with cumulative usage and rewrite count from a load at the head. */
export const sessionsView = async (store: SessionStore): Promise<E.Either<StoreError, SessionRow[]>> => {
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  const rows: SessionRow[] = [];
  for (const h of listed.right) {
    const s = await store.load(h.sessionId);
    if (E.isLeft(s)) return s;
    const history = s.right.readTranscriptHistory();
    if (E.isLeft(history)) return history;
    rows.push({
      sessionId: h.sessionId,
      createdAt: h.createdAt,
      updatedAt: h.updatedAt,
      lastSeq: h.lastSeq,
      revision: h.revision,
      messages: h.messages,
      status: h.status,
      usage: s.right.usage,
      rewrites: history.right?.commits.length ?? 0,
      ...(h.parent !== undefined ? { parent: h.parent } : {}),
    });
  }
  return E.right(rows);
};

/** The verify badge of one session: `store.verify(id)` (reads and replays its whole log). */
export const verifyView = async (store: SessionStore, sessionId: string): Promise<E.Either<StoreError, VerifyView>> => {
  const v = await store.verify(sessionId);
  if (E.isLeft(v)) return v;
  const report = v.right.find((r) => r.sessionId === sessionId);
  if (report === undefined) return E.left({ _tag: 'SessionNotFound', sessionId, message: `no session ${JSON.stringify(sessionId)}` });
  const firstBroken = report.problems.find((p) => p.seq > 0);
  return E.right({ sessionId, ok: report.ok, records: report.records, problems: report.problems, ...(firstBroken !== undefined ? { firstBrokenSeq: firstBroken.seq } : {}) });
};

/**
 * Labels of several sessions, each shown once on the session it names: a
 * fork's inherited copy of its parent's label is the same label (same name,
 * session and seq); a mismatch stays on the session that holds it.
 */
const distinctLabels = (all: readonly LabelView[]): LabelView[] => {
  const seen = new Set<string>();
  const key = (l: LabelView): string => (l.status === 'ok' ? JSON.stringify([l.label, l.sessionId, l.seq]) : JSON.stringify([l.label, l.setOn, 'mismatch']));
  const own = [...all].sort((x, y) => Number(x.status === 'ok' && x.setOn !== x.sessionId) - Number(y.status === 'ok' && y.setOn !== y.sessionId));
  return own.filter((l) => !seen.has(key(l)) && (seen.add(key(l)), true));
};

/** The fork graph of the whole store, with every label on the session it names (see `LabelView`). */
export const lineageView = async (store: SessionStore, labels: LabelSource = storeLabelSource): Promise<E.Either<StoreError, LineageView>> => {
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  const all: LabelView[] = [];
  for (const h of listed.right) {
    const l = await labels.list(store, h.sessionId);
    if (E.isLeft(l)) return l;
    all.push(...l.right);
  }
  return E.right({
    nodes: listed.right.map((h) => ({ sessionId: h.sessionId, messages: h.messages, lastSeq: h.lastSeq, status: h.status })),
    edges: listed.right.flatMap((h) => (h.parent === undefined ? [] : [{ parent: h.parent.sessionId, child: h.sessionId, seq: h.parent.seq, hash: h.parent.hash, mode: h.parent.mode }])),
    labels: distinctLabels(all),
  });
};

/** What the timeline and the log show beside the records: the import's original times (indexed by `seq - 1`) and the session's labels. */
interface Annotations {
  readonly times: readonly number[] | undefined;
  readonly labels: readonly LabelView[];
}

/**
 * Reads a session's annotations (its head, the times blob, each label checked
 * against the log). A failure leaves them out of the view with the error
 * (`annotationsError`), so a log whose head does not load (a tampered record)
 * still shows its readable records, and nothing unverified is shown.
 */
const annotations = async (store: SessionStore, sessionId: string, labels: LabelSource): Promise<E.Either<StoreError, Annotations>> => {
  const head = await store.load(sessionId);
  if (E.isLeft(head)) return head;
  const times = await originalTimes(store, sessionId, head.right.metadata);
  if (E.isLeft(times)) return times;
  const l = await labels.list(store, sessionId);
  if (E.isLeft(l)) return l;
  return E.right({ times: times.right, labels: l.right });
};

const annotationFields = (a: E.Either<StoreError, Annotations>): { labels: readonly LabelView[]; annotationsError?: { _tag: string; message: string } } =>
  E.isRight(a) ? { labels: a.right.labels } : { labels: [], annotationsError: { _tag: a.left._tag, message: a.left.message } };

/**
 * The revision timeline: one node per head change (with its original time for
 * an import), rewrite commits attached to the node they made, and the labels
 * the session holds (see `annotations` for when those are left out).
 */
export const timelineView = async (store: SessionStore, sessionId: string, labels: LabelSource = storeLabelSource): Promise<E.Either<StoreError, TimelineView>> => {
  const g = await store.revisions(sessionId);
  if (E.isLeft(g)) return g;
  const a = await annotations(store, sessionId, labels);
  const times = E.isRight(a) ? a.right.times : undefined;
  const bySeq = new Map(g.right.commits.map((c) => [c.seq, c.commit]));
  return E.right({
    sessionId,
    head: g.right.head,
    nodes: g.right.heads.map((h) => {
      const commit = bySeq.get(h.seq);
      const originalAt = times?.[h.seq - 1];
      return { seq: h.seq, revision: h.revision, commandType: h.commandType, ...(originalAt !== undefined ? { originalAt } : {}), ...(commit !== undefined ? { commit } : {}) };
    }),
    commits: g.right.commits,
    ...(g.right.forkedFrom !== undefined ? { forkedFrom: g.right.forkedFrom } : {}),
    ...annotationFields(a),
  });
};

/** A page `[offset, offset + limit)` of the transcript at `point` (limit capped at `MAX_PAGE`). */
export const transcriptPage = async (
  store: SessionStore,
  sessionId: string,
  point: Point,
  offset: number,
  limit: number,
  labels: LabelSource = storeLabelSource,
): Promise<E.Either<PointError, TranscriptPage>> => {
  const s = await loadPoint(store, sessionId, point, labels.resolve);
  if (E.isLeft(s)) return s;
  const t = s.right.state.transcript;
  const page = readLazily(() => transcriptSlice(t, Math.min(offset, transcriptLength(t)), Math.min(offset + Math.min(limit, MAX_PAGE), transcriptLength(t))));
  if (E.isLeft(page)) return page;
  return E.right({
    sessionId,
    seq: s.right.seq,
    revision: s.right.transcriptRevision(),
    total: transcriptLength(t),
    offset,
    entries: page.right.map((message, k) => ({ index: offset + k, digest: messageDigest(message), message })),
  });
};

/** One log row; `originalAt` is when its event happened by the import's original times (absent for records no import wrote). */
export const logRow = (r: LogRecord, originalAt?: number): LogRow => ({
  seq: r.seq,
  at: r.at,
  ...(originalAt !== undefined ? { originalAt } : {}),
  type: r.command.type,
  summary: commandSummary(r.command),
  prev: r.prev,
  hash: r.hash,
  revision: r.revision,
});

/**
 * Records `from .. from + limit - 1` of the log (limit capped at `MAX_PAGE`).
 * Reads fail closed: a record whose hash or link does not check is never
 * shown as data. When the page's range holds one (`CorruptRecord` naming a
 * seq in it), the page holds the records before it, `broken` (its seq and the
 * reason) in its place, and the records after it when those read cleanly
 * (else `brokenTail` says where reading stopped). Other failures are `Left`.
 */
export const logPage = async (store: SessionStore, sessionId: string, from: number, limit: number, labels: LabelSource = storeLabelSource): Promise<E.Either<StoreError, LogPage>> => {
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  const h = listed.right.find((s) => s.sessionId === sessionId);
  if (h === undefined) return E.left({ _tag: 'SessionNotFound', sessionId, message: `no session ${JSON.stringify(sessionId)}` });
  const start = Math.max(1, from);
  const end = Math.min(h.lastSeq, start + Math.min(limit, MAX_PAGE) - 1);
  const a = await annotations(store, sessionId, labels);
  const times = E.isRight(a) ? a.right.times : undefined;
  const row = (r: LogRecord): LogRow => logRow(r, times?.[r.seq - 1]);
  const page = { sessionId, total: h.lastSeq, from: start, ...annotationFields(a) };
  if (start > end) return E.right({ ...page, rows: [] });
  const l = await store.log(sessionId, { fromSeq: start, toSeq: end });
  if (E.isRight(l)) return E.right({ ...page, rows: l.right.map(row) });
  const bad = l.left;
  if (bad._tag !== 'CorruptRecord' || bad.seq < start || bad.seq > end) return l;
  const before = bad.seq > start ? await store.log(sessionId, { fromSeq: start, toSeq: bad.seq - 1 }) : E.right([]);
  if (E.isLeft(before)) return before;
  const after = bad.seq < end ? await store.log(sessionId, { fromSeq: bad.seq + 1, toSeq: end }) : E.right([]);
  return E.right({
    ...page,
    rows: [...before.right, ...(E.isRight(after) ? after.right : [])].map(row),
    broken: { seq: bad.seq, _tag: bad._tag, reason: bad.reason },
    ...(E.isLeft(after) ? { brokenTail: { seq: bad.seq + 1, _tag: after.left._tag, message: after.left.message } } : {}),
  });
};

/** Messages of the transcript at `point` whose text contains `query` (case-insensitive); at most `SEARCH_LIMIT` hits. */
export const searchView = async (store: SessionStore, sessionId: string, query: string, point: Point = { kind: 'head' }, labels: LabelSource = storeLabelSource): Promise<E.Either<PointError, SearchView>> => {
  const s = await loadPoint(store, sessionId, point, labels.resolve);
  if (E.isLeft(s)) return s;
  const all = s.right.readMessages();
  if (E.isLeft(all)) return all;
  return E.right(searchMessages(sessionId, all.right, query));
};

const summaries = (messages: readonly Message[], spans: ReadonlyArray<{ start: number; end: number }>): DiffView['removedSummaries'] => {
  const out: Array<{ index: number; role: string; summary: string }> = [];
  for (const sp of spans) {
    for (let i = sp.start; i < sp.end && out.length < DIFF_SUMMARY_LIMIT; i++) out.push({ index: i, role: roleLabel(messages[i]!), summary: messageSummary(messages[i]!, 160) });
  }
  return out;
};

/** The diff of two points as the page gets it (`DiffView`: spans without digests, the changed messages' summaries; with `text`, the line diffs). */
export const diffView = async (store: SessionStore, sessionId: string, a: Point, b: Point, text: boolean, labels: LabelSource = storeLabelSource): Promise<E.Either<PointError, DiffView>> => {
  const p = await loadPoints(store, sessionId, a, b, labels.resolve);
  if (E.isLeft(p)) return p;
  const { aMessages, bMessages } = p.right;
  const diff = diffMessageSpans(aMessages, bMessages);
  const changed = diff.hunks.filter((h) => h.kind !== 'kept');
  return E.right({
    sessionId,
    a: p.right.a,
    b: p.right.b,
    diff,
    ...(text ? { texts: textDiffs(diff, aMessages, bMessages) } : {}),
    removedSummaries: summaries(aMessages, changed.map((h) => h.a)),
    addedSummaries: summaries(bMessages, changed.map((h) => h.b)),
  });
};

/** The session at a point (for callers that need more than one view of it). */
export const sessionAt = (store: SessionStore, sessionId: string, point: Point, labels: LabelSource = storeLabelSource): Promise<E.Either<PointError, Session>> =>
  loadPoint(store, sessionId, point, labels.resolve);
