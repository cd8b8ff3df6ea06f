/**
 * Writing one planned pi session into a store, each command reduced once
 * (issue 8 item 1, issue 9 P7).
 *
 * The session's ops (read from the spill) become commands (`commandOfOp`),
 * then its labels. Each command is applied exactly once:
 * - while the store already holds records of an earlier, interrupted run of
 *   the same import (a resume), to an in-memory session loaded at the stored
 *   genesis, and the record it makes is compared with the stored one
 *   (canonical JSON of the command; `PiResumeMismatch` if it differs);
 * - after that, inside `store.update`, in batches of `size` commands: the
 *   store writes the records of that one application as they are (one atomic
 *   batch each).
 * A command the session layer refuses is `PiImportRefused` (what was written
 * before stays, without the completion mark: visibly incomplete).
 *
 * While applying, it notes what the import needs from the session besides its
 * records: the original time of each record (`times`, in a column of the
 * import's spill, so its memory does not grow with the session), the seq and
 * source line reached after each op a fork starts from (`points`), and for each
 * pi label target the first record holding it, from which the label commands
 * are made (file order; the last label on a target wins).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../../model/json.ts';
import { canonicalJsonUnsafe } from '../../model/json.ts';
import type { Digest } from '../../model/scalars.ts';
import { Session } from '../../session/session.ts';
import type { SessionCommand } from '../../session/commands.ts';
import type { LogRecord } from '../../session/record.ts';
import { labelCommand, validateLabel, type SessionStore, type StoreError } from '../../store/index.ts';
import type { PiColumn, PiColumnFactory } from './columns.ts';
import type { PiPlanOp, PiPlanShape } from './plan.ts';
import type { PiImportRefused, PiResumeMismatch } from './store.ts';

/** The state a fork starts from: the parent's seq after an op, and the highest source line in its transcript then. */
export interface PiForkPoint {
  readonly seq: number;
  readonly maxLine: number;
}

/** How a planned session's log starts: a root's genesis metadata, or the fork parent's id and seq. */
export type PiGenesis = { readonly kind: 'root'; readonly metadata: Record<string, Json> } | { readonly kind: 'fork'; readonly parentId: string; readonly seq: number };

/** What the store holds under a planned id before the write: nothing, or an earlier run's records up to `seq` (`complete`: ending with its completion mark). */
export type PiStoredSession = { readonly kind: 'absent' } | { readonly kind: 'present'; readonly seq: number; readonly complete: boolean };

/** One planned session to write. */
export interface PiSessionTarget {
  readonly shape: PiPlanShape;
  readonly id: string;
  readonly genesis: PiGenesis;
  /** The highest source line in the transcript at the start (a fork's parent's at the fork point; 0 for a root). */
  readonly startLine: number;
  /** Op counts after which a fork starts from this session (0: its genesis). */
  readonly cuts: ReadonlySet<number>;
  readonly stored: PiStoredSession;
}

/** A session written (or, complete from an earlier run, checked). */
export interface PiWrittenSession {
  /**
   * The session after its last op and label (before the completion mark): its
   * seq, message count and transcript revision (not the `Session`, so the
   * state of a written session is not kept while the next ones are written).
   */
  readonly head: { readonly seq: number; readonly messages: number; readonly revision: Digest };
  /** Original time of each record, ms: `times.column.get(seq - 1)`, the completion's included. */
  readonly times: PiRecordTimes;
  readonly points: ReadonlyMap<number, PiForkPoint>;
}

/** Options of `writePiSession`: the file name for errors, commands per write, a callback per write (commands), where the record times go. */
export interface PiSessionWriteOptions {
  readonly file: string;
  readonly size: number;
  readonly onWritten: (commands: number) => void;
  readonly column: PiColumnFactory;
}

/** The original times of a session's records (ms) in a float64 column: `count` of them, the last one `last`. */
export interface PiRecordTimes {
  readonly column: PiColumn;
  count: number;
  last: number;
}

const pushTime = (t: PiRecordTimes, ms: number): void => {
  t.column.set(t.count++, ms);
  t.last = ms;
};

/** Records after which an in-memory session (a resume's comparison) drops its log. */
const MEMORY_LOG = 256;
/**
 * Records written after which the store's cached state of the session is
 * dropped (`store.evict`): the next write loads it from the newest snapshot,
 * its messages and revisions read lazily, so the write's memory does not grow
 * with the session.
 */
const EVICT_EVERY = 16_384;
/**
 * Label commands per write (or the import's `size`, if larger). Each write of
 * labels copies the session's metadata once (`Session.applyAll`'s draft), and
 * that metadata holds every label written before it, so `n` labels written `b`
 * at a time copy ~n²/(2b) members, each copy a large object (a dictionary of up
 * to `n` entries) that only a full GC frees. At the end of a 1,000,000-message
 * import (10,000 labels) writes of 64 grew the V8 heap by ~30 MiB of such
 * copies (large object space 3 → 30 MiB: its RSS peak); writes of 1,024 by ~10.
 */
export const PI_LABEL_BATCH = 1024;
/** Records read at a time when a resume compares the stored log with what the import makes. */
const RESUME_PAGE = 512;

/**
 * A command waiting to be applied, with the op it came from and what to note
 * once it is (`after`: given the session after it; none for a label, whose
 * records are counted once the labels are written).
 */
interface Pending {
  readonly command: SessionCommand;
  readonly op: number;
  readonly after?: (session: Session, recorded: boolean) => void;
}

/** Where a session's write stands. */
interface Cursor {
  readonly store: SessionStore;
  readonly target: PiSessionTarget;
  readonly opts: PiSessionWriteOptions;
  /** Stored records up to this seq are compared, not written. */
  readonly storedTo: number;
  /** The session after the commands applied so far: in memory while comparing, else the store's. */
  session: Session;
  /** Records the in-memory session holds in its log. */
  logged: number;
  batch: Pending[];
  /** Commands per write: the import's `size` for ops, at least `PI_LABEL_BATCH` for labels. */
  limit: number;
  /** The stored records being compared (a page of the log). */
  page: readonly LogRecord[];
  /** The seq at which the store's cached state of the session was last dropped. */
  evictedAt: number;
}

type WriteError = StoreError | PiImportRefused | PiResumeMismatch;

const refused = (c: Cursor, p: Pending, e: { readonly _tag: string; readonly message: string }): PiImportRefused => ({
  _tag: 'PiImportRefused',
  file: c.opts.file,
  sessionKey: c.target.shape.key,
  op: p.op,
  cause: { _tag: e._tag, message: e.message },
  message: `${c.opts.file}: planned ${p.op < c.target.shape.opCount ? `op ${p.op}` : `label ${p.op - c.target.shape.opCount}`} (${p.command.type}) of session ${c.target.shape.key} was refused: ${e.message}`,
});

/** `PiResumeMismatch` for record `seq` of `target`. */
export const resumeMismatch = (target: Pick<PiSessionTarget, 'id'>, file: string, seq: number, why: string): PiResumeMismatch => ({
  _tag: 'PiResumeMismatch',
  sessionId: target.id,
  file,
  seq,
  message: `cannot resume the import of ${file} into ${JSON.stringify(target.id)}: record ${seq} ${why}`,
});

/** The stored record `seq` (≤ `storedTo`), read a page at a time. */
const storedRecord = async (c: Cursor, seq: number): Promise<E.Either<StoreError, LogRecord | undefined>> => {
  const first = c.page[0];
  if (first === undefined || seq < first.seq || seq > c.page[c.page.length - 1]!.seq) {
    const l = await c.store.log(c.target.id, { fromSeq: seq, toSeq: Math.min(c.storedTo, seq + RESUME_PAGE - 1) });
    if (E.isLeft(l)) return l;
    c.page = l.right;
  }
  const f = c.page[0];
  return E.right(f === undefined ? undefined : c.page[seq - f.seq]);
};

/** Applies `p` in memory and compares the record it makes with the stored one. */
const compare = async (c: Cursor, p: Pending): Promise<E.Either<WriteError, void>> => {
  const before = c.session;
  const r = before.apply(p.command);
  if (E.isLeft(r)) return E.left(refused(c, p, r.left));
  const next = r.right.session;
  const recorded = next.seq > before.seq;
  if (recorded) {
    if (next.seq > c.storedTo) return E.left(resumeMismatch(c.target, c.opts.file, next.seq, 'is missing from the complete earlier import'));
    const made = next.recordsSince(before)?.[0];
    const stored = await storedRecord(c, next.seq);
    if (E.isLeft(stored)) return stored;
    if (made === undefined || stored.right === undefined || canonicalJsonUnsafe(stored.right.command) !== canonicalJsonUnsafe(made.command)) {
      return E.left(resumeMismatch(c.target, c.opts.file, next.seq, 'differs from what this import writes'));
    }
    c.logged++;
  }
  p.after?.(next, recorded);
  c.session = next;
  if (c.logged >= MEMORY_LOG) {
    c.session = next.withoutLog();
    c.logged = 0;
  }
  return E.right(undefined);
};

/**
 * Applies `items` to `latest`, each once, calling each one's `after`. A batch
 * without any `after` (labels) goes through `Session.applyAll`, which changes
 * one draft of the metadata in place rather than copying it per label; on a
 * refusal the batch is applied again one by one to name the refused command.
 */
const applyPending = (c: Cursor, latest: Session, items: readonly Pending[]): E.Either<PiImportRefused, { readonly session: Session; readonly result: undefined }> => {
  if (items.every((p) => p.after === undefined)) {
    const all = latest.applyAll(items.map((p) => p.command));
    if (E.isRight(all)) return E.right({ session: all.right.session, result: undefined });
  }
  let s = latest;
  for (const p of items) {
    const a = s.apply(p.command);
    if (E.isLeft(a)) return E.left(refused(c, p, a.left));
    const recorded = a.right.session.seq > s.seq;
    s = a.right.session;
    p.after?.(s, recorded);
  }
  return E.right({ session: s, result: undefined });
};

/**
 * Writes the pending commands: one `store.update`, each command applied once by
 * its plan; with a snapshot at the new head when `snapshot` (a phase's last
 * write, before the session is evicted: the next load then replays none of
 * its records, which may hold a line of many MB).
 */
const flush = async (c: Cursor, snapshot = false): Promise<E.Either<WriteError, void>> => {
  const items = c.batch;
  if (items.length === 0) return E.right(undefined);
  c.batch = [];
  const r = await c.store.update<undefined, PiImportRefused>(c.target.id, (latest) => applyPending(c, latest, items), { expectedSeq: c.session.seq, snapshot });
  if (E.isLeft(r)) return r;
  c.session = r.right.session;
  c.opts.onWritten(items.length);
  if (c.session.seq - c.evictedAt >= EVICT_EVERY) {
    // The store's cached state of this session holds every message and revision written so far: drop it, the next write loads it lazily.
    c.store.evict(c.target.id);
    c.evictedAt = c.session.seq;
  }
  return E.right(undefined);
};

/**
 * Applies `p`: compared with the stored log while a resume is inside it (or the
 * stored session is complete), else queued for the next write. A full batch is
 * written when the next command comes, so a phase's last `flush` always has
 * commands to write (and its snapshot).
 */
const push = async (c: Cursor, p: Pending): Promise<E.Either<WriteError, void>> => {
  if (c.batch.length >= c.limit) {
    const f = await flush(c);
    if (E.isLeft(f)) return f;
  }
  const complete = c.target.stored.kind === 'present' && c.target.stored.complete;
  if (c.batch.length === 0 && (c.session.seq < c.storedTo || complete)) return compare(c, p);
  c.batch.push(p);
  return E.right(undefined);
};

/** Checks that the stored genesis of an earlier run is the one this import writes. */
const checkGenesis = async (store: SessionStore, t: PiSessionTarget, file: string): Promise<E.Either<StoreError | PiResumeMismatch, void>> => {
  const log = await store.log(t.id, { fromSeq: 1, toSeq: 1 });
  if (E.isLeft(log)) return log;
  const g = log.right[0]?.command;
  if (g === undefined) return E.left(resumeMismatch(t, file, 1, 'is missing'));
  if (t.genesis.kind === 'root') {
    if (g.type !== 'session_created' || canonicalJsonUnsafe(g.metadata) !== canonicalJsonUnsafe(t.genesis.metadata)) return E.left(resumeMismatch(t, file, 1, 'is not the genesis this import writes'));
  } else if (g.type !== 'session_forked' || g.from.sessionId !== t.genesis.parentId || g.from.seq !== t.genesis.seq || g.mode !== 'full') {
    return E.left(resumeMismatch(t, file, 1, 'is not the fork this import writes'));
  }
  return E.right(undefined);
};

/** The session to start from: created or forked in the store, or (an earlier run's) loaded at its checked genesis. */
const start = async (store: SessionStore, t: PiSessionTarget, opts: PiSessionWriteOptions): Promise<E.Either<StoreError | PiResumeMismatch, Session>> => {
  if (t.stored.kind === 'absent') {
    const created = t.genesis.kind === 'root' ? await store.create({ id: t.id, metadata: t.genesis.metadata }) : await store.fork(t.genesis.parentId, { id: t.id, atSeq: t.genesis.seq });
    if (E.isRight(created)) opts.onWritten(1);
    return created;
  }
  const g = await checkGenesis(store, t, opts.file);
  if (E.isLeft(g)) return g;
  return store.load(t.id, { atSeq: 1 });
};

/**
 * For the labels of a session: the first record (seq, revision) at which each
 * label target line is in the transcript, in typed arrays (a seq and the
 * digest's 32 bytes per target line, ascending; `count` of them reached so far)
 * rather than a map entry, an object and a 71-character string each: held
 * while the whole session is written, it grows with its labels (10,000 in a
 * 1,000,000-message file: ~0.5 MB here against ~1.7 MB as a map).
 */
interface ReachedTargets {
  readonly lines: Float64Array;
  readonly seqs: Float64Array;
  readonly revisions: Uint8Array;
  count: number;
}

const DIGEST_PREFIX = 'sha256:';

/** Empty `ReachedTargets` for the target `lines` (any order, repeats allowed). */
const reachedTargets = (lines: readonly number[]): ReachedTargets => {
  const sorted = Float64Array.from(new Set(lines)).sort();
  return { lines: sorted, seqs: new Float64Array(sorted.length), revisions: new Uint8Array(sorted.length * 32), count: 0 };
};

/** Notes that the next target line not yet reached is reached at `seq` with transcript `revision` (a `sha256:` digest). */
const reachNext = (r: ReachedTargets, seq: number, revision: Digest): void => {
  if (!revision.startsWith(DIGEST_PREFIX) || revision.length !== DIGEST_PREFIX.length + 64) throw new Error(`pi import: transcript revision ${revision} is not a sha256 digest`);
  r.seqs[r.count] = seq;
  r.revisions.set(Buffer.from(revision.slice(DIGEST_PREFIX.length), 'hex'), r.count * 32);
  r.count++;
};

/** The index of target `line` among those reached, or -1 (never reached). */
const reachedIndex = (r: ReachedTargets, line: number): number => {
  let lo = 0;
  let hi = r.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r.lines[mid]! < line) lo = mid + 1;
    else hi = mid;
  }
  return lo === r.count || r.lines[lo] !== line ? -1 : lo;
};

/** Whether target `line` was reached. */
const isReached = (r: ReachedTargets, line: number): boolean => reachedIndex(r, line) >= 0;

/** The record (seq, revision) at which target `line` was first reached, or `undefined` (never reached). */
const reachedAt = (r: ReachedTargets, line: number): { readonly seq: number; readonly revision: Digest } | undefined => {
  const i = reachedIndex(r, line);
  if (i < 0) return undefined;
  return { seq: r.seqs[i]!, revision: `${DIGEST_PREFIX}${Buffer.from(r.revisions.buffer, r.revisions.byteOffset + i * 32, 32).toString('hex')}` };
};

/**
 * The label commands of a session: each pi label at the first record holding
 * its target (`reached`), last one per target, by name; made one at a time as
 * they are written. What is held meanwhile is an index into `t.shape.labels`
 * per name, not a target and a command per label: those are made as each is
 * pushed, and once written only the metadata keeps the label (20,000 labels
 * held ~10 MB more as commands made up front, live through the whole label
 * phase, and V8's heap grows with what is live: ARCHITECTURE.md).
 */
function* labelCommands(t: PiSessionTarget, reached: ReachedTargets): Generator<SessionCommand> {
  const labels = t.shape.labels;
  // name -> index of the pi label that sets it; the name each pi target holds (at most one: a pi label on a target
  // replaces the one before), so a label finds the name it replaces without scanning every label (5,000 labels made
  // ~0.4 GB of iterator garbage).
  const chosen = new Map<string, number>();
  const nameOf = new Map<string, string>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const replaced = nameOf.get(l.targetId);
    if (replaced !== undefined) {
      chosen.delete(replaced);
      nameOf.delete(l.targetId);
    }
    if (l.label === undefined || E.isLeft(validateLabel(l.label)) || !isReached(reached, l.targetLine)) continue;
    const before = chosen.get(l.label);
    if (before !== undefined) nameOf.delete(labels[before]!.targetId);
    chosen.set(l.label, i);
    nameOf.set(l.targetId, l.label);
  }
  nameOf.clear();
  const names = [...chosen.keys()].sort();
  for (const name of names) {
    const l = labels[chosen.get(name)!]!;
    const hit = reachedAt(reached, l.targetLine)!;
    yield labelCommand(name, { sessionId: t.id, seq: hit.seq, revision: hit.revision }, l.targetId);
  }
}

/**
 * Writes (or resumes, or checks a complete earlier run of) one planned
 * session from its `ops` (module comment); does not write the completion
 * mark. Errors: the store's, `PiImportRefused`, `PiResumeMismatch`.
 */
export const writePiSession = async (
  store: SessionStore,
  t: PiSessionTarget,
  ops: AsyncIterable<PiPlanOp>,
  commandOf: (op: PiPlanOp) => SessionCommand,
  opts: PiSessionWriteOptions,
): Promise<E.Either<WriteError, PiWrittenSession>> => {
  const started = await start(store, t, opts);
  if (E.isLeft(started)) return started;
  const storedTo = t.stored.kind === 'absent' ? 1 : t.stored.complete ? t.stored.seq - 1 : t.stored.seq;
  const c: Cursor = { store, target: t, opts, storedTo, session: started.right, logged: 0, batch: [], limit: opts.size, page: [], evictedAt: started.right.seq };
  const times: PiRecordTimes = { column: opts.column('float64'), count: 0, last: 0 };
  pushTime(times, t.shape.createdAt);
  const points = new Map<number, PiForkPoint>();
  let maxLine = t.startLine;
  if (t.cuts.has(0)) points.set(0, { seq: c.session.seq, maxLine });
  // For the labels: the first record (seq, revision) at which each target line is in the transcript.
  const reached = reachedTargets(t.shape.labels.map((l) => l.targetLine));
  const reach = (s: Session): void => {
    while (reached.count < reached.lines.length && reached.lines[reached.count]! <= maxLine) reachNext(reached, s.seq, s.transcriptRevision());
  };
  reach(c.session);
  let i = 0;
  for await (const op of ops) {
    const n = ++i;
    const r = await push(c, {
      command: commandOf(op),
      op: n - 1,
      after: (s, recorded) => {
        if (recorded) pushTime(times, op.at);
        if ((op.op === 'append' || op.op === 'rewrite') && op.line > maxLine) {
          maxLine = op.line;
          reach(s);
        }
        if (t.cuts.has(n)) points.set(n, { seq: s.seq, maxLine });
      },
    });
    if (E.isLeft(r)) return r;
  }
  const f = await flush(c, true);
  if (E.isLeft(f)) return f;
  if (c.session.seq > c.evictedAt) {
    // The ops are written: drop the store's cached state (the messages written since the last eviction); the label
    // writes load it lazily from the newest snapshot.
    store.evict(t.id);
    c.evictedAt = c.session.seq;
  }
  const beforeLabels = c.session.seq;
  c.limit = Math.max(opts.size, PI_LABEL_BATCH);
  let k = 0;
  for (const command of labelCommands(t, reached)) {
    const r = await push(c, { command, op: i + k++ });
    if (E.isLeft(r)) return r;
  }
  const g = await flush(c, true);
  if (E.isLeft(g)) return g;
  for (let seq = beforeLabels; seq < c.session.seq; seq++) pushTime(times, times.last); // each label record: the time of the last op
  if (c.session.seq < storedTo) return E.left(resumeMismatch(t, opts.file, c.session.seq + 1, 'is beyond what this import writes'));
  pushTime(times, times.last); // the completion record
  // Evicted again, so the sessions written after this one do not keep its labels live (its metadata holds every one):
  // the completion mark (`store.ts`) loads it back from the snapshot the last flush wrote, replaying no record. A
  // 400,000-message file with 100,000 labels in two sessions: peak RSS 381 -> 365 MiB at the same rate (bench/RESULTS.md, "I3").
  if (c.session.seq > beforeLabels) store.evict(t.id);
  return E.right({ head: { seq: c.session.seq, messages: c.session.messageCount, revision: c.session.transcriptRevision() }, times, points });
};
