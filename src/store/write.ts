/**
 * Writing (`layout.ts`, "Writes"): every mutation is one atomic batch
 * (`commit`) taken under the session's writer lock. `update` runs a plan on
 * the latest session and writes the records it produced as they are (each
 * command reduced once, by `apply`); `append` is `update` with
 * `Session.applyAll`; `create` writes a genesis.
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { settleAccumulator } from '../model/accumulator.ts';
import type { Digest } from '../model/scalars.ts';
import { Session } from '../session/session.ts';
import * as commands from '../session/builders.ts';
import type { ResultsOf } from '../session/results.ts';
import { recordJson, type LogRecord } from '../session/record.ts';
import { invalidArgument, seqConflict, sessionExists, type StoreError } from './errors.ts';
import { headerJson, type PutOp } from './io.ts';
import { MAX_SEQ, keys } from './layout.ts';
import { emptyMemos, encodeSnapshot, type SnapshotMemos } from './snapshot.ts';
import type { CacheEntry } from './sessionCache.ts';
import { checkSid, expectedSeqProblem, guard, isTagged, rebase, type StoreContext } from './context.ts';
import { latestEntry } from './load.ts';
import type { AppendResult, StoreCreateOptions, UpdatePlan, UpdateResult } from './store.ts';

/**
 * Writes `records` (the records `after` added on top of `base`) in one batch:
 * records, revision-index keys, a snapshot with its new chunks when the batch
 * crosses a multiple of `ctx.snapshotEvery` or `snapshot` asks for one at
 * `after` (never with a genesis), the header, and `extra`. Then caches `after`.
 */
export const commit = async (
  ctx: StoreContext,
  sid: string,
  base: { readonly seq: number; readonly revision: Digest | undefined; readonly memos: SnapshotMemos; readonly snapshot: number | undefined },
  after: Session,
  records: readonly LogRecord[],
  extra: readonly PutOp[] = [],
  snapshot = false,
): Promise<E.Either<StoreError, void>> => {
  if (after.seq > MAX_SEQ) return E.left(invalidArgument('commands', `a session holds at most ${MAX_SEQ} records`));
  const ops: PutOp[] = [];
  let prevRevision = base.revision;
  for (const r of records) {
    ops.push({ key: keys.record(sid, r.seq), value: recordJson(r) });
    if (r.revision !== prevRevision) ops.push({ key: keys.revision(sid, r.revision, r.seq), value: r.command.type });
    prevRevision = r.revision;
  }
  let memos = base.memos;
  let snapshotSeq = base.snapshot;
  if (base.seq >= 1 && (snapshot || Math.floor(base.seq / ctx.snapshotEvery) < Math.floor(after.seq / ctx.snapshotEvery))) {
    const enc = encodeSnapshot(after.state, memos);
    for (const c of enc.chunks) ops.push({ key: keys.chunk(c.id), value: c.value });
    ops.push({ key: keys.snapshot(sid, after.seq), value: enc.value });
    memos = enc.memos;
    snapshotSeq = after.seq;
  }
  ops.push({ key: keys.header(sid), value: headerJson(after.state, snapshotSeq) });
  for (const op of extra) ops.push(op);
  const written = ctx.io.batch(ops);
  // While the backend writes (LevelDB on its own thread), build the cache entry (it does not depend
  // on the outcome) and compute the head accumulator's exportable state, which the next snapshot
  // would otherwise compute for all the messages since the last one at once.
  const latest = rebase(ctx, after);
  settleAccumulator(after.state.transcript.head);
  const w = await written;
  if (E.isLeft(w)) {
    // Another process may have written (SeqConflict on a shared backend): the next call reloads.
    ctx.cache.delete(sid);
    return w;
  }
  ctx.cache.set(sid, { session: latest, memos, snapshot: snapshotSeq });
  if (ctx.onCommit !== undefined) {
    try {
      ctx.onCommit({ sessionId: sid, seq: after.seq, hash: after.head });
    } catch {
      // The batch is durable; the application's shipping failure is its own.
    }
  }
  return E.right(undefined);
};

/**
 * Runs `plan` on the cached latest `entry` and commits the records of the
 * session it returns, as they are, with a snapshot at its head when `snapshot`
 * and it added records (inside the lock).
 */
const planAndCommit = async <A, Err>(ctx: StoreContext, sid: string, entry: CacheEntry, plan: UpdatePlan<A, Err>, snapshot: boolean): Promise<E.Either<StoreError | Err, UpdateResult<A>>> => {
  const base = entry.session;
  const planned = plan(base); // a lazy-read failure it throws is turned into its Left by `guard`
  if (E.isLeft(planned)) return planned;
  const { session, result } = planned.right;
  const records = session.recordsSince(base);
  if (records === undefined) return E.left(invalidArgument('plan', `the session returned does not derive from the latest session ${sid}`));
  if (records.length === 0) return E.right({ records, session: base, result });
  const w = await commit(ctx, sid, { seq: base.seq, revision: base.transcriptRevision(), memos: entry.memos, snapshot: entry.snapshot }, session, records, [], snapshot);
  if (E.isLeft(w)) return w;
  return E.right({ records, session, result });
};

/** Inside `guard`, with checked arguments: take the lock, check `expectedSeq`, plan and commit (`snapshot`: `planAndCommit`). */
export const updateLocked = <A, Err>(ctx: StoreContext, sid: string, plan: UpdatePlan<A, Err>, expectedSeq: number | undefined, snapshot = false): Promise<E.Either<StoreError | Err, UpdateResult<A>>> =>
  ctx.writers.run(sid, async () => {
    // A backend no other process writes keeps the cached entry current: take it without a round trip.
    const hit = ctx.io.shared ? undefined : ctx.cache.get(sid);
    const entry = hit !== undefined ? E.right(hit) : await latestEntry(ctx, sid);
    if (E.isLeft(entry)) return entry;
    if (expectedSeq !== undefined && entry.right.session.seq !== expectedSeq) return E.left(seqConflict(sid, expectedSeq, entry.right.session.seq));
    return planAndCommit(ctx, sid, entry.right, plan, snapshot);
  });

/** `update`: check the arguments, then `updateLocked`. */
export const updateSession = <A, Err>(
  ctx: StoreContext,
  sessionId: string,
  plan: UpdatePlan<A, Err>,
  opts: { readonly expectedSeq?: number | undefined; readonly snapshot?: boolean | undefined },
): Promise<E.Either<StoreError | Err, UpdateResult<A>>> =>
  guard<UpdateResult<A>, Err>(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    const { expectedSeq, snapshot = false } = opts;
    const bad = expectedSeq === undefined ? undefined : expectedSeqProblem(expectedSeq);
    if (bad !== undefined) return E.left(bad);
    if (typeof plan !== 'function') return E.left(invalidArgument('plan', 'expected a function'));
    if (typeof snapshot !== 'boolean') return E.left(invalidArgument('snapshot', 'expected a boolean'));
    return updateLocked(ctx, sid.right, plan, expectedSeq, snapshot);
  });

/** `append`: every command applied once, in order, to the latest session (`Session.applyAll`), then committed. */
export const appendCommands = <const Cs extends readonly unknown[]>(ctx: StoreContext, sessionId: string, list: Cs, opts: { readonly expectedSeq: number }): Promise<E.Either<StoreError, AppendResult<ResultsOf<Cs>>>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    if (!Array.isArray(list)) return E.left(invalidArgument('commands', 'expected an array of commands'));
    const expected = opts?.expectedSeq;
    const bad = expectedSeqProblem(expected);
    if (bad !== undefined) return E.left(bad);
    const r = await updateLocked(ctx, sid.right, (s) => s.applyAll(list), expected);
    return E.isLeft(r) ? r : E.right({ records: r.right.records, session: r.right.session, results: r.right.result });
  });

/** Whether `sid` exists (cache or header). */
export const exists = async (ctx: StoreContext, sid: string): Promise<E.Either<StoreError, boolean>> => {
  if (ctx.cache.has(sid)) return E.right(true);
  const h = await ctx.io.get(keys.header(sid));
  return E.isLeft(h) ? h : E.right(h.right !== undefined);
};

/** `store.create`: a session with one genesis record. */
export const createSession = (ctx: StoreContext, opts: StoreCreateOptions = {}): Promise<E.Either<StoreError, Session>> =>
  guard(ctx, async () => {
    const sid = checkSid(opts.id ?? randomUUID());
    if (E.isLeft(sid)) return sid;
    const id = sid.right;
    return ctx.writers.run(id, async () => {
      const ex = await exists(ctx, id);
      if (E.isLeft(ex)) return ex;
      if (ex.right) return E.left(sessionExists(id));
      let session: Session;
      try {
        session = Session.create({ id, clock: ctx.clock, ...(opts.metadata !== undefined ? { metadata: opts.metadata } : {}) });
      } catch (e) {
        if (isTagged(e)) return E.left(e);
        throw e;
      }
      const w = await commit(ctx, id, { seq: 0, revision: undefined, memos: emptyMemos, snapshot: undefined }, session, session.log);
      return E.isLeft(w) ? w : E.right(session);
    });
  });

/** `store.archive`: a `session_archived` command through `update`. */
export const archiveSession = (ctx: StoreContext, sessionId: string, reason?: string): Promise<E.Either<StoreError, { readonly session: Session; readonly result: 'archived' | 'already_archived' }>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    if (reason !== undefined && typeof reason !== 'string') return E.left(invalidArgument('reason', 'expected a string'));
    const r = await updateLocked(ctx, sid.right, (s) => s.apply(commands.sessionArchived(reason)), undefined);
    return E.isLeft(r) ? r : E.right({ session: r.right.session, result: r.right.result });
  });
