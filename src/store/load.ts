/**
 * Reading sessions (`layout.ts`, "Reads"): records by range (one range scan,
 * shared by `log`, `logStream` and replay), a session at a seq from its newest
 * snapshot plus the records after it (a fork's genesis loads its parent),
 * the cached latest entry (`latestEntry`), and `load` itself. Every read checks
 * what it starts from against the log (`readChecks.ts`) and fails closed.
 */
import * as E from 'fp-ts/lib/Either.js';
import { isDigest, type Digest } from '../model/scalars.ts';
import { Session } from '../session/session.ts';
import type { SessionError } from '../session/errors.ts';
import type { CommandOf } from '../session/commands.ts';
import type { LogRecord } from '../session/record.ts';
import { absurd } from '../session/reduce.ts';
import { reduce } from '../session/replay.ts';
import { blankState, type SessionState } from '../session/state.ts';
import { corruptRecord, invalidArgument, revisionNotFound, seqOutOfRange, storeClosed, type StoreError } from './errors.ts';
import { decodeStoredRecord, seqOfKey, type SessionHeader } from './io.ts';
import { keys, prefixRange } from './layout.ts';
import { checkSnapshotTail, chunkRootsOf, decodeSnapshot, emptyMemos, forkMemos, parseSnapshot, snapshotTailStart } from './snapshot.ts';
import { checkHeaderAgainstLog, checkHeaderAgainstState, checkRecordLink, checkSnapshotAgainstRecord, readRecordAt } from './readChecks.ts';
import type { CacheEntry } from './sessionCache.ts';
import { checkSeqArg, checkSid, describe, guard, rebase, requireHeader, type Loaded, type StoreContext } from './context.ts';

/** A seq range of a log: `fromSeq..toSeq`, inclusive (default the whole log). */
export interface LogRange {
  readonly fromSeq?: number;
  readonly toSeq?: number;
}

/**
 * Records `from..to` of `sid` (inclusive) in key order, decoded: `Right`s, or
 * one `Left` and stop (a gap is `CorruptRecord`). With `checkLinks`, each
 * record must also hash to its `hash` and link to the one before
 * (`checkRecordLink`); replay checks those itself. The one range scan behind
 * load, `log` and `logStream`.
 */
export async function* scanRecords(ctx: StoreContext, sid: string, from: number, to: number, checkLinks: boolean): AsyncGenerator<E.Either<StoreError, LogRecord>> {
  if (to < from) return;
  let expected = from;
  let previous: LogRecord | undefined;
  for await (const batch of ctx.io.scan({ gte: keys.record(sid, from), lte: keys.record(sid, to) })) {
    if (E.isLeft(batch)) {
      yield batch;
      return;
    }
    for (const [k, v] of batch.right) {
      const seq = seqOfKey(k);
      if (seq !== expected) {
        yield E.left(corruptRecord(sid, expected, `record ${expected} is missing (found key ${k})`));
        return;
      }
      const r = decodeStoredRecord(sid, seq, v);
      const checked = E.isRight(r) && checkLinks ? checkRecordLink(sid, r.right, previous) : E.right(undefined);
      if (E.isLeft(checked)) {
        yield checked;
        return;
      }
      yield r;
      if (E.isLeft(r)) return;
      previous = r.right;
      expected++;
    }
  }
  if (expected !== to + 1) yield E.left(corruptRecord(sid, expected, `record ${expected} is missing`));
}

/** `scanRecords` collected: every record of `from..to`, or the first `Left`. */
export const readRecords = async (ctx: StoreContext, sid: string, from: number, to: number, checkLinks = false): Promise<E.Either<StoreError, LogRecord[]>> => {
  const out: LogRecord[] = [];
  for await (const r of scanRecords(ctx, sid, from, to, checkLinks)) {
    if (E.isLeft(r)) return r;
    out.push(r.right);
  }
  return E.right(out);
};

/** The seq of the record whose failure `e` reports: its `seq` field, else found by stepping. */
export const failingSeq = (e: SessionError, base: SessionState | undefined, records: readonly LogRecord[], parent: SessionState | undefined): number => {
  const s = (e as { seq?: unknown }).seq;
  if (typeof s === 'number') return s;
  let state = base ?? (records[0] !== undefined ? blankState(records[0].sessionId) : undefined);
  for (const r of records) {
    if (state === undefined) return r.seq;
    const next = reduce(state, r, r.seq === 1 ? parent : undefined);
    if (E.isLeft(next)) return r.seq;
    state = next.right;
  }
  return records[records.length - 1]?.seq ?? 0;
};

/** What a caller of `loadSession` may already hold: the sessions on the fork path being loaded, the header it just read. */
export interface LoadSessionOptions {
  /** Sessions whose load is under way further up a fork lineage (a loop is `CorruptRecord`). */
  readonly visiting?: ReadonlySet<string>;
  /** The header of `sid` the caller read in this same operation (not read again; still checked against the log). */
  readonly header?: SessionHeader;
  /**
   * The caller reads only the messages below this index of the loaded session
   * and neither caches nor returns it (a fork at that index): when the snapshot's
   * inline tail starts at or above it, the tail is not re-hashed
   * (`checkSnapshotTail`) and the result says `tailUnchecked`. Sound because a
   * replayed record that moves a message re-hashes it against its revision, so
   * an unchecked message stays at or above the tail's start. Given by `forkAt` /
   * `forkReplacing` and, with the same bound (`forkReadsBelow`), by the cold
   * load of the child they wrote: the child's genesis revision checks the
   * messages it takes.
   */
  readonly readsBelow?: number;
}

/**
 * How many of the parent's messages a fork genesis reads (`LoadSessionOptions.readsBelow`):
 * `at` the first `index`, `replacing` also the message at `index` (it is edited),
 * `full` all of them (`undefined`: no bound). The same bound `forkAt` and
 * `forkReplacing` load the parent with when they write the child, so a child
 * loads exactly when its fork succeeded, whatever the parent holds above it.
 */
export const forkReadsBelow = (command: CommandOf<'session_forked'>): number | undefined => {
  switch (command.mode) {
    case 'full':
      return undefined;
    case 'at':
      return command.index;
    case 'replacing':
      return command.index === undefined ? undefined : command.index + 1;
    default:
      return absurd(command.mode);
  }
};

/**
 * The session `sid` after record `target` (default: its newest), from the newest
 * snapshot at or below `target` plus the records after it; a session without one
 * replays from genesis (a fork first loads its parent at `from.seq`).
 */
export const loadSession = async (ctx: StoreContext, sid: string, target: number | undefined, opts: LoadSessionOptions = {}): Promise<E.Either<StoreError, Loaded>> => {
  const visiting = opts.visiting ?? new Set<string>();
  const h = opts.header !== undefined ? E.right(opts.header) : await requireHeader(ctx, sid);
  if (E.isLeft(h)) return h;
  const header = h.right;
  const seq = target ?? header.lastSeq;
  if (seq < 1 || seq > header.lastSeq) return E.left(seqOutOfRange(sid, seq, header.lastSeq));
  // The header check (two point reads: synchronous on LevelDB, queries on PostgreSQL, which run
  // while the snapshot is read and decoded here); its failure, if any, is the one returned.
  const checkedHeader = checkHeaderAgainstLog(ctx.io, sid, header);
  const loaded = await loadUnderHeader(ctx, sid, header, seq, visiting, opts, checkedHeader);
  const checked = await checkedHeader;
  return E.isLeft(checked) ? checked : loaded;
};

/**
 * `loadSession` after the header was read and the target seq checked (the header
 * is checked against the log meanwhile: `headRecord`, which also gives the record
 * at `lastSeq`, so a snapshot at the head does not read and decode it again).
 */
const loadUnderHeader = async (
  ctx: StoreContext,
  sid: string,
  header: SessionHeader,
  seq: number,
  visiting: ReadonlySet<string>,
  opts: LoadSessionOptions,
  headRecord: Promise<E.Either<StoreError, LogRecord>>,
): Promise<E.Either<StoreError, Loaded>> => {
  /** At the head, the header must also say what the loaded state says. */
  const done = (l: Loaded): E.Either<StoreError, Loaded> => {
    if (seq !== header.lastSeq) return E.right(l);
    const c = checkHeaderAgainstState(sid, header, l.session.state);
    return E.isLeft(c) ? c : E.right(l);
  };
  let snapSeq: number | undefined = header.snapshot;
  if (snapSeq !== undefined && snapSeq > seq) {
    const k = await ctx.io.lastKey({ gte: keys.snapshot(sid, 1), lte: keys.snapshot(sid, seq) });
    if (E.isLeft(k)) return k;
    snapSeq = k.right === undefined ? undefined : seqOfKey(k.right);
  }
  const snapshot = snapSeq;

  if (snapSeq !== undefined) {
    const raw = await ctx.io.get(keys.snapshot(sid, snapSeq));
    if (E.isLeft(raw)) return raw;
    if (raw.right === undefined) return E.left(corruptRecord(sid, snapSeq, 'the header names a snapshot that is missing'));
    const parsed = parseSnapshot(raw.right);
    if (E.isLeft(parsed)) return E.left(corruptRecord(sid, snapSeq, `snapshot: ${parsed.left}`));
    const reader = await ctx.io.chunkReader(chunkRootsOf(parsed.right));
    if (E.isLeft(reader)) return reader;
    const snap = await decodeSnapshot({ parsed: parsed.right }, sid, snapSeq, reader.right);
    if (E.isLeft(snap)) return snap;
    // A snapshot at the target needs only its own record: a point read, not a range scan.
    const records =
      snapSeq !== seq
        ? await readRecords(ctx, sid, snapSeq, seq)
        : E.map((r: LogRecord) => [r])(seq === header.lastSeq ? await headRecord : await readRecordAt(ctx.io, sid, seq, `record ${seq} is missing`));
    if (E.isLeft(records)) return records;
    const [at, ...tail] = records.right;
    const state = snap.right.state;
    const checked = checkSnapshotAgainstRecord(sid, snapSeq, state, at);
    if (E.isLeft(checked)) return checked;
    const skipTail = opts.readsBelow !== undefined && opts.readsBelow <= snapshotTailStart(state).count;
    if (!skipTail) {
      const tailOk = checkSnapshotTail(sid, snapSeq, state);
      if (E.isLeft(tailOk)) return tailOk;
    }
    const r = Session.fromState(state, tail, { clock: ctx.clock });
    if (E.isLeft(r)) return E.left(corruptRecord(sid, failingSeq(r.left, state, tail, undefined), describe(r.left)));
    return done({ session: r.right, memos: snap.right.memos, snapshot, header, ...(skipTail ? { tailUnchecked: true as const } : {}) });
  }

  const records = await readRecords(ctx, sid, 1, seq);
  if (E.isLeft(records)) return records;
  const genesis = records.right[0];
  if (genesis === undefined) return E.left(corruptRecord(sid, 1, 'the session has no records'));
  let parent: Loaded | undefined;
  if (genesis.command.type === 'session_forked') {
    const from = genesis.command.from;
    if (visiting.has(from.sessionId) || from.sessionId === sid) return E.left(corruptRecord(sid, 1, `fork lineage loops through ${from.sessionId}`));
    // The child reads only the parent's messages below `forkReadsBelow` (and checks them: its genesis record's
    // revision), so the parent is loaded as the fork that wrote it loaded it: the two check the same bytes.
    const below = forkReadsBelow(genesis.command);
    const p = await loadSession(ctx, from.sessionId, from.seq, { visiting: new Set([...visiting, sid]), ...(below !== undefined ? { readsBelow: below } : {}) });
    if (E.isLeft(p)) {
      const e = p.left;
      if (e._tag === 'SessionNotFound' || e._tag === 'SeqOutOfRange') return E.left(corruptRecord(sid, 1, `fork parent ${from.sessionId}@${from.seq}: ${e.message}`));
      return p;
    }
    parent = p.right;
  }
  const r = Session.replay(records.right, { clock: ctx.clock, ...(parent !== undefined ? { parent: parent.session.state } : {}) });
  if (E.isLeft(r)) return E.left(corruptRecord(sid, failingSeq(r.left, undefined, records.right, parent?.session.state), describe(r.left)));
  return done({ session: r.right, memos: parent !== undefined ? forkMemos(parent.memos) : emptyMemos, snapshot, header });
};

/**
 * The cached latest entry of `sid`, if any and still the head. On a shared
 * backend (PostgreSQL) another process may have appended: the header (`known`,
 * when the caller just read it, else read here: one point read) is compared and
 * an entry whose seq or hash differs from it is dropped.
 */
export const freshCached = async (ctx: StoreContext, sid: string, known?: SessionHeader): Promise<E.Either<StoreError, CacheEntry | undefined>> => {
  const cached = ctx.cache.get(sid);
  if (cached === undefined || !ctx.io.shared) return E.right(cached);
  const h = known !== undefined ? E.right(known) : await ctx.io.header(sid);
  if (E.isLeft(h)) return h;
  if (h.right !== undefined && h.right.lastSeq === cached.session.seq && h.right.lastHash === cached.session.head) return E.right(cached);
  ctx.cache.delete(sid);
  return E.right(undefined);
};

/**
 * The newest state of `sid`: the cached entry, or loaded and cached. Call inside
 * `ctx.writers.run(sid)`. With `readsBelow` (a fork reading only the messages
 * below it) a load may skip the snapshot tail check (`LoadSessionOptions`); such
 * an entry is returned but not cached.
 */
export const latestEntry = async (ctx: StoreContext, sid: string, readsBelow?: number): Promise<E.Either<StoreError, CacheEntry>> => {
  const cached = await freshCached(ctx, sid);
  if (E.isLeft(cached)) return cached;
  if (cached.right !== undefined) return E.right(cached.right);
  const l = await loadSession(ctx, sid, undefined, readsBelow !== undefined ? { readsBelow } : {});
  if (E.isLeft(l)) return l;
  const entry: CacheEntry = { session: rebase(ctx, l.right.session), memos: l.right.memos, snapshot: l.right.snapshot };
  if (l.right.tailUnchecked !== true) ctx.cache.set(sid, entry);
  return E.right(entry);
};

/** The first seq at which `revision` became the head of `sid`. */
export const firstSeqOf = async (ctx: StoreContext, sid: string, revision: Digest): Promise<E.Either<StoreError, number>> => {
  const ks = await ctx.io.keys(prefixRange(keys.revisionPrefix(sid, revision)));
  if (E.isLeft(ks)) return ks;
  let first: number | undefined;
  for (const k of ks.right) {
    const s = seqOfKey(k);
    if (s !== undefined && (first === undefined || s < first)) first = s;
  }
  return first === undefined ? E.left(revisionNotFound(sid, revision)) : E.right(first);
};

/** `range` of `sid` made concrete against its header (checked against the log): `SeqOutOfRange`, `InvalidArgument`, `SessionNotFound`. */
export const checkRange = async (
  ctx: StoreContext,
  sid: string,
  range: LogRange,
): Promise<E.Either<StoreError, { from: number; to: number }>> => {
  const h = await requireHeader(ctx, sid);
  if (E.isLeft(h)) return h;
  const checked = await checkHeaderAgainstLog(ctx.io, sid, h.right);
  if (E.isLeft(checked)) return checked;
  const last = h.right.lastSeq;
  const from = range.fromSeq ?? 1;
  const to = range.toSeq ?? last;
  for (const [name, v] of [
    ['fromSeq', from],
    ['toSeq', to],
  ] as const) {
    const c = checkSeqArg(name, v);
    if (E.isLeft(c)) return c;
  }
  if (from < 1 || from > last) return E.left(seqOutOfRange(sid, from, last));
  if (to < from || to > last) return E.left(seqOutOfRange(sid, to, last));
  return E.right({ from, to });
};

/** The revision index said `revision` became the head at `session.seq`: the loaded session must have it. */
export const checkRevisionIndex = (sid: string, revision: Digest, session: Session): E.Either<StoreError, void> =>
  session.transcriptRevision() === revision
    ? E.right(undefined)
    : E.left(corruptRecord(sid, session.seq, `the revision index says ${revision} became the head at record ${session.seq}, whose revision is ${session.transcriptRevision()}`));

/** `store.load`: the session at its newest record, after `atSeq`, or when `atRevision` first became its head. */
export const loadAt = (ctx: StoreContext, sessionId: string, opts: { readonly atSeq?: number; readonly atRevision?: Digest } = {}): Promise<E.Either<StoreError, Session>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    if (opts.atSeq !== undefined && opts.atRevision !== undefined) return E.left(invalidArgument('load options', 'give atSeq or atRevision, not both'));
    let target: number | undefined;
    if (opts.atSeq !== undefined) {
      const s = checkSeqArg('atSeq', opts.atSeq);
      if (E.isLeft(s)) return s;
      target = s.right;
    }
    if (opts.atRevision !== undefined && !isDigest(opts.atRevision)) return E.left(invalidArgument('atRevision', 'expected sha256:<64 lowercase hex>'));
    // The header is read once and handed on (a shared backend's cache check and the load need it too).
    let header: SessionHeader | undefined;
    if (opts.atRevision !== undefined || ctx.io.shared) {
      const h = await requireHeader(ctx, sid.right);
      if (E.isLeft(h)) return h;
      header = h.right;
    }
    if (opts.atRevision !== undefined) {
      const s = await firstSeqOf(ctx, sid.right, opts.atRevision);
      if (E.isLeft(s)) return s;
      target = s.right;
    }
    const cached = await freshCached(ctx, sid.right, header);
    if (E.isLeft(cached)) return cached;
    if (cached.right !== undefined && (target === undefined || target === cached.right.session.seq)) return E.right(cached.right.session);
    const l = await loadSession(ctx, sid.right, target, header !== undefined ? { header } : {});
    if (E.isLeft(l)) return l;
    if (opts.atRevision !== undefined) {
      const c = checkRevisionIndex(sid.right, opts.atRevision, l.right.session);
      if (E.isLeft(c)) return c;
    }
    return E.right(l.right.session);
  });

/** `store.log`: records `fromSeq..toSeq`, each checked to hash and link. */
export const readLog = (ctx: StoreContext, sessionId: string, range: LogRange = {}): Promise<E.Either<StoreError, LogRecord[]>> =>
  guard(ctx, async () => {
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) return sid;
    const r = await checkRange(ctx, sid.right, range);
    if (E.isLeft(r)) return r;
    return readRecords(ctx, sid.right, r.right.from, r.right.to, true);
  });

/** `store.logStream`: `log`, streamed. */
export const streamLog = (ctx: StoreContext, sessionId: string, range: LogRange = {}): AsyncIterable<E.Either<StoreError, LogRecord>> => ({
  async *[Symbol.asyncIterator]() {
    if (ctx.isClosed()) {
      yield E.left(storeClosed(ctx.io.path));
      return;
    }
    const sid = checkSid(sessionId);
    if (E.isLeft(sid)) {
      yield sid;
      return;
    }
    const r = await checkRange(ctx, sid.right, range);
    if (E.isLeft(r)) {
      yield r;
      return;
    }
    yield* scanRecords(ctx, sid.right, r.right.from, r.right.to, true);
  },
});
