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
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../model/json.ts';
import type { Message } from '../model/message.ts';
import type { BlobId, Digest } from '../model/scalars.ts';
import type { Applied, Clock, Session } from '../session/session.ts';
import type { ResultsOf } from '../session/results.ts';
import type { LogRecord } from '../session/record.ts';
import type { ForkMode } from '../session/commands.ts';
import type { TranscriptReplacement, TranscriptRewriteCommit } from '../transcript/index.ts';
import { invalidArgument, type StoreError } from './errors.ts';
import type { HeaderFork, Io } from './io.ts';
import { openIo, type StoreTarget } from './open.ts';
import type { SessionVerifyReport, VerifyProgress } from './verify.ts';
import { keyedMutex } from './keyedMutex.ts';
import type { Anchor, AnchorHead, AnchorProblem } from './anchors.ts';
import { sessionCache } from './sessionCache.ts';
import type { StoreContext } from './context.ts';
import { loadAt, readLog, streamLog } from './load.ts';
import { appendCommands, archiveSession, createSession, updateSession } from './write.ts';
import { forkWith } from './forks.ts';
import { anchorHeads, childrenOf, lineageOf, listSessions, revisionGraph, revisionMessagesOf, verifyAnchorsOf, verifySessions } from './queries.ts';
import { getBlob, putBlob } from './blobs.ts';

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
   * With `snapshot: true`, a plan that added records also writes a snapshot at
   * the new head in the same batch, so a load after `evict` replays no records
   * (a long writer's last batch: the pi import's, whose last records may hold
   * a 16 MB line a replay would decode again).
   */
  update<A, Err = never>(sessionId: string, plan: UpdatePlan<A, Err>, opts?: { readonly expectedSeq?: number; readonly snapshot?: boolean }): Promise<E.Either<StoreError | Err, UpdateResult<A>>>;
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
  /**
   * Drops the in-memory state kept of `sessionId` (the cache of its latest
   * session), so its next use loads it from its newest snapshot (messages and
   * revisions read lazily) plus the records after it. For a long writer such as
   * a pi import, so memory does not grow with the session it writes. Changes
   * nothing stored; an unknown id does nothing.
   */
  evict(sessionId: string): void;
  /** Waits for pending writes and closes the database; later calls give `StoreClosed`. */
  close(): Promise<E.Either<StoreError, void>>;
}

const DEFAULT_SNAPSHOT_EVERY = 1000;
const DEFAULT_CACHE_SIZE = 64;

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

/** The `SessionStore` over one open backend: each function is the module function of its job, given this store's context. */
const makeStore = (io: Io, cfg: { readonly snapshotEvery: number; readonly cacheSize: number; readonly clock: Clock; readonly onCommit?: (head: AnchorHead) => void }): SessionStore => {
  let closed = false;
  const writers = keyedMutex();
  const cache = sessionCache(cfg.cacheSize);
  const ctx: StoreContext = {
    io,
    snapshotEvery: cfg.snapshotEvery,
    clock: cfg.clock,
    ...(cfg.onCommit !== undefined ? { onCommit: cfg.onCommit } : {}),
    cache,
    writers,
    isClosed: () => closed,
  };
  return {
    path: io.path,
    create: (opts) => createSession(ctx, opts),
    append: (sessionId, list, opts) => appendCommands(ctx, sessionId, list, opts),
    update: (sessionId, plan, opts = {}) => updateSession(ctx, sessionId, plan, opts),
    load: (sessionId, opts) => loadAt(ctx, sessionId, opts),
    fork: (sessionId, opts = {}) => forkWith(ctx, sessionId, opts, (p, o) => E.right(p.fork(o))),
    forkAt: (sessionId, index, opts = {}) =>
      typeof index === 'number' && Number.isFinite(index)
        ? forkWith(ctx, sessionId, opts, (p, o) => E.right(p.forkAt(index, o)), index)
        : Promise.resolve(E.left(invalidArgument('index', 'expected a finite number'))),
    forkReplacing: (sessionId, index, replacement, opts = {}) =>
      forkWith(ctx, sessionId, opts, (p, o) => p.forkReplacing(index, replacement, o), typeof index === 'number' && Number.isInteger(index) ? index + 1 : undefined),
    list: () => listSessions(ctx),
    log: (sessionId, range) => readLog(ctx, sessionId, range),
    logStream: (sessionId, range) => streamLog(ctx, sessionId, range),
    revisions: (sessionId) => revisionGraph(ctx, sessionId),
    lineage: (sessionId) => lineageOf(ctx, sessionId),
    children: (sessionId) => childrenOf(ctx, sessionId),
    verify: (sessionId, opts) => verifySessions(ctx, sessionId, opts),
    archive: (sessionId, reason) => archiveSession(ctx, sessionId, reason),
    revisionMessages: (sessionId, revision) => revisionMessagesOf(ctx, sessionId, revision),
    putBlob: (mediaType, bytes) => putBlob(ctx, mediaType, bytes),
    getBlob: (blobId) => getBlob(ctx, blobId),
    anchor: () => anchorHeads(ctx),
    verifyAnchors: (anchors) => verifyAnchorsOf(ctx, anchors),
    evict: (sessionId) => cache.delete(sessionId),
    close: async () => {
      if (closed) return E.right(undefined);
      closed = true;
      await writers.idle();
      cache.clear();
      return io.close();
    },
  };
};

/** Opens a store: `SessionStore.open(path, options)`. */
export const SessionStore = { open } as const;
