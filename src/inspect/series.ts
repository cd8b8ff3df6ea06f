/**
 * The chart series of a session in one range scan of its log
 * (`store.logStream`, which checks every record's hash and link), without
 * replaying the common records:
 *
 * - the state after the genesis comes from `store.load(atSeq: 1)` (a fork's
 *   starts from its parent's state), kept as one number per message: its text
 *   size;
 * - a record whose `revision` equals the previous one left the transcript as it
 *   was (revisions are content addresses);
 * - `messages_appended` appends its messages; `transcript_rewritten` replaces
 *   `[start, end)` with its replacement: both are read off the command;
 * - any other record that moved the revision (a system prompt, a reverted turn
 *   start, realtime commits, …) switches to replay: the state before it is
 *   loaded through the store and every later record is applied with the pure
 *   `reduce`, which also re-checks each record's revision.
 *
 * So a session of appends and rewrites costs one read of its log and the
 * text of its messages once, instead of a full replay (hashing every message
 * and record again, which is what `verify` does and shows as the badge).
 */
import * as E from 'fp-ts/lib/Either.js';
import { messageText } from '../model/index.ts';
import type { Message } from '../model/message.ts';
import { reduce } from '../session/replay.ts';
import type { SessionState } from '../session/state.ts';
import type { LogRecord } from '../session/record.ts';
import type { SessionStore, StoreError } from '../store/index.ts';
import { readLazily, transcriptLength, transcriptMessages } from '../transcript/index.ts';
import type { SeriesView } from './views.ts';

/** The text size of a message (UTF-16 code units of its text). */
const textSize = (m: Message): number => messageText(m).length;

/** What the scan knows of the transcript after a record: each message's text size and their sum, or (after a command it cannot read off) the replayed state. */
type Tracker =
  | { readonly kind: 'sizes'; readonly sizes: number[]; chars: number; revision: string }
  | { readonly kind: 'replay'; state: SessionState; sizes: number[]; chars: number };

const sum = (xs: readonly number[]): number => xs.reduce((n, x) => n + x, 0);

/** Applies a record read off its command; false when the record needs a replay. Mutates `t`. */
const readOff = (t: Extract<Tracker, { kind: 'sizes' }>, rec: LogRecord): boolean => {
  if (rec.revision === t.revision) return true;
  const c = rec.command;
  if (c.type === 'messages_appended') {
    const added = c.messages.map(textSize);
    t.sizes.push(...added);
    t.chars += sum(added);
  } else if (c.type === 'transcript_rewritten' && c.selection.end <= t.sizes.length) {
    const added = c.replacement.map(textSize);
    const removed = t.sizes.splice(c.selection.start, c.selection.end - c.selection.start, ...added);
    t.chars += sum(added) - sum(removed);
  } else return false;
  t.revision = rec.revision;
  return true;
};

/** The text sizes of a state's transcript (reads every message: lazy chunks included). */
const sizesOf = (state: SessionState): E.Either<StoreError, number[]> => readLazily(() => transcriptMessages(state.transcript).map(textSize));

/** Applies a record by replay (`reduce`) and recounts the sizes (see `resize`). */
const replayStep = (t: Extract<Tracker, { kind: 'replay' }>, rec: LogRecord): E.Either<StoreError, void> => {
  const next = reduce(t.state, rec);
  if (E.isLeft(next)) return next;
  if (next.right.transcript === t.state.transcript) {
    t.state = next.right;
    return E.right(undefined);
  }
  const prev = t.state;
  t.state = next.right;
  return readLazily(() => resize(t, prev, rec));
};

/**
 * The sizes after a replayed record: appends add their messages; anything else
 * is recounted from the first index where the two transcripts may differ (their
 * common prefix of identical message objects).
 */
const resize = (t: Extract<Tracker, { kind: 'replay' }>, prev: SessionState, rec: LogRecord): void => {
  const before = transcriptLength(prev.transcript);
  const after = transcriptLength(t.state.transcript);
  if (rec.command.type === 'messages_appended' && after === before + rec.command.messages.length) {
    const added = rec.command.messages.map(textSize);
    t.sizes.push(...added);
    t.chars += sum(added);
    return;
  }
  const was = transcriptMessages(prev.transcript);
  const now = transcriptMessages(t.state.transcript);
  let same = 0;
  while (same < was.length && same < now.length && was[same] === now[same]) same++;
  const added = now.slice(same).map(textSize);
  const removed = t.sizes.splice(same, t.sizes.length - same, ...added);
  t.chars += sum(added) - sum(removed);
};

const pushTurns = (out: SeriesView, rec: LogRecord, before: number): void => {
  if (rec.command.type !== 'messages_appended') return;
  rec.command.messages.forEach((m, k) => {
    if (m.role !== 'assistant' || m.usage === undefined) return;
    out.turns.seq.push(rec.seq);
    out.turns.index.push(before + k);
    out.turns.inputTokens.push(m.usage.inputTokens);
    out.turns.outputTokens.push(m.usage.outputTokens);
    out.turns.cacheReadTokens.push(m.usage.cacheReadTokens ?? 0);
  });
};

const pushRecord = (out: SeriesView, seq: number, t: Tracker): void => {
  out.records.seq.push(seq);
  out.records.messages.push(t.sizes.length);
  out.records.chars.push(t.chars);
};

/**
 * The chart series of `sessionId` (see the module comment). Errors: the
 * store's (`SessionNotFound`, `CorruptRecord` for a record whose hash, link or
 * replayed revision disagrees with the log, …).
 */
export const seriesView = async (store: SessionStore, sessionId: string): Promise<E.Either<StoreError, SeriesView>> => {
  const first = await store.load(sessionId, { atSeq: 1 });
  if (E.isLeft(first)) return first;
  const out: SeriesView = { sessionId, records: { seq: [], messages: [], chars: [] }, turns: { seq: [], index: [], inputTokens: [], outputTokens: [], cacheReadTokens: [] }, commitSeqs: [] };
  const sizes = sizesOf(first.right.state);
  if (E.isLeft(sizes)) return sizes;
  let t: Tracker = { kind: 'sizes', sizes: sizes.right, chars: sum(sizes.right), revision: first.right.transcriptRevision() };
  pushRecord(out, 1, t);
  for await (const r of store.logStream(sessionId, { fromSeq: 2 })) {
    if (E.isLeft(r)) return r;
    const rec = r.right;
    const before = t.sizes.length;
    if (t.kind === 'sizes' && !readOff(t, rec)) {
      const at = await store.load(sessionId, { atSeq: rec.seq - 1 });
      if (E.isLeft(at)) return at;
      t = { kind: 'replay', state: at.right.state, sizes: t.sizes, chars: t.chars };
    }
    if (t.kind === 'replay') {
      const step = replayStep(t, rec);
      if (E.isLeft(step)) return step;
    }
    if (rec.command.type === 'transcript_rewritten') out.commitSeqs.push(rec.seq);
    pushTurns(out, rec, before);
    pushRecord(out, rec.seq, t);
  }
  return E.right(out);
};
