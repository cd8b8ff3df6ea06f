/**
 * `SessionStore`: durable sessions in LevelDB or PostgreSQL (README §4; layout,
 * write and read paths in `layout.ts`; the storage port in `io.ts`).
 *
 * `SessionStore.open(target, options)` returns a plain object of functions
 * closing over one open backend (`Io`). Every function returns `Promise<Either<StoreError, A>>`
 * (`logStream` yields `Either`s); no LevelDB exception escapes. All state is per
 * instance: the LRU of latest sessions, the per-session writer lock (one keyed
 * mutex, `keyedMutex.ts`, that every write takes, the engine's included:
 * `update`).
 *
 * ## Lazy loads
 *
 * A session loaded from a snapshot holds its messages, digest checkpoints and
 * revisions as lazy chunk sources (`snapshot.ts`, "Lazy lists"): on LevelDB they
 * are read with `db.getSync` when something first needs them, so a cold
 * load and the appends after it cost the same at 1,000 and 100,000 messages
 * (PostgreSQL has no synchronous read: its `chunkReader` reads the chains the
 * snapshot names in one query at load time and serves them from memory). A
 * chunk that is missing or does not hash to its id fails closed *when it is
 * read*, by throwing `LazyReadFailure` (a tagged `Error` carrying
 * `CorruptRecord { sessionId, seq of the snapshot }`; `StoreClosed` once this
 * store is closed; `StoreIoError`). Every function of this store catches it and
 * returns `Left(error)` (`guard`), writing nothing. Outside the store it can
 * surface from the `Session` methods that read old messages of a loaded session
 * (or of a fork sharing them): `messages`, `transcriptRevisionMessages`,
 * `forkAt`/`forkReplacing` below the tail, `commitTranscriptRewrite`, system
 * prompt and system context commands (they read message 0), notice
 * replacement, `first_turn_deferred`, `verify()` across a rewrite, and any
 * caller of `transcriptMessages` (pi export). Appends, `fork()`, `seq`,
 * `transcriptRevision()` and `messageCount` never read a chunk. `verify`
 * replays the log and never trusts a lazy state: a fork parent it needs is read
 * in full first (`materializeState`), a failure being reported as data.
 */
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../model/decode.ts';
import type { Json } from '../model/json.ts';
import { BlobMediaTypeCodec } from '../model/content.ts';
import type { Message } from '../model/message.ts';
import { isDigest, type BlobId, type Digest } from '../model/scalars.ts';
import { Session, type Applied, type Clock } from '../session/session.ts';
import * as commands from '../session/builders.ts';
import type { ResultsOf } from '../session/results.ts';
import type { SessionError } from '../session/errors.ts';
import type { LogRecord } from '../session/record.ts';
import { reduce } from '../session/replay.ts';
import { blankState, type SessionState } from '../session/state.ts';
import type { ForkMode } from '../session/commands.ts';
import { vecToArray, type TranscriptReplacement, type TranscriptRewriteCommit } from '../transcript/index.ts';
import { isLazyReadFailure, sha256OfBytes } from './chunks.ts';
import {
  blobNotFound,
  corruptBlob,
  corruptRecord,
  fromLevelError,
  invalidArgument,
  invalidSessionId,
  revisionNotFound,
  seqConflict,
  seqOutOfRange,
  sessionExists,
  sessionNotFound,
  storeClosed,
  type StoreError,
} from './errors.ts';
import { decodeForkLink, decodeHeader, decodeStoredRecord, headerOf, seqOfKey, type HeaderFork, type Io, type PutOp, type SessionHeader } from './io.ts';
import { openIo, type StoreTarget } from './open.ts';
import { MAX_SEQ, keys, prefixRange, sessionIdProblem } from './layout.ts';
import { decodeSnapshot, snapshotChunkRoots, emptyMemos, encodeSnapshot, forkMemos, materializeState, type SnapshotMemos } from './snapshot.ts';
import { verifyStore, type SessionVerifyReport, type VerifyProgress } from './verify.ts';
import { keyedMutex } from './keyedMutex.ts';
import { anchorOf, checkAnchors, type Anchor, type AnchorHead, type AnchorProblem } from './anchors.ts';
import { checkForkAgainstGenesis, checkHeaderAgainstLog, checkHeaderAgainstState, checkRecordLink, checkSnapshotAgainstRecord } from './readChecks.ts';

export { isPostgresUrl, type PostgresTarget, type StoreTarget } from './open.ts';

/** Options of `SessionStore.open`. */
export interface SessionStoreOptions {
  /** Write a snapshot each time an append crosses a multiple of this many records. Default 1000. */
  readonly snapshotEvery?: number;
  /** Time source stamped into records (ms since epoch). Default `Date.now`. */
  readonly clock?: Clock;
  /** How many sessions keep their latest `Session` in memory (LRU). Default 64; 0 disables the cache. */
  readonly cacheSize?: number;
  /** fsync every batch (survives power loss, slower). Default false: a killed process still loses nothing acknowledged. */
  readonly sync?: boolean;
  /**
   * Called after every committed batch with the session's new head (its newest
   * record's seq and hash), so an application can ship head anchors
   * continuously (`anchors.ts`). Called synchronously; an exception it throws is
   * ignored (the batch is already durable).
   */
  readonly onCommit?: (head: AnchorHead) => void;
  /**
   * Create the store when there is none (default true). With `false`, a
   * directory without a LevelDB database, or a PostgreSQL schema without the
   * store's tables, is `StoreIoError` and nothing is created (read-only tools).
   */
  readonly create?: boolean;
}

/** Options of `create`. */
export interface StoreCreateOptions {
  /** Session id (validated: non-empty, printable, no `/`); default a random UUID. */
  readonly id?: string;
  /** Initial user metadata; a reserved key is `ReservedMetadataKey`. */
  readonly metadata?: Readonly<Record<string, Json>>;
}

/** Options of the fork functions. */
export interface StoreForkOptions {
  /** Child id; default a random UUID. */
  readonly id?: string;
  /** Fork from the parent's state after this record (default: its newest). */
  readonly atSeq?: number;
}

/**
 * What `append` returns: the records written (empty when every command was
 * inert), the new session, one result per command (typed by `ResultsOf` when
 * the commands are typed).
 */
export interface AppendResult<R extends readonly unknown[] = readonly unknown[]> {
  readonly records: readonly LogRecord[];
  /** The session after the call; its `log` holds the records of this call only. */
  readonly session: Session;
  readonly results: R;
}

/** What `update` returns: the records written (empty when the plan changed nothing), the new session, the plan's result. */
export interface UpdateResult<A> {
  readonly records: readonly LogRecord[];
  /** The session after the call; its `log` holds the records of this call only. */
  readonly session: Session;
  readonly result: A;
}

/**
 * A read-modify-write step of `update`: given the session's latest `Session`,
 * the session derived from it through its methods (`apply`, `push`, …; each
 * command reduced once, there) with a result, or a `Left` (nothing is written).
 */
export type UpdatePlan<A, Err> = (session: Session) => E.Either<Err, Applied<A>>;

/** One row of `list()`: a session's header. Times in ms since epoch. */
export interface SessionSummary {
  readonly sessionId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastSeq: number;
  /** Transcript head revision after the last record. */
  readonly revision: Digest;
  /** Transcript length (messages). */
  readonly messages: number;
  readonly status: 'active' | 'archived';
  /** Set for a fork: where it was taken. */
  readonly parent?: HeaderFork;
}

/** A head change: the head became `revision` at record `seq` (by a command of `commandType`). */
export interface RevisionEntry {
  readonly revision: Digest;
  readonly seq: number;
  readonly commandType: string;
}

/** The revision graph of one session (`revisions()`). */
export interface RevisionGraph {
  readonly sessionId: string;
  /** The current head revision. */
  readonly head: Digest;
  /** Each distinct revision the session had as head, with the first seq that produced it, in seq order. */
  readonly revisions: ReadonlyArray<{ readonly revision: Digest; readonly seq: number }>;
  /** Every head change in seq order (a restore to an earlier revision appears twice). */
  readonly heads: readonly RevisionEntry[];
  /** The rewrite commits, each with the seq of the record that committed it. */
  readonly commits: ReadonlyArray<{ readonly seq: number; readonly commit: TranscriptRewriteCommit }>;
  /** Where a fork came from (its revision graph links into the parent's at `forkedFrom.seq`). */
  readonly forkedFrom?: HeaderFork;
}

/** One step of `lineage()`: a session and how it was made (`root` for a session created from scratch). */
export interface LineageEntry {
  readonly sessionId: string;
  readonly mode: ForkMode | 'root';
  /** The parent record this session was forked from. */
  readonly forkedAt?: { readonly sessionId: string; readonly seq: number; readonly hash: Digest };
}

/** A fork child of a session (`children()`). */
export interface ChildLink {
  readonly sessionId: string;
  readonly seq: number;
  readonly hash: Digest;
  readonly mode: ForkMode;
}

/** A blob read back: canonical media type and bytes. */
export interface StoredBlob {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** Options of `verify`. */
export interface StoreVerifyOptions {
  /** Called after each session and every 1000 records. */
  readonly onProgress?: (p: VerifyProgress) => void;
}

/** An open store. Every function returns `Either`; see `StoreError` for the failures. */
export interface SessionStore {
  /** Where the store lives: its directory (absolute) for LevelDB, `postgres://user@host:port/db#schema` (never the password) for PostgreSQL. */
  readonly path: string;
  /** Creates a session (one genesis record). Errors: `InvalidSessionId`, `SessionExists`, `ReservedMetadataKey`, `InvalidCommand`. */
  create(opts?: StoreCreateOptions): Promise<E.Either<StoreError, Session>>;
  /**
   * Applies `commands` in order and writes every record in one batch, only if the
   * session's last seq is `expectedSeq` (else `SeqConflict`, nothing written). A
   * refused command (`SessionError`) writes nothing; inert commands record nothing.
   * Each command is applied once (`Session.applyAll`). Typed commands
   * (`commands.*` builders) have typed results (`ResultsOf`); values of unknown
   * shape are decoded and their results are `unknown`.
   */
  append<const Cs extends readonly unknown[]>(sessionId: string, commands: Cs, opts: { readonly expectedSeq: number }): Promise<E.Either<StoreError, AppendResult<ResultsOf<Cs>>>>;
  /**
   * Read-modify-write under the session's writer lock: `plan` gets the latest
   * session; the records of the session it returns are written in one batch,
   * as they are (no command is reduced twice). With `expectedSeq`, a session
   * whose last seq differs is `SeqConflict` and the plan does not run. A `Left`
   * of the plan is returned as is; a session that does not derive from the one
   * given is `InvalidArgument`; a lazy-read failure while planning is its `Left`.
   */
  update<A, Err = never>(sessionId: string, plan: UpdatePlan<A, Err>, opts?: { readonly expectedSeq?: number }): Promise<E.Either<StoreError | Err, UpdateResult<A>>>;
  /**
   * The session at its newest record, after record `atSeq`, or when `atRevision`
   * first became its head. The returned `Session`'s `log` holds only the records
   * after its snapshot (use `log()` for the durable log).
   * Errors: `SessionNotFound`, `SeqOutOfRange`, `RevisionNotFound`, `CorruptRecord`, `UnsupportedVersion`.
   */
  load(sessionId: string, opts?: { readonly atSeq?: number; readonly atRevision?: Digest }): Promise<E.Either<StoreError, Session>>;
  /** A child with all messages of the parent (at `atSeq`); writes one genesis record. */
  fork(sessionId: string, opts?: StoreForkOptions): Promise<E.Either<StoreError, Session>>;
  /** A child with the first `min(index, length)` messages. */
  forkAt(sessionId: string, index: number, opts?: StoreForkOptions): Promise<E.Either<StoreError, Session>>;
  /** A child with the first `index` messages, then the edited message (revisions.md §6). */
  forkReplacing(sessionId: string, index: number, replacement: TranscriptReplacement, opts?: StoreForkOptions): Promise<E.Either<StoreError, Session>>;
  /** Every session's header, in id order. */
  list(): Promise<E.Either<StoreError, SessionSummary[]>>;
  /** Records `fromSeq..toSeq` (inclusive; default the whole log). */
  log(sessionId: string, range?: { readonly fromSeq?: number; readonly toSeq?: number }): Promise<E.Either<StoreError, LogRecord[]>>;
  /** Like `log`, streamed: yields `Right(record)` in order, or one `Left` and stops. */
  logStream(sessionId: string, range?: { readonly fromSeq?: number; readonly toSeq?: number }): AsyncIterable<E.Either<StoreError, LogRecord>>;
  /** The revision graph of one session. */
  revisions(sessionId: string): Promise<E.Either<StoreError, RevisionGraph>>;
  /** This session, then its parent, … up to the root. */
  lineage(sessionId: string): Promise<E.Either<StoreError, LineageEntry[]>>;
  /** The direct fork children of a session, in id order. */
  children(sessionId: string): Promise<E.Either<StoreError, ChildLink[]>>;
  /**
   * Verifies one session or all (parents before children): one report per
   * session. A problem found is data (`ok: false`); only I/O failures are `Left`.
   */
  verify(sessionId?: string, opts?: StoreVerifyOptions): Promise<E.Either<StoreError, SessionVerifyReport[]>>;
  /** Archives a session (inert with `already_archived` when it is archived). */
  archive(sessionId: string, reason?: string): Promise<E.Either<StoreError, { readonly session: Session; readonly result: 'archived' | 'already_archived' }>>;
  /** The messages of a revision the session had as head (`RevisionNotFound` otherwise). */
  revisionMessages(sessionId: string, revision: Digest): Promise<E.Either<StoreError, Message[]>>;
  /** Stores a blob under `blobId(mediaType, bytes)` (model.md §7.2); idempotent. */
  putBlob(mediaType: string, bytes: Uint8Array): Promise<E.Either<StoreError, BlobId>>;
  /** Reads a blob and checks it hashes to its id (`BlobNotFound`, `CorruptBlob`). */
  getBlob(blobId: BlobId): Promise<E.Either<StoreError, StoredBlob>>;
  /**
   * Every session's head `{ sessionId, seq, hash }` and a digest over the set
   * (`anchors.ts`): keep `anchorLine(anchor)` outside the store. Each header is
   * checked against its log first (`CorruptRecord`).
   */
  anchor(): Promise<E.Either<StoreError, Anchor>>;
  /**
   * Whether the store still holds every anchored record with its anchored hash:
   * the problems found (empty when none), naming session and seq. A dropped tail,
   * a truncation or a rollback shows here even when `verify` finds the log
   * self-consistent.
   */
  verifyAnchors(anchors: readonly Anchor[]): Promise<E.Either<StoreError, AnchorProblem[]>>;
  /** Waits for pending writes and closes the database; later calls give `StoreClosed`. */
  close(): Promise<E.Either<StoreError, void>>;
}

/** The latest state of a session kept in memory. `session` has an empty log (rebased). */
interface Entry {
  readonly session: Session;
  readonly memos: SnapshotMemos;
  /** The newest snapshot seq at or below the session's seq. */
  readonly snapshot: number | undefined;
}

/** A session read from disk at some seq. */
interface Loaded extends Entry {
  readonly header: SessionHeader;
}

const DEFAULT_SNAPSHOT_EVERY = 1000;
const DEFAULT_CACHE_SIZE = 64;

const isTagged = (e: unknown): e is SessionError => typeof e === 'object' && e !== null && typeof (e as { _tag?: unknown })._tag === 'string';

const describe = (e: { readonly _tag: string; readonly message: string }): string => `${e._tag}: ${e.message}`;

/**
 * Opens (or creates) a store: in directory `target` (LevelDB), or in a
 * PostgreSQL database (`postgres://…` or `{ postgres: { connectionString,
 * schema } }`; `pg` is imported only then). Errors: `StoreLocked` (LevelDB:
 * another process holds it), `StoreIoError` (not a directory, a non-empty
 * directory without a LevelDB database, a LevelDB database that is not a
 * palimpsest store, a server that cannot be reached, I/O),
 * `UnsupportedVersion { what: 'store' }` (a newer store format or schema
 * version), `InvalidArgument` (bad options, a bad schema name).
 */
const open = async (target: StoreTarget, options: SessionStoreOptions = {}): Promise<E.Either<StoreError, SessionStore>> => {
  const snapshotEvery = options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1) return E.left(invalidArgument('snapshotEvery', 'expected a positive integer'));
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) return E.left(invalidArgument('cacheSize', 'expected a non-negative integer'));
  const clock = options.clock ?? Date.now;
  const io = await openIo(target, options.sync ?? false, options.create ?? true);
  if (E.isLeft(io)) return io;
  return E.right(makeStore(io.right, { snapshotEvery, cacheSize, clock, ...(options.onCommit !== undefined ? { onCommit: options.onCommit } : {}) }));
};

const makeStore = (
  io: Io,
  cfg: { readonly snapshotEvery: number; readonly cacheSize: number; readonly clock: Clock; readonly onCommit?: (head: AnchorHead) => void },
): SessionStore => {
  const { snapshotEvery, cacheSize, clock, onCommit } = cfg;
  const path = io.path;
  let closed = false;

  // ---- the per-session writer lock and the LRU of latest sessions -------------

  const writers = keyedMutex();
  const withLock = writers.run;

  const cache = new Map<string, Entry>();
  const cacheGet = (sid: string): Entry | undefined => {
    const e = cache.get(sid);
    if (e !== undefined) {
      cache.delete(sid);
      cache.set(sid, e);
    }
    return e;
  };
  const cacheSet = (sid: string, e: Entry): void => {
    if (cacheSize === 0) return;
    cache.delete(sid);
    cache.set(sid, e);
    while (cache.size > cacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  };
  const rebase = (s: Session): Session => {
    const r = Session.fromState(s.state, [], { clock });
    if (E.isLeft(r)) throw new Error(`rebasing ${s.id} failed: ${r.left.message}`);
    return r.right;
  };

  // ---- guards -----------------------------------------------------------------

  const guard = async <A, Err = never>(f: () => Promise<E.Either<StoreError | Err, A>>): Promise<E.Either<StoreError | Err, A>> => {
    if (closed) return E.left(storeClosed(path));
    try {
      return await f();
    } catch (e) {
      // A lazily loaded list that could not be read (a corrupt or missing chunk, the store closed meanwhile).
      if (isLazyReadFailure(e)) return E.left(e.error);
      const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
      if (typeof code === 'string' && code.startsWith('LEVEL_')) return E.left(fromLevelError(path, e));
      throw e;
    }
  };
  const checkSid = (sid: unknown): E.Either<StoreError, string> => {
    const p = sessionIdProblem(sid);
    return p === undefined ? E.right(sid as string) : E.left(invalidSessionId(sid, p));
  };
  const checkSeqArg = (name: string, seq: unknown): E.Either<StoreError, number> =>
    typeof seq === 'number' && Number.isSafeInteger(seq) ? E.right(seq) : E.left(invalidArgument(name, 'expected an integer'));

  const requireHeader = async (sid: string): Promise<E.Either<StoreError, SessionHeader>> => {
    const h = await io.header(sid);
    if (E.isLeft(h)) return h;
    return h.right === undefined ? E.left(sessionNotFound(sid)) : E.right(h.right);
  };

  // ---- reading ------------------------------------------------------------------

  /**
   * Records `from..to` of `sid` (inclusive), decoded; a gap is `CorruptRecord`.
   * With `checkLinks`, each record must also hash to its `hash` and link to the
   * one before (`checkRecordLink`); replay checks those itself.
   */
  const readRecords = async (sid: string, from: number, to: number, checkLinks = false): Promise<E.Either<StoreError, LogRecord[]>> => {
    const out: LogRecord[] = [];
    if (to < from) return E.right(out);
    let expected = from;
    for await (const batch of io.scan({ gte: keys.record(sid, from), lte: keys.record(sid, to) })) {
      if (E.isLeft(batch)) return batch;
      for (const [k, v] of batch.right) {
        const seq = seqOfKey(k);
        if (seq !== expected) return E.left(corruptRecord(sid, expected, `record ${expected} is missing (found key ${k})`));
        const r = decodeStoredRecord(sid, seq, v);
        if (E.isLeft(r)) return r;
        if (checkLinks) {
          const c = checkRecordLink(sid, r.right, out[out.length - 1]);
          if (E.isLeft(c)) return c;
        }
        out.push(r.right);
        expected++;
      }
    }
    if (expected !== to + 1) return E.left(corruptRecord(sid, expected, `record ${expected} is missing`));
    return E.right(out);
  };

  /** The seq of the record whose failure `e` reports: its `seq` field, else found by stepping. */
  const failingSeq = (e: SessionError, base: SessionState | undefined, records: readonly LogRecord[], parent: SessionState | undefined): number => {
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

  /**
   * The session `sid` after record `target` (default: its newest), from the newest
   * snapshot at or below `target` plus the records after it; a session without one
   * replays from genesis (a fork first loads its parent at `from.seq`).
   */
  const loadSession = async (sid: string, target: number | undefined, visiting: ReadonlySet<string> = new Set()): Promise<E.Either<StoreError, Loaded>> => {
    const h = await requireHeader(sid);
    if (E.isLeft(h)) return h;
    const header = h.right;
    const seq = target ?? header.lastSeq;
    if (seq < 1 || seq > header.lastSeq) return E.left(seqOutOfRange(sid, seq, header.lastSeq));
    const checkedHeader = await checkHeaderAgainstLog(io, sid, header);
    if (E.isLeft(checkedHeader)) return checkedHeader;
    /** At the head, the header must also say what the loaded state says. */
    const done = (l: Loaded): E.Either<StoreError, Loaded> => {
      if (seq !== header.lastSeq) return E.right(l);
      const c = checkHeaderAgainstState(sid, header, l.session.state);
      return E.isLeft(c) ? c : E.right(l);
    };
    let snapSeq: number | undefined = header.snapshot;
    if (snapSeq !== undefined && snapSeq > seq) {
      const k = await io.lastKey({ gte: keys.snapshot(sid, 1), lte: keys.snapshot(sid, seq) });
      if (E.isLeft(k)) return k;
      snapSeq = k.right === undefined ? undefined : seqOfKey(k.right);
    }
    const snapshot = snapSeq;

    if (snapSeq !== undefined) {
      const raw = await io.get(keys.snapshot(sid, snapSeq));
      if (E.isLeft(raw)) return raw;
      if (raw.right === undefined) return E.left(corruptRecord(sid, snapSeq, 'the header names a snapshot that is missing'));
      const reader = await io.chunkReader(snapshotChunkRoots(raw.right));
      if (E.isLeft(reader)) return reader;
      const snap = await decodeSnapshot(raw.right, sid, snapSeq, (id) => io.get(keys.chunk(id)), reader.right);
      if (E.isLeft(snap)) return snap;
      const records = await readRecords(sid, snapSeq, seq);
      if (E.isLeft(records)) return records;
      const [at, ...tail] = records.right;
      const state = snap.right.state;
      const checked = checkSnapshotAgainstRecord(sid, snapSeq, state, at);
      if (E.isLeft(checked)) return checked;
      const r = Session.fromState(state, tail, { clock });
      if (E.isLeft(r)) return E.left(corruptRecord(sid, failingSeq(r.left, state, tail, undefined), describe(r.left)));
      return done({ session: r.right, memos: snap.right.memos, snapshot, header });
    }

    const records = await readRecords(sid, 1, seq);
    if (E.isLeft(records)) return records;
    const genesis = records.right[0];
    if (genesis === undefined) return E.left(corruptRecord(sid, 1, 'the session has no records'));
    let parent: Loaded | undefined;
    if (genesis.command.type === 'session_forked') {
      const from = genesis.command.from;
      if (visiting.has(from.sessionId) || from.sessionId === sid) return E.left(corruptRecord(sid, 1, `fork lineage loops through ${from.sessionId}`));
      const p = await loadSession(from.sessionId, from.seq, new Set([...visiting, sid]));
      if (E.isLeft(p)) {
        const e = p.left;
        if (e._tag === 'SessionNotFound' || e._tag === 'SeqOutOfRange') return E.left(corruptRecord(sid, 1, `fork parent ${from.sessionId}@${from.seq}: ${e.message}`));
        return p;
      }
      parent = p.right;
    }
    const r = Session.replay(records.right, { clock, ...(parent !== undefined ? { parent: parent.session.state } : {}) });
    if (E.isLeft(r)) return E.left(corruptRecord(sid, failingSeq(r.left, undefined, records.right, parent?.session.state), describe(r.left)));
    return done({ session: r.right, memos: parent !== undefined ? forkMemos(parent.memos) : emptyMemos, snapshot, header });
  };

  /**
   * The cached latest entry of `sid`, if any and still the head. On a shared
   * backend (PostgreSQL) another process may have appended: the header is read
   * and an entry whose seq or hash differs from it is dropped (one point read).
   */
  const freshCached = async (sid: string): Promise<E.Either<StoreError, Entry | undefined>> => {
    const cached = cacheGet(sid);
    if (cached === undefined || !io.shared) return E.right(cached);
    const h = await io.header(sid);
    if (E.isLeft(h)) return h;
    if (h.right !== undefined && h.right.lastSeq === cached.session.seq && h.right.lastHash === cached.session.head) return E.right(cached);
    cache.delete(sid);
    return E.right(undefined);
  };

  /** The newest state of `sid`: the cached entry, or loaded and cached. Call inside `withLock(sid)`. */
  const latestEntry = async (sid: string): Promise<E.Either<StoreError, Entry>> => {
    const cached = await freshCached(sid);
    if (E.isLeft(cached)) return cached;
    if (cached.right !== undefined) return E.right(cached.right);
    const l = await loadSession(sid, undefined);
    if (E.isLeft(l)) return l;
    const entry: Entry = { session: rebase(l.right.session), memos: l.right.memos, snapshot: l.right.snapshot };
    cacheSet(sid, entry);
    return E.right(entry);
  };

  /** The first seq at which `revision` became the head of `sid`. */
  const firstSeqOf = async (sid: string, revision: Digest): Promise<E.Either<StoreError, number>> => {
    const ks = await io.keys(prefixRange(keys.revisionPrefix(sid, revision)));
    if (E.isLeft(ks)) return ks;
    let first: number | undefined;
    for (const k of ks.right) {
      const s = seqOfKey(k);
      if (s !== undefined && (first === undefined || s < first)) first = s;
    }
    return first === undefined ? E.left(revisionNotFound(sid, revision)) : E.right(first);
  };

  // ---- writing ------------------------------------------------------------------

  /**
   * Writes `records` (the records `after` added on top of `base`) in one batch:
   * records, revision-index keys, a snapshot with its new chunks when the batch
   * crosses a multiple of `snapshotEvery` (never with a genesis), the header, and
   * `extra`. Then caches `after`.
   */
  const commit = async (
    sid: string,
    base: { readonly seq: number; readonly revision: Digest | undefined; readonly memos: SnapshotMemos; readonly snapshot: number | undefined },
    after: Session,
    records: readonly LogRecord[],
    extra: readonly PutOp[] = [],
  ): Promise<E.Either<StoreError, void>> => {
    if (after.seq > MAX_SEQ) return E.left(invalidArgument('commands', `a session holds at most ${MAX_SEQ} records`));
    const ops: PutOp[] = [];
    let prevRevision = base.revision;
    for (const r of records) {
      ops.push({ key: keys.record(sid, r.seq), value: JSON.stringify(r) });
      if (r.revision !== prevRevision) ops.push({ key: keys.revision(sid, r.revision, r.seq), value: r.command.type });
      prevRevision = r.revision;
    }
    let memos = base.memos;
    let snapshot = base.snapshot;
    if (base.seq >= 1 && Math.floor(base.seq / snapshotEvery) < Math.floor(after.seq / snapshotEvery)) {
      const enc = encodeSnapshot(after.state, memos);
      for (const c of enc.chunks) ops.push({ key: keys.chunk(c.id), value: c.value });
      ops.push({ key: keys.snapshot(sid, after.seq), value: enc.value });
      memos = enc.memos;
      snapshot = after.seq;
    }
    ops.push({ key: keys.header(sid), value: JSON.stringify(headerOf(after.state, snapshot)) });
    for (const op of extra) ops.push(op);
    const w = await io.batch(ops);
    if (E.isLeft(w)) {
      // Another process may have written (SeqConflict on a shared backend): the next call reloads.
      cache.delete(sid);
      return w;
    }
    cacheSet(sid, { session: rebase(after), memos, snapshot });
    if (onCommit !== undefined) {
      try {
        onCommit({ sessionId: sid, seq: after.seq, hash: after.head });
      } catch {
        // The batch is durable; the application's shipping failure is its own.
      }
    }
    return E.right(undefined);
  };

  /** Runs `plan` on the cached latest `entry` and commits the records of the session it returns, as they are (inside the lock). */
  const planAndCommit = async <A, Err>(sid: string, entry: Entry, plan: UpdatePlan<A, Err>): Promise<E.Either<StoreError | Err, UpdateResult<A>>> => {
    const base = entry.session;
    const planned = plan(base); // a lazy-read failure it throws is turned into its Left by `guard`
    if (E.isLeft(planned)) return planned;
    const { session, result } = planned.right;
    const records = session.recordsSince(base);
    if (records === undefined) return E.left(invalidArgument('plan', `the session returned does not derive from the latest session ${sid}`));
    if (records.length === 0) return E.right({ records, session: base, result });
    const w = await commit(sid, { seq: base.seq, revision: base.transcriptRevision(), memos: entry.memos, snapshot: entry.snapshot }, session, records);
    if (E.isLeft(w)) return w;
    return E.right({ records, session, result });
  };

  /** Inside `guard`, with checked arguments: take the lock, check `expectedSeq`, plan and commit. */
  const updateLocked = <A, Err>(sid: string, plan: UpdatePlan<A, Err>, expectedSeq: number | undefined): Promise<E.Either<StoreError | Err, UpdateResult<A>>> =>
    withLock(sid, async () => {
      const entry = await latestEntry(sid);
      if (E.isLeft(entry)) return entry;
      if (expectedSeq !== undefined && entry.right.session.seq !== expectedSeq) return E.left(seqConflict(sid, expectedSeq, entry.right.session.seq));
      return planAndCommit(sid, entry.right, plan);
    });

  const expectedSeqProblem = (v: unknown): StoreError | undefined =>
    typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 ? invalidArgument('expectedSeq', 'expected a non-negative integer') : undefined;

  /** `update`: check the arguments, then `updateLocked`. */
  const updateSession = <A, Err>(sessionId: string, plan: UpdatePlan<A, Err>, expectedSeq: number | undefined): Promise<E.Either<StoreError | Err, UpdateResult<A>>> =>
    guard<UpdateResult<A>, Err>(async () => {
      const sid = checkSid(sessionId);
      if (E.isLeft(sid)) return sid;
      const bad = expectedSeq === undefined ? undefined : expectedSeqProblem(expectedSeq);
      if (bad !== undefined) return E.left(bad);
      if (typeof plan !== 'function') return E.left(invalidArgument('plan', 'expected a function'));
      return updateLocked(sid.right, plan, expectedSeq);
    });

  /** `append`: every command applied once, in order, to the latest session (`Session.applyAll`), then committed. */
  const appendCommands = <const Cs extends readonly unknown[]>(sessionId: string, list: Cs, opts: { readonly expectedSeq: number }): Promise<E.Either<StoreError, AppendResult<ResultsOf<Cs>>>> =>
    guard(async () => {
      const sid = checkSid(sessionId);
      if (E.isLeft(sid)) return sid;
      if (!Array.isArray(list)) return E.left(invalidArgument('commands', 'expected an array of commands'));
      const expected = opts?.expectedSeq;
      const bad = expectedSeqProblem(expected);
      if (bad !== undefined) return E.left(bad);
      const r = await updateLocked(sid.right, (s) => s.applyAll(list), expected);
      return E.isLeft(r) ? r : E.right({ records: r.right.records, session: r.right.session, results: r.right.result });
    });

  /** Whether `sid` exists (cache or header). */
  const exists = async (sid: string): Promise<E.Either<StoreError, boolean>> => {
    if (cache.has(sid)) return E.right(true);
    const h = await io.get(keys.header(sid));
    return E.isLeft(h) ? h : E.right(h.right !== undefined);
  };

  const forkWith = (
    sessionId: string,
    opts: StoreForkOptions,
    build: (parent: Session, o: { id: string; clock: Clock }) => E.Either<SessionError, Session>,
  ): Promise<E.Either<StoreError, Session>> =>
    guard(async () => {
      const sid = checkSid(sessionId);
      if (E.isLeft(sid)) return sid;
      const childId = opts.id ?? randomUUID();
      const cid = checkSid(childId);
      if (E.isLeft(cid)) return cid;
      let parent: Entry;
      if (opts.atSeq === undefined) {
        const p = await withLock(sid.right, () => latestEntry(sid.right));
        if (E.isLeft(p)) return p;
        parent = p.right;
      } else {
        const at = checkSeqArg('atSeq', opts.atSeq);
        if (E.isLeft(at)) return at;
        const p = await loadSession(sid.right, at.right);
        if (E.isLeft(p)) return p;
        parent = p.right;
      }
      return withLock(cid.right, async () => {
        const ex = await exists(cid.right);
        if (E.isLeft(ex)) return ex;
        if (ex.right) return E.left(sessionExists(cid.right));
        let child: E.Either<SessionError, Session>;
        try {
          child = build(parent.session, { id: cid.right, clock });
        } catch (e) {
          if (isLazyReadFailure(e)) return E.left(e.error); // forkAt into a lazily loaded prefix whose chunk is corrupt
          if (isTagged(e)) return E.left(e);
          throw e;
        }
        if (E.isLeft(child)) return child;
        const c = child.right;
        const genesis = c.log[0];
        if (genesis === undefined || genesis.command.type !== 'session_forked') throw new Error('fork produced no genesis record');
        const from = genesis.command.from;
        const link: PutOp = { key: keys.fork(sid.right, cid.right), value: JSON.stringify({ seq: from.seq, hash: from.hash, mode: genesis.command.mode }) };
        const w = await commit(cid.right, { seq: 0, revision: undefined, memos: forkMemos(parent.memos), snapshot: undefined }, c, c.log, [link]);
        if (E.isLeft(w)) return w;
        return E.right(c);
      });
    });

  const checkRange = async (
    sid: string,
    range: { readonly fromSeq?: number; readonly toSeq?: number },
  ): Promise<E.Either<StoreError, { from: number; to: number }>> => {
    const h = await requireHeader(sid);
    if (E.isLeft(h)) return h;
    const checked = await checkHeaderAgainstLog(io, sid, h.right);
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

  // ---- the public API -----------------------------------------------------------

  const store: SessionStore = {
    path,

    create: (opts = {}) =>
      guard(async () => {
        const sid = checkSid(opts.id ?? randomUUID());
        if (E.isLeft(sid)) return sid;
        const id = sid.right;
        return withLock(id, async () => {
          const ex = await exists(id);
          if (E.isLeft(ex)) return ex;
          if (ex.right) return E.left(sessionExists(id));
          let session: Session;
          try {
            session = Session.create({ id, clock, ...(opts.metadata !== undefined ? { metadata: opts.metadata } : {}) });
          } catch (e) {
            if (isTagged(e)) return E.left(e);
            throw e;
          }
          const w = await commit(id, { seq: 0, revision: undefined, memos: emptyMemos, snapshot: undefined }, session, session.log);
          return E.isLeft(w) ? w : E.right(session);
        });
      }),

    append: appendCommands,

    update: (sessionId, plan, opts = {}) => updateSession(sessionId, plan, opts.expectedSeq),

    load: (sessionId, opts = {}) =>
      guard(async () => {
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) return sid;
        if (opts.atSeq !== undefined && opts.atRevision !== undefined) return E.left(invalidArgument('load options', 'give atSeq or atRevision, not both'));
        let target: number | undefined;
        if (opts.atSeq !== undefined) {
          const s = checkSeqArg('atSeq', opts.atSeq);
          if (E.isLeft(s)) return s;
          target = s.right;
        }
        if (opts.atRevision !== undefined) {
          if (!isDigest(opts.atRevision)) return E.left(invalidArgument('atRevision', 'expected sha256:<64 lowercase hex>'));
          const h = await requireHeader(sid.right);
          if (E.isLeft(h)) return h;
          const s = await firstSeqOf(sid.right, opts.atRevision);
          if (E.isLeft(s)) return s;
          target = s.right;
        }
        const cached = await freshCached(sid.right);
        if (E.isLeft(cached)) return cached;
        if (cached.right !== undefined && (target === undefined || target === cached.right.session.seq)) return E.right(cached.right.session);
        const l = await loadSession(sid.right, target);
        if (E.isLeft(l)) return l;
        if (opts.atRevision !== undefined) {
          const c = checkRevisionIndex(sid.right, opts.atRevision, l.right.session);
          if (E.isLeft(c)) return c;
        }
        return E.right(l.right.session);
      }),

    fork: (sessionId, opts = {}) => forkWith(sessionId, opts, (p, o) => E.right(p.fork(o))),
    forkAt: (sessionId, index, opts = {}) =>
      typeof index === 'number' && Number.isFinite(index)
        ? forkWith(sessionId, opts, (p, o) => E.right(p.forkAt(index, o)))
        : Promise.resolve(E.left(invalidArgument('index', 'expected a finite number'))),
    forkReplacing: (sessionId, index, replacement, opts = {}) => forkWith(sessionId, opts, (p, o) => p.forkReplacing(index, replacement, o)),

    list: () =>
      guard(async () => {
        const headers = await readHeaders(io);
        if (E.isLeft(headers)) return headers;
        const out: SessionSummary[] = [];
        for (const x of headers.right) {
          out.push({
            sessionId: x.sessionId,
            createdAt: x.createdAt,
            updatedAt: x.updatedAt,
            lastSeq: x.lastSeq,
            revision: x.revision,
            messages: x.messages,
            status: x.status,
            ...(x.forkedFrom !== undefined ? { parent: x.forkedFrom } : {}),
          });
        }
        return E.right(out);
      }),

    log: (sessionId, range = {}) =>
      guard(async () => {
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) return sid;
        const r = await checkRange(sid.right, range);
        if (E.isLeft(r)) return r;
        return readRecords(sid.right, r.right.from, r.right.to, true);
      }),

    logStream: (sessionId, range = {}) => ({
      async *[Symbol.asyncIterator]() {
        if (closed) {
          yield E.left(storeClosed(path));
          return;
        }
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) {
          yield sid;
          return;
        }
        const r = await checkRange(sid.right, range);
        if (E.isLeft(r)) {
          yield r;
          return;
        }
        let expected = r.right.from;
        let previous: LogRecord | undefined;
        for await (const batch of io.scan({ gte: keys.record(sid.right, r.right.from), lte: keys.record(sid.right, r.right.to) })) {
          if (E.isLeft(batch)) {
            yield batch;
            return;
          }
          for (const [k, v] of batch.right) {
            const seq = seqOfKey(k);
            if (seq !== expected) {
              yield E.left(corruptRecord(sid.right, expected, `record ${expected} is missing`));
              return;
            }
            const rec = decodeStoredRecord(sid.right, seq, v);
            if (E.isLeft(rec)) {
              yield rec;
              return;
            }
            const link = checkRecordLink(sid.right, rec.right, previous);
            if (E.isLeft(link)) {
              yield link;
              return;
            }
            yield rec;
            previous = rec.right;
            expected++;
          }
        }
        if (expected !== r.right.to + 1) yield E.left(corruptRecord(sid.right, expected, `record ${expected} is missing`));
      },
    }),

    revisions: (sessionId) =>
      guard(async () => {
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) return sid;
        const h = await requireHeader(sid.right);
        if (E.isLeft(h)) return h;
        const cached = cache.get(sid.right);
        let state: SessionState;
        if (cached !== undefined && cached.session.seq === h.right.lastSeq) state = cached.session.state;
        else {
          const l = await loadSession(sid.right, h.right.lastSeq);
          if (E.isLeft(l)) return l;
          state = l.right.session.state;
        }
        const heads: RevisionEntry[] = [];
        const prefix = keys.revisionPrefix(sid.right);
        for await (const batch of io.scan(prefixRange(prefix))) {
          if (E.isLeft(batch)) return batch;
          for (const [k, v] of batch.right) {
            const rest = k.slice(prefix.length);
            const slash = rest.lastIndexOf('/');
            const seq = seqOfKey(k);
            const revision = rest.slice(0, slash);
            if (seq === undefined || !isDigest(revision)) return E.left(corruptRecord(sid.right, 0, `bad revision-index key ${k}`));
            if (seq <= h.right.lastSeq) heads.push({ revision, seq, commandType: v });
          }
        }
        heads.sort((a, b) => a.seq - b.seq);
        const seen = new Set<string>();
        const revisions: Array<{ revision: Digest; seq: number }> = [];
        for (const x of heads) {
          if (seen.has(x.revision)) continue;
          seen.add(x.revision);
          revisions.push({ revision: x.revision, seq: x.seq });
        }
        const rewrites = heads.filter((x) => x.commandType === 'transcript_rewritten');
        const commits = vecToArray(state.commits);
        if (rewrites.length !== commits.length) {
          return E.left(corruptRecord(sid.right, 0, `the revision index has ${rewrites.length} rewrites, the session ${commits.length} commits`));
        }
        return E.right({
          sessionId: sid.right,
          head: h.right.revision,
          revisions,
          heads,
          commits: commits.map((commit, i) => ({ seq: rewrites[i]!.seq, commit })),
          ...(h.right.forkedFrom !== undefined ? { forkedFrom: h.right.forkedFrom } : {}),
        });
      }),

    lineage: (sessionId) =>
      guard(async () => {
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) return sid;
        const out: LineageEntry[] = [];
        const seen = new Set<string>();
        let cur: string | undefined = sid.right;
        while (cur !== undefined) {
          if (seen.has(cur)) return E.left(corruptRecord(cur, 0, 'fork lineage loops'));
          seen.add(cur);
          const h = await io.header(cur);
          if (E.isLeft(h)) return h;
          if (h.right === undefined) {
            if (out.length === 0) return E.left(sessionNotFound(cur));
            const child = out[out.length - 1]!;
            return E.left(corruptRecord(child.sessionId, 1, `fork parent ${cur} does not exist`));
          }
          const f = h.right.forkedFrom;
          const checked = await checkForkAgainstGenesis(io, cur, f, 'the header');
          if (E.isLeft(checked)) return checked;
          out.push(f === undefined ? { sessionId: cur, mode: 'root' } : { sessionId: cur, mode: f.mode, forkedAt: { sessionId: f.sessionId, seq: f.seq, hash: f.hash } });
          cur = f?.sessionId;
        }
        return E.right(out);
      }),

    children: (sessionId) =>
      guard(async () => {
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) return sid;
        const h = await requireHeader(sid.right);
        if (E.isLeft(h)) return h;
        const prefix = keys.forkPrefix(sid.right);
        const out: ChildLink[] = [];
        for await (const batch of io.scan(prefixRange(prefix))) {
          if (E.isLeft(batch)) return batch;
          for (const [k, v] of batch.right) {
            const l = decodeForkLink(sid.right, v);
            if (E.isLeft(l)) return l;
            const child = k.slice(prefix.length);
            const checked = await checkForkAgainstGenesis(io, child, { sessionId: sid.right, ...l.right }, `the fork link ${k}`);
            if (E.isLeft(checked)) return checked;
            out.push({ sessionId: child, ...l.right });
          }
        }
        return E.right(out);
      }),

    verify: (sessionId, opts = {}) =>
      guard(async () => {
        let ids: string[] | undefined;
        if (sessionId !== undefined) {
          const sid = checkSid(sessionId);
          if (E.isLeft(sid)) return sid;
          const h = await requireHeader(sid.right);
          if (E.isLeft(h)) {
            if (h.left._tag !== 'CorruptRecord' && h.left._tag !== 'UnsupportedVersion') return h;
          }
          ids = [sid.right];
        }
        return verifyStore(io, {
          ...(ids !== undefined ? { ids } : {}),
          ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
          exclusive: withLock,
          // verify never trusts lazy state: the parent's lists are read (and every chunk checked) before it is used.
          parentState: async (psid, seq) => {
            const l = await loadSession(psid, seq);
            return E.isLeft(l) ? l : materializeState(l.right.session.state);
          },
        });
      }),

    archive: (sessionId, reason) =>
      guard(async () => {
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) return sid;
        if (reason !== undefined && typeof reason !== 'string') return E.left(invalidArgument('reason', 'expected a string'));
        const r = await updateLocked(sid.right, (s) => s.apply(commands.sessionArchived(reason)), undefined);
        return E.isLeft(r) ? r : E.right({ session: r.right.session, result: r.right.result });
      }),

    revisionMessages: (sessionId, revision) =>
      guard(async () => {
        const sid = checkSid(sessionId);
        if (E.isLeft(sid)) return sid;
        if (!isDigest(revision)) return E.left(invalidArgument('revision', 'expected sha256:<64 lowercase hex>'));
        const h = await requireHeader(sid.right);
        if (E.isLeft(h)) return h;
        const seq = await firstSeqOf(sid.right, revision);
        if (E.isLeft(seq)) return seq;
        const cached = cache.get(sid.right);
        if (cached !== undefined && cached.session.seq === seq.right) return E.right([...cached.session.messages]);
        const l = await loadSession(sid.right, seq.right);
        if (E.isLeft(l)) return l;
        const c = checkRevisionIndex(sid.right, revision, l.right.session);
        if (E.isLeft(c)) return c;
        return E.right([...l.right.session.messages]);
      }),

    putBlob: (mediaType, bytes) =>
      guard(async () => {
        const mt = decodeWith(BlobMediaTypeCodec, mediaType);
        if (E.isLeft(mt)) return E.left(invalidArgument('mediaType', mt.left.message));
        if (!(bytes instanceof Uint8Array)) return E.left(invalidArgument('bytes', 'expected a Uint8Array'));
        const head = new TextEncoder().encode(mt.right);
        const value = new Uint8Array(head.length + 1 + bytes.length);
        value.set(head, 0);
        value[head.length] = 0;
        value.set(bytes, head.length + 1);
        const id = sha256OfBytes(value);
        const w = await io.batch([{ key: keys.blob(id), bytes: value }]);
        return E.isLeft(w) ? w : E.right(id);
      }),

    getBlob: (blobId) =>
      guard(async () => {
        if (!isDigest(blobId)) return E.left(invalidArgument('blobId', 'expected sha256:<64 lowercase hex>'));
        const raw = await io.getBytes(keys.blob(blobId));
        if (E.isLeft(raw)) return raw;
        if (raw.right === undefined) return E.left(blobNotFound(blobId));
        const value = raw.right;
        if (sha256OfBytes(value) !== blobId) return E.left(corruptBlob(blobId, 'the stored bytes do not hash to the blob id'));
        const sep = value.indexOf(0);
        if (sep <= 0) return E.left(corruptBlob(blobId, 'no media type before the 0x00 separator'));
        let mediaType: string;
        try {
          mediaType = new TextDecoder('utf-8', { fatal: true }).decode(value.subarray(0, sep));
        } catch {
          return E.left(corruptBlob(blobId, 'the media type is not UTF-8'));
        }
        return E.right({ mediaType, bytes: Uint8Array.from(value.subarray(sep + 1)) });
      }),

    anchor: () =>
      guard(async () => {
        const headers = await readHeaders(io);
        if (E.isLeft(headers)) return headers;
        const heads: AnchorHead[] = [];
        for (const h of headers.right) {
          const checked = await checkHeaderAgainstLog(io, h.sessionId, h);
          if (E.isLeft(checked)) return checked;
          heads.push({ sessionId: h.sessionId, seq: checked.right.seq, hash: checked.right.hash });
        }
        return E.right(anchorOf(heads));
      }),

    verifyAnchors: (anchors) =>
      guard(() =>
        checkAnchors<StoreError>(anchors, async (sid, seq) => {
          if (sessionIdProblem(sid) !== undefined) return E.right('no-session');
          const h = await io.header(sid);
          if (E.isLeft(h)) return h;
          if (h.right === undefined) return E.right('no-session');
          const raw = await io.get(keys.record(sid, seq));
          if (E.isLeft(raw)) return raw;
          if (raw.right === undefined) return E.right(undefined);
          const r = decodeStoredRecord(sid, seq, raw.right);
          return E.isLeft(r) ? r : E.right(r.right.hash);
        }),
      ),

    close: async () => {
      if (closed) return E.right(undefined);
      closed = true;
      await writers.idle();
      cache.clear();
      return io.close();
    },
  };
  return store;
};

/** The revision index said `revision` became the head at `session.seq`: the loaded session must have it. */
const checkRevisionIndex = (sid: string, revision: Digest, session: Session): E.Either<StoreError, void> =>
  session.transcriptRevision() === revision
    ? E.right(undefined)
    : E.left(corruptRecord(sid, session.seq, `the revision index says ${revision} became the head at record ${session.seq}, whose revision is ${session.transcriptRevision()}`));

/** Every session header, in id order (a header that does not decode is `CorruptRecord`). */
const readHeaders = async (io: Io): Promise<E.Either<StoreError, SessionHeader[]>> => {
  const out: SessionHeader[] = [];
  for await (const batch of io.scan(prefixRange(keys.headerPrefix))) {
    if (E.isLeft(batch)) return batch;
    for (const [k, v] of batch.right) {
      const h = decodeHeaderOf(k.slice(keys.headerPrefix.length), v);
      if (E.isLeft(h)) return h;
      out.push(h.right);
    }
  }
  return E.right(out);
};

const decodeHeaderOf = (sid: string, raw: string): E.Either<StoreError, SessionHeader> => {
  const p = sessionIdProblem(sid);
  if (p !== undefined) return E.left(corruptRecord(sid, 0, `header key with an invalid session id: ${p}`));
  return decodeHeader(sid, raw);
};

/** Opens a store: `SessionStore.open(path, options)`. */
export const SessionStore = { open } as const;
