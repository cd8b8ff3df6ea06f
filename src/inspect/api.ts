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
import { messageText } from '../model/index.ts';
import type { Message } from '../model/message.ts';
import { reduce } from '../session/replay.ts';
import type { Session } from '../session/session.ts';
import type { SessionState } from '../session/state.ts';
import type { LogRecord } from '../session/record.ts';
import type { SessionStore, StoreError } from '../store/index.ts';
import { transcriptLength, transcriptSlice, transcriptMessageAt } from '../transcript/index.ts';
import { commandSummary, messageSummary, roleLabel } from '../cli/format.ts';
import { comparePoints } from './compare.ts';
import { messageDigest } from './diff.ts';
import { readLazy } from './lazy.ts';
import { searchMessages } from './search.ts';
import { storeLabelSource, type LabelSource } from './labels.ts';
import { loadPoint, type Point, type PointError } from './points.ts';
import { originalTimes } from './times.ts';
import type { DiffView, LabelView, LineageView, LogPage, LogRow, SearchView, SeriesView, SessionRow, TimelineView, TranscriptPage, VerifyView } from './views.ts';

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
    const history = readLazy(() => s.right.transcriptHistory());
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
  const page = readLazy(() => transcriptSlice(t, Math.min(offset, transcriptLength(t)), Math.min(offset + Math.min(limit, MAX_PAGE), transcriptLength(t))));
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

const textSize = (m: Message): number => messageText(m).length;

/**
 * The chart series: replays the session's log from its first record (loaded
 * through the store, so a fork starts from its parent's state) with the pure
 * reducer, which checks every record's chain, hash and revision as it goes.
 */
export const seriesView = async (store: SessionStore, sessionId: string): Promise<E.Either<StoreError, SeriesView>> => {
  const first = await store.load(sessionId, { atSeq: 1 });
  if (E.isLeft(first)) return first;
  const out: SeriesView = { sessionId, records: { seq: [], messages: [], chars: [] }, turns: { seq: [], index: [], inputTokens: [], outputTokens: [], cacheReadTokens: [] }, commitSeqs: [] };
  let state: SessionState = first.right.state;
  const firstChars = readLazy(() => first.right.messages.reduce((n, m) => n + textSize(m), 0));
  if (E.isLeft(firstChars)) return firstChars;
  let chars = firstChars.right;
  pushRecord(out, 1, state, chars);
  for await (const r of store.logStream(sessionId, { fromSeq: 2 })) {
    if (E.isLeft(r)) return r;
    const rec = r.right;
    const before = transcriptLength(state.transcript);
    const next = reduce(state, rec);
    if (E.isLeft(next)) return next;
    const prev = state;
    state = next.right;
    const step = readLazy(() => charsAfter(prev, state, rec, before, chars));
    if (E.isLeft(step)) return step;
    chars = step.right;
    if (rec.command.type === 'transcript_rewritten') out.commitSeqs.push(rec.seq);
    if (rec.command.type === 'messages_appended') {
      rec.command.messages.forEach((m, k) => {
        if (m.role !== 'assistant' || m.usage === undefined) return;
        out.turns.seq.push(rec.seq);
        out.turns.index.push(before + k);
        out.turns.inputTokens.push(m.usage.inputTokens);
        out.turns.outputTokens.push(m.usage.outputTokens);
        out.turns.cacheReadTokens.push(m.usage.cacheReadTokens ?? 0);
      });
    }
    pushRecord(out, rec.seq, state, chars);
  }
  return E.right(out);
};

const pushRecord = (out: SeriesView, seq: number, state: SessionState, chars: number): void => {
  out.records.seq.push(seq);
  out.records.messages.push(transcriptLength(state.transcript));
  out.records.chars.push(chars);
};

/**
 * The text size after a record: appends add their messages' sizes; anything
 * else that changed the transcript is recounted from the first index where it
 * may differ (the common prefix of the two transcripts by identity).
 */
const charsAfter = (prev: SessionState, next: SessionState, rec: LogRecord, before: number, chars: number): number => {
  if (prev.transcript === next.transcript) return chars;
  const after = transcriptLength(next.transcript);
  if (rec.command.type === 'messages_appended' && after === before + rec.command.messages.length) {
    return chars + transcriptSlice(next.transcript, before, after).reduce((n, m) => n + textSize(m), 0);
  }
  let same = 0;
  const limit = Math.min(before, after);
  while (same < limit && transcriptMessageAt(prev.transcript, same) === transcriptMessageAt(next.transcript, same)) same++;
  const removed = transcriptSlice(prev.transcript, same, before).reduce((n, m) => n + textSize(m), 0);
  const added = transcriptSlice(next.transcript, same, after).reduce((n, m) => n + textSize(m), 0);
  return chars - removed + added;
};

/** Messages of the transcript at `point` whose text contains `query` (case-insensitive); at most `SEARCH_LIMIT` hits. */
export const searchView = async (store: SessionStore, sessionId: string, query: string, point: Point = { kind: 'head' }, labels: LabelSource = storeLabelSource): Promise<E.Either<PointError, SearchView>> => {
  const s = await loadPoint(store, sessionId, point, labels.resolve);
  if (E.isLeft(s)) return s;
  const all = readLazy(() => s.right.messages);
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

/** The diff of two points with the changed messages' summaries (and with `text`, the line diffs). */
export const diffView = async (store: SessionStore, sessionId: string, a: Point, b: Point, text: boolean, labels: LabelSource = storeLabelSource): Promise<E.Either<PointError, DiffView>> => {
  const c = await comparePoints(store, sessionId, a, b, { text, labels: labels.resolve });
  if (E.isLeft(c)) return c;
  const { comparison, aMessages, bMessages } = c.right;
  const changed = comparison.diff.hunks.filter((h) => h.kind !== 'kept');
  return E.right({
    ...comparison,
    removedSummaries: summaries(aMessages, changed.map((h) => h.a)),
    addedSummaries: summaries(bMessages, changed.map((h) => h.b)),
  });
};

/** The session at a point (for callers that need more than one view of it). */
export const sessionAt = (store: SessionStore, sessionId: string, point: Point, labels: LabelSource = storeLabelSource): Promise<E.Either<PointError, Session>> =>
  loadPoint(store, sessionId, point, labels.resolve);
